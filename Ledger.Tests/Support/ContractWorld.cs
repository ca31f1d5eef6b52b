using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Tests.Support;

/// <summary>
/// Several account contracts wired by a simulated network that the test controls: messages between payer
/// and payee wait in <see cref="Network"/> until delivered, in any order, any number of times. The payer's side is the
/// actor's own <see cref="Outbox"/> (what is owed, sent, answered and deferred); only the messages and the journal are
/// simulated, so every interleaving of the actors' protocol can be explored.
/// Like the actors, every account keeps only <see cref="KeepSettled"/> settled records in memory (every event
/// counts as durable at once) and reads evicted ones back from its event log through <see cref="AccountReplay"/>.
/// <para>
/// Beside that log (<see cref="Journals"/>: everything applied), each account's journal is also kept as the actor writes
/// it (<see cref="Written"/>): the records the outbox defers — a payee's acknowledgement (<see cref="DeliveryAcknowledged"/>,
/// <see cref="TransferCompensated"/>) and a pool's answer (<see cref="PoolCallAnswered"/>) — wait in <see cref="Deferred"/>
/// and are written at the front of the account's next write, or alone by <see cref="WriteDeferred"/> (the actor's 2 s
/// flush; at once, <see cref="WriteUrgent"/>, for a reservation's). Pools (<see cref="Pools"/>) decide with
/// <see cref="PoolContract"/> and keep their answer per (account, id), as the pool actor does.
/// </para>
/// </summary>
public sealed class ContractWorld(int keepSettled = int.MaxValue)
{
    public int KeepSettled { get; } = keepSettled;
    public Dictionary<AccountId, AccountState> Accounts { get; } = [];
    /// <summary>Every event each account applied, in order: its journal.</summary>
    public Dictionary<AccountId, List<IAccountEvent>> Journals { get; } = [];
    /// <summary>Each account's journal as the actor writes it: <see cref="Journals"/> less what is still <see cref="Deferred"/>.</summary>
    public Dictionary<AccountId, List<IAccountEvent>> Written { get; } = [];
    /// <summary>Each account's outbox, the payer's side of the protocol.</summary>
    public Dictionary<AccountId, Outbox> Outboxes { get; } = [];
    /// <summary>Each account's deferred records: applied, not yet written (lost if it crashed now).</summary>
    public IReadOnlyDictionary<AccountId, IReadOnlyList<IAccountEvent>> Deferred => Outboxes.ToDictionary(kv => kv.Key, kv => kv.Value.Deferred);
    public Dictionary<PoolId, PoolState> Pools { get; } = [];
    /// <summary>How many times a decision had to read a record back.</summary>
    public int ReadBacks { get; private set; }
    /// <summary>Owed deliveries (payer → payee) and acknowledgements (payee → payer) not yet handled.</summary>
    public List<Message> Network { get; } = [];
    public long Now { get; set; } = 1_700_000_000_000;

    public abstract record Message;
    public sealed record DeliveryMessage(AccountId Payer, AccountId Payee, DeliveryItem Item) : Message;
    public sealed record AckMessage(AccountId Payer, DeliveryResult Result) : Message;
    public sealed record PoolCallMessage(AccountId Account, TxId Id, PoolCall Call) : Message;
    public sealed record PoolAnswerMessage(AccountId Account, TxId Id, CallAnswer Answer) : Message;

    /// <summary>alice and bob open, bank the issuer of USD, alice holding 1,000 USD minted by bank.</summary>
    public static ContractWorld AliceBobAndBank(int keepSettled = int.MaxValue)
    {
        var w = new ContractWorld(keepSettled);
        w.Open("alice");
        w.Open("bob");
        w.Issue("bank", "USD");
        w.Transfer("bank", "alice", "USD", 1_000, "mint");
        w.DeliverAll();
        return w;
    }

    public AccountState State(AccountId id)
    {
        if (!Accounts.TryGetValue(id, out var s))
        {
            Accounts[id] = s = new AccountState { Id = id, HistoryKeep = Math.Min(KeepSettled, 1_000) + 1 };
            Journals[id] = [];
            Written[id] = [];
            Outboxes[id] = new Outbox();
        }
        return s;
    }

    public void Open(string id) => Apply(State(new(id)), AccountContract.Open(State(new(id)), id, Now).Events);

    public void Issue(string issuer, string asset) => Apply(State(new(issuer)), AccountContract.GrantIssuer(State(new(issuer)), new(asset), Now));

    public Decision Transfer(string from, string to, string asset, Amount amount, string id, bool pending = false, long? timeoutMs = null) =>
        Run(from, s => AccountContract.StartTransfer(s, new TransferRequest(new(id), new(to), new(asset), amount, pending, timeoutMs), Now));

