using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;

namespace Ledger.Tests.Support;

/// <summary>
/// Several account contracts wired by a simulated network that the test controls: messages between payer
/// and payee wait in <see cref="Network"/> until delivered, in any order, any number of times. This is the
/// actors' protocol with the actors taken out, so every interleaving can be explored.
/// Like the actors, every account keeps only <see cref="KeepSettled"/> settled records in memory (every event
/// counts as durable at once) and reads evicted ones back from its event log through <see cref="AccountReplay"/>.
/// </summary>
public sealed class ContractWorld(int keepSettled = int.MaxValue)
{
    public int KeepSettled { get; } = keepSettled;
    public Dictionary<AccountId, AccountState> Accounts { get; } = [];
    /// <summary>Every event each account applied, in order: its journal.</summary>
    public Dictionary<AccountId, List<IAccountEvent>> Journals { get; } = [];
    /// <summary>How many times a decision had to read a record back.</summary>
    public int ReadBacks { get; private set; }
    /// <summary>Owed deliveries (payer → payee) and acknowledgements (payee → payer) not yet handled.</summary>
    public List<Message> Network { get; } = [];
    public long Now { get; set; } = 1_700_000_000_000;

    public abstract record Message;
    public sealed record DeliveryMessage(AccountId Payer, AccountId Payee, DeliveryItem Item) : Message;
    public sealed record AckMessage(AccountId Payer, DeliveryResult Result) : Message;

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
        }
        return s;
    }

    public void Open(string id) => Apply(State(new(id)), AccountContract.Open(State(new(id)), id, Now).Events);

    public void Issue(string issuer, string asset) => Apply(State(new(issuer)), AccountContract.GrantIssuer(State(new(issuer)), new(asset), Now));

    public Decision Transfer(string from, string to, string asset, Amount amount, string id, bool pending = false, long? timeoutMs = null) =>
        Run(from, s => AccountContract.StartTransfer(s, new TransferRequest(new(id), new(to), new(asset), amount, pending, timeoutMs), Now));

    public Decision Post(string from, string id, Amount? amount = null) => Run(from, s => AccountContract.Post(s, new(id), amount, Now));

    public Decision Void(string from, string id) => Run(from, s => AccountContract.Void(s, new(id), Now));

    public void Expire(string account)
    {
        var s = State(new(account));
        var events = AccountContract.ExpireDue(s, Now);
        Apply(s, events);
        Owe(s, events);
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
        Owe(s, d.Events);
        return d;
    }

    private void Owe(AccountState payer, IEnumerable<IAccountEvent> events)
    {
        foreach (var e in events)
        {
            TxId? id = e switch
            {
                TransferDebited d => d.Id,
                PendingPosted p => p.Id,
                PendingVoided v => v.Id,
                PendingExpired x => x.Id,
                _ => null,
            };
            if (id is { } tx)
            {
                var t = payer.Outgoing[tx];
                Network.Add(new DeliveryMessage(payer.Id, t.To, AccountContract.Owed(t)));
            }
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
                    Apply(payer, AccountContract.Acknowledge(payer, a.Result, Now));
                    // Like the actor's redelivery: what is still owed is sent again.
                    if (payer.Outgoing.TryGetValue(a.Result.Id, out var t) && t.AwaitsDelivery && a.Result.Step < t.StepsOwed)
                        Network.Add(new DeliveryMessage(payer.Id, t.To, AccountContract.Owed(t)));
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

    private void Apply(AccountState s, IEnumerable<IAccountEvent> events)
    {
        // Like the actor: one lower bound for everything applied at once (here each event is a row of its own).
        s.JournalSeq = Journals[s.Id].Count + 1;
        foreach (var e in events)
        {
            AccountContract.Apply(s, e);
            Journals[s.Id].Add(e);
        }
        s.Evict(KeepSettled, s.SettledTotal);
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