    /// <summary>A transfer request as given (balancing, user data…).</summary>
    public Decision Submit(string from, TransferRequest request) => Run(from, s => AccountContract.StartTransfer(s, request, Now));

    public Decision Close(string account) => Run(account, s => AccountContract.Close(s, Now));

    public Decision Post(string from, string id, Amount? amount = null) => Run(from, s => AccountContract.Post(s, new(id), amount, Now));

    public Decision Void(string from, string id) => Run(from, s => AccountContract.Void(s, new(id), Now));

    public PoolState Pool(PoolId id)
    {
        if (!Pools.TryGetValue(id, out var p)) Pools[id] = p = new PoolState { Id = id };
        return p;
    }

    public void CreatePool(string id, string assetA, string assetB, int feeBps = 30)
    {
        var p = Pool(new(id));
        foreach (var e in PoolContract.Create(p, new(assetA), new(assetB), feeBps, Now).Events) PoolContract.Apply(p, e);
    }

    public Decision CallPool(string account, string id, PoolCall call) => Run(account, s => AccountContract.CallPool(s, new(id), call, Now));

    public void Expire(string account)
    {
        var s = State(new(account));
        var events = AccountContract.ExpireDue(s, Now);
        Apply(s, events);
        Send(s);
    }

    private Decision Run(string account, Func<AccountState, Decision> decide)
    {
        var s = State(new(account));
        var d = decide(s);
        if (d.Recall is { } key)
        {
            ReadBack(s, key);
            d = decide(s);
        }
        Apply(s, d.Events);
        Send(s);
        return d;
    }

    /// <summary>Puts on the network what the payer's outbox says is due (redelivery is the test's to choose: never by time).</summary>
    private void Send(AccountState payer)
    {
        foreach (var t in Outboxes[payer.Id].Due(payer, Now, long.MaxValue, force: false) ?? [])
        {
            if (t.Call is { } call) Network.Add(new PoolCallMessage(payer.Id, t.Id, call));
            else Network.Add(new DeliveryMessage(payer.Id, t.To, AccountContract.Owed(t)));
        }
    }

    /// <summary>Handles one message; with <paramref name="duplicate"/> it stays in the network to be delivered again.</summary>
    public void Handle(int index, bool duplicate = false)
    {
        var m = Network[index];
        if (!duplicate) Network.RemoveAt(index);
        switch (m)
        {
            case DeliveryMessage d:
                {
                    var payee = State(d.Payee);
                    // The payer only sends step 2 after step 1 was acknowledged: a reordered step 2 waits.
                    var receipt = AccountContract.Receive(payee, d.Payer, d.Item, Now);
                    if (receipt.Recall is { } key)
                    {
                        ReadBack(payee, key);
                        receipt = AccountContract.Receive(payee, d.Payer, d.Item, Now);
                    }
                    var (events, result, _) = receipt;
                    Apply(payee, events);
                    if (result is not null) Network.Add(new AckMessage(d.Payer, result));
                    else if (!duplicate) Network.Add(d);
                    break;
                }
            case AckMessage a:
                {
                    var payer = State(a.Payer);
                    Deferring(payer, outbox => outbox.Acknowledged(payer, a.Result, Now));
                    // What is still owed (a step decided meanwhile) is sent at once.
                    Send(payer);
                    break;
                }
            case PoolCallMessage c:
                {
                    // The pool decides a key once and answers it the same way ever after.
                    var pool = Pool(c.Call.Pool);
                    if (pool.Answers.Find(c.Account, c.Id, out var answer) != Known.Resident)
                    {
                        var decided = PoolContract.Decide(pool, c.Account, c.Id, c.Call, Now);
                        PoolContract.Apply(pool, decided);
                        answer = new CallAnswer(decided.Out, decided.Code);
                    }
                    Network.Add(new PoolAnswerMessage(c.Account, c.Id, answer!));
                    break;
                }
            case PoolAnswerMessage a:
                {
                    var account = State(a.Account);
                    Deferring(account, outbox => outbox.Answered(account, a.Id, a.Answer, Now));
                    break;
                }
        }
    }

    public void DeliverAll()
    {
        for (var guard = 0; Network.Count > 0; guard++)
        {
            if (guard > 100_000) throw new InvalidOperationException("network does not drain");
            Handle(0);
        }
    }

    /// <summary>Applies decided events as one write (what was deferred first: journal order is the order applied).</summary>
    private void Apply(AccountState s, IReadOnlyList<IAccountEvent> events)
    {
        // Like the actor: one lower bound for everything applied at once (here each event is a row of its own).
        s.JournalSeq = Journals[s.Id].Count + 1;
        foreach (var e in events)
        {
            AccountContract.Apply(s, e);
            Journals[s.Id].Add(e);
            Outboxes[s.Id].Decided(e);
        }
        if (events.Count > 0)
        {
            WriteDeferred(s.Id);
            Written[s.Id].AddRange(events);
        }
        s.Evict(KeepSettled, s.SettledTotal);
    }

    /// <summary>An answer the outbox applies and defers: what it applied joins the journal, not yet the written one.</summary>
    private void Deferring(AccountState s, Action<Outbox> answer)
    {
        var outbox = Outboxes[s.Id];
        s.JournalSeq = Journals[s.Id].Count + 1;
        var before = outbox.Deferred.Count;
        answer(outbox);
        Journals[s.Id].AddRange(outbox.Deferred.Skip(before));
        s.Evict(KeepSettled, s.SettledTotal);
    }

    /// <summary>Writes an account's deferred records on their own (the actor's flush after <c>DeferredFlushAfter</c>).</summary>
    public void WriteDeferred(AccountId id)
    {
        var write = new List<IAccountEvent>();
        Outboxes[id].TakeDeferred(write);
        Written[id].AddRange(write);
    }

    /// <summary>Writes every reservation's deferred acknowledgement: the actor does so at once, though after answering.</summary>
    public void WriteUrgent()
    {
        foreach (var (id, outbox) in Outboxes)
            if (outbox.WriteSoon) WriteDeferred(id);
    }

    /// <summary>What the actor's reader does: replays the account's journal for one record, from where it was made.</summary>
    private void ReadBack(AccountState s, (AccountId From, TxId Id) key)
    {
        ReadBacks++;
        var replay = Replay(s.Id, new AccountReplay(s.Id, [key]), s.ReadFrom([AccountState.KeyHash(key.From, key.Id)]));
        s.Remember(replay.Found, replay.NotFound);
    }

    /// <summary>How many journal rows (here: events) read-backs have read.</summary>
    public long RowsRead { get; private set; }

    /// <summary>Folds the journal from sequence number <paramref name="from"/> (1: the first event) until the replay is done.</summary>
    public AccountReplay Replay(AccountId id, AccountReplay replay, long from = 1)
    {
        foreach (var e in Journals[id].Skip((int)Math.Max(0, from - 1)))
        {
            RowsRead++;
            replay.Apply(e);
            if (replay.Done) break;
        }
        return replay;
    }

    /// <summary>The history entries at positions [<paramref name="start"/>, <paramref name="end"/>), read back as the actor does.</summary>
    public IReadOnlyList<Transfer> Page(AccountId id, long start, long end)
    {
        var s = State(id);
        if (start < s.HistoryKeysFrom) return Replay(id, new AccountReplay(id, [], null, start, end)).Positions;
        var hashes = Enumerable.Range(0, (int)(end - start)).Select(i => s.HistoryKeyAt(start + i)!.Value).ToArray();
        var replay = Replay(id, new AccountReplay(id, [], hashes), s.ReadFrom(hashes));
        return [.. hashes.Select(replay.HistoryEntry).OfType<Transfer>()];
    }

    /// <summary>A record as the account knows it, from memory or read back.</summary>
    public Transfer? Record(AccountId account, AccountId from, TxId id)
    {
        var s = State(account);
        var known = from == account ? s.FindOutgoing(id, out var t) : s.FindIncoming(from, id, out t);
        return known == Known.Evicted
            ? Replay(account, new AccountReplay(account, [(from, id)]), s.ReadFrom([AccountState.KeyHash(from, id)])).Found.SingleOrDefault()
            : t;
    }

    /// <summary>Payee side: has delivery <paramref name="step"/> of this payer's transfer been applied here?</summary>
    private bool HasApplied(AccountId payee, AccountId payer, TxId id, int step) =>
        Accounts.ContainsKey(payee) && Record(payee, payer, id) is { } t
        && t.Status != TransferStatus.Rejected && (step == 1 || t.Status != TransferStatus.Pending);

    /// <summary>Per asset: all posted balances plus all value in flight. Conservation says this is zero.</summary>
    public Dictionary<AssetId, Int128> Sums()
    {
        var sums = new Dictionary<AssetId, Int128>();
        foreach (var s in Accounts.Values)
        {
            foreach (var (asset, b) in s.Balances) sums[asset] = sums.GetValueOrDefault(asset) + b.Posted;
            foreach (var (t, step, asset, amount) in s.Unconfirmed())
                if (!HasApplied(t.To, s.Id, t.Id, step)) sums[asset] = sums.GetValueOrDefault(asset) + (Int128)amount.Value;
        }
        return sums;
    }

    public Balance Balance(string account, string asset) =>
        State(new(account)).Balances.GetValueOrDefault(new AssetId(asset)) ?? new Balance();
}
