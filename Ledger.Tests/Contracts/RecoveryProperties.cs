using System.Globalization;
using FsCheck;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

/// <summary>
/// Replaying any prefix of an account's journal, as the actor wrote it, and settling what it shows in flight the way the
/// recovery hold does (<c>AccountActor.SettleRecovery</c>) gives a state that never contradicts an outcome already
/// answered (docs/architecture.md, "After a crash: what a client was told").
/// <para>
/// A world of four accounts, an issuer, an account that does not exist and a pool runs random scripts: transfers (some to
/// the missing account: compensated), reservations, posts, voids, expiries, swaps (some refused by the pool: refunded),
/// deliveries and answers handled in any order and more than once, and the deferred records' own flush. Each account's
/// journal is kept as the actor writes it (<see cref="ContractWorld.Written"/>): acknowledgements, compensations and pool
/// answers are deferred, applied at once but written only at the front of the account's next write. Clients are answered
/// as the actor answers them (a transfer once its payee has answered, a reservation once confirmed, a post or void once
/// delivered, a swap once the pool has answered; reads at once), and what each was told is recorded.
/// </para>
/// <para>
/// After every step one account picked by the script, and every account that deferred a record in that step (an answer
/// just given, its record not yet written), crashes: its written journal is replayed with <see cref="AccountContract.Apply"/>
/// into a fresh state, and every transfer or call it shows in flight is answered again — the payee's
/// <see cref="AccountContract.Receive"/> on the payee's own written journal, the pool's recorded answer — before anything is
/// read. That state must hold every answered outcome, and equal, balance for balance and record for record, the live
/// account with its own in-flight items settled by an independent model (the payee's record, or the pool's answer, applied by
/// hand). Without the settling step some crash points must show a contradiction (counted and given a floor): that is what
/// shows the deferred records were exercised. Expiry is left out on both sides: the timer that expires a reservation
/// after a restart would have expired it without one.
/// </para>
/// </summary>
public class RecoveryProperties(ITestOutputHelper output)
{
    private static readonly string[] Payers = ["a0", "a1", "a2", "a3", "issuer"];
    private static readonly string[] Payees = ["a0", "a1", "a2", "a3", "issuer", "ghost"];
    private static readonly string[] Assets = ["USD", "EUR"];
    private static readonly PoolId UsdEur = new("usd-eur");
    private static readonly PoolId NoPool = new("no-such-pool");

    /// <summary>Scripts of up to 100 uniformly random words, one a step (as in <see cref="AccountProperties"/>).</summary>
    private static readonly Gen<uint[]> Scripts = Gens.Script(Gens.Word, 0, 100);

    /// <summary>What a client was told about a transaction: its record's view, or (<paramref name="Full"/> false) only its status.</summary>
    private sealed record Answer(TransferStatus Status, string? Code, Amount? PostedAmount, bool Full);

    private sealed record Record(TransferStatus Status, string? Code, Amount? PostedAmount);

    private sealed record Triple(Int128 Posted, Amount PendingOut, Amount PendingIn)
    {
        public static readonly Triple Zero = new(0, Amount.Zero, Amount.Zero);

        public static Triple Of(Balance? b) => b is null ? Zero : new(b.Posted, b.PendingOut, b.PendingIn);
    }

    /// <summary>The balances a client read, and how many events the account had applied then.</summary>
    private sealed record Read(int Events, Dictionary<AssetId, Triple> Balances);

    /// <summary>What clients were told (the latest answer per account and transaction), and who still waits.</summary>
    private sealed class Clients
    {
        public Dictionary<(AccountId Account, TxId Id), Answer> Answered { get; } = [];
        public List<(AccountId Account, TxId Id)> Waiting { get; } = [];
        public Dictionary<AccountId, Read> LastRead { get; } = [];
    }

    /// <summary>What an account must show after recovery: balances and records, per the live world.</summary>
    private sealed class Books
    {
        public Dictionary<AssetId, Triple> Balances { get; } = [];
        public Dictionary<TxId, Record> Outgoing { get; } = [];
        public Dictionary<(AccountId, TxId), Record> Incoming { get; } = [];

        public void Move(AssetId asset, Int128 posted, Amount pendingOutDown)
        {
            var b = Balances.GetValueOrDefault(asset) ?? Triple.Zero;
            Balances[asset] = b with { Posted = checked(b.Posted + posted), PendingOut = b.PendingOut - pendingOutDown };
        }
    }

    private string? _failure;

    [Fact]
    public void Replaying_a_journal_prefix_and_settling_what_it_shows_in_flight_never_contradicts_an_answer()
    {
        var seen = new Coverage();
        try
        {
            PropertyRun.Check(Scripts, script => Holds(script, seen), maxTest: 200, seed: 20_06_01, shrink: PropertyRun.ShrinkScript);
        }
        finally
        {
            if (_failure is not null) output.WriteLine("last contradiction: " + _failure);
        }
        // About half of what the seed reaches, and never below the issue's floors.
        seen.AssertFloors(output,
            ("crash point", 5_000), ("crash: in-flight items settled", 3_000),
            ("crash: deferred acknowledgement lost", 1_000), ("crash: deferred compensation lost", 200),
            ("crash: deferred pool answer lost", 800),
            ("crash: answered transfer, its acknowledgement lost", 700), ("crash: answered compensation lost", 200),
            ("crash: answered pool call, its answer lost", 700),
            ("crash: answered reservation", 250), ("crash: answered reservation, its acknowledgement lost", 100),
            ("crash: answered post", 200), ("crash: answered post, its acknowledgement lost", 30),
            ("crash: answered void", 200), ("crash: answered void, its acknowledgement lost", 30),
            ("crash: right after a read", 2_000),
            ("contradicted without settling", 3_000), ("an answer contradicted without settling", 1_500),
            ("balances read at the crash contradicted without settling", 500),
            ("answered transfer", 400), ("answered rejected account_not_found", 120), ("answered reservation", 120),
            ("answered post", 40), ("answered void", 40), ("answered swap", 250), ("answered swap refused slippage_exceeded", 50),
            ("answered swap refused pool_not_found", 40));
    }

    private bool Holds(uint[] script, Coverage seen)
    {
        var w = new ContractWorld();
        foreach (var u in Payers[..4]) w.Open(u);
        foreach (var asset in Assets) w.Issue("issuer", asset);
        foreach (var u in Payers[..4])
            foreach (var asset in Assets)
                w.Transfer("issuer", u, asset, 2_000, $"seed-{u}-{asset}");
        w.CreatePool(UsdEur.Value, "USD", "EUR");
        w.CallPool("issuer", "seed-pool", new PoolCall(UsdEur, PoolCallKind.Deposit, [new Leg(new("USD"), 1_000_000), new Leg(new("EUR"), 1_000_000)]));
        w.DeliverAll();
        var clients = new Clients();
        for (var n = 0; n < script.Length; n++)
        {
            var v = script[n];
            // A reservation's acknowledgement is written at once — but after its client was answered (the previous step).
            w.WriteUrgent();
            var deferred = w.Deferred.ToDictionary(kv => kv.Key, kv => kv.Value.Count);
            Step(w, clients, v, n);
            AnswerWaiting(w, clients, seen);
            var crashing = new SortedSet<string>(StringComparer.Ordinal) { Payers[(int)((v >> 25) % (uint)Payers.Length)] };
            foreach (var (id, list) in w.Deferred)
                if (list.Count > deferred.GetValueOrDefault(id)) crashing.Add(id.Value);
            foreach (var account in crashing)
            {
                var failure = CrashAt(w, clients, new AccountId(account), seen);
                if (failure is null) continue;
                _failure = $"step {n} of {script.Length}, {account}: {failure}";
                return false;
            }
        }
        return true;
    }

    /// <summary>One step of a script, read from one word.</summary>
    private static void Step(ContractWorld w, Clients clients, uint v, int n)
    {
        string Pick(string[] xs, int shift) => xs[(int)((v >> shift) % (uint)xs.Length)];
        // One amount in eight is a thousand times larger, more than anyone holds.
        var amount = (ulong)((v >> 12) % 500) * ((v >> 29) == 0 ? 1_000UL : 1UL);
        var asset = Pick(Assets, 20);
        var from = Pick(Payers, 4);
        var to = Pick(Payees, 8);
        var id = "t" + n.ToString(CultureInfo.InvariantCulture);
        switch (v % 16)
        {
            case 0:
            case 1:
            case 2:
                Track(new(from), null, w.Transfer(from, to, asset, amount, id));
                break;
            case 3:
                Track(new(from), null, w.Transfer(from, to, asset, amount, id, pending: true, timeoutMs: (v >> 24) % 3 == 0 ? null : 50));
                break;
            case 4:
            case 5:
            case 6:
                {
                    // A post (of all or part) or a void of an open reservation, one in two each.
                    var (payer, pending) = OpenFrom(w, from);
                    if (pending is null) break;
                    var d = (v % 16 == 5 ? (v >> 21) % 2 : v % 16 - 4) == 0
                        ? w.Post(payer, pending.Id.Value, (v >> 22) % 2 == 0 ? null : Amount.Min(amount + 1, pending.Amount))
                        : w.Void(payer, pending.Id.Value);
                    Track(new(payer), pending.Id, d);
                    break;
                }
            case 7:
                w.Now += (v >> 10) % 40;
                w.Expire(from);
                break;
            case 8:
            case 9:
                {
                    // A swap: exact input with a minimum out (above the price one time in four: slippage), or exact output with
                    // change; one in eight on a pool that does not exist.
                    var other = asset == "USD" ? "EUR" : "USD";
                    var pool = (v >> 24) % 8 == 0 ? NoPool : UsdEur;
                    var call = (v >> 27) % 3 == 0
                        ? new PoolCall(pool, PoolCallKind.SwapExactOut, [new Leg(new(asset), amount)], new(other), AmountOut: amount / 2 + 1)
                        : new PoolCall(pool, PoolCallKind.SwapExactIn, [new Leg(new(asset), amount)], new(other), MinOut: amount * ((v >> 9) % 8) / 6);
                    Track(new(from), null, w.CallPool(from, id, call));
                    break;
                }
            case 10:
                {
                    // A client reads: the account's balances, or one of its transactions (one in flight: once it is settled).
                    var account = w.State(new(from));
                    if ((v >> 30) % 2 == 0 || account.Outgoing.Count == 0)
                    {
                        clients.LastRead[account.Id] = ReadOf(w, account.Id);
                        break;
                    }
                    var tx = account.Outgoing.Keys.OrderBy(k => k.Value, StringComparer.Ordinal).ElementAt((int)((v >> 14) % (uint)account.Outgoing.Count));
                    if (account.Outgoing[tx].Status == TransferStatus.InFlight) clients.Waiting.Add((account.Id, tx));
                    else Tell(w, clients, account.Id, tx);
                    break;
                }
            case 11:
                // The deferred records' own write, after DeferredFlushAfter.
                w.WriteDeferred(new(from));
                break;
            default:
                for (var k = 0; k <= (v >> 27) % 8 && w.Network.Count > 0; k++)
                    w.Handle((int)(((v >> 5) + k) % (uint)w.Network.Count), duplicate: (v >> 30) == 1);
                break;
        }

        void Track(AccountId account, TxId? about, Decision d)
        {
            if (d.Awaits is { } awaited) clients.Waiting.Add((account, awaited));
            else if (about is { } tx && d.Rejection is { } code && code switch
            {
                Codes.AlreadyVoided => TransferStatus.Voided,
                Codes.AlreadyPosted => TransferStatus.Committed,
                Codes.PendingExpired => TransferStatus.Expired,
                _ => (TransferStatus?)null,
            } is { } status)
            {
                // A refusal that names the record's status: the client knows that much.
                if (clients.Answered.GetValueOrDefault((account, tx))?.Status != status) clients.Answered[(account, tx)] = new Answer(status, null, null, false);
            }
        }
    }

    /// <summary>Answers every client whose transaction is now as the actor answers it: decided, and nothing owed to the payee.</summary>
    private static void AnswerWaiting(ContractWorld w, Clients clients, Coverage seen)
    {
        for (var i = clients.Waiting.Count - 1; i >= 0; i--)
        {
            var (account, id) = clients.Waiting[i];
            var t = w.State(account).Outgoing[id];
            if (t.Status == TransferStatus.InFlight || t.AwaitsDelivery) continue;
            clients.Waiting.RemoveAt(i);
            Tell(w, clients, account, id);
            seen.Add("answered " + Kind(t));
        }
    }

    private static void Tell(ContractWorld w, Clients clients, AccountId account, TxId id)
    {
        var t = w.State(account).Outgoing[id];
        clients.Answered[(account, id)] = new Answer(t.Status, t.Code, t.PostedAmount, true);
        // And the balances the client could read right after.
        clients.LastRead[account] = ReadOf(w, account);
    }

    private static string Kind(Transfer t) => (t.Call, t.IsPending, t.Status) switch
    {
        ({ }, _, TransferStatus.Committed) => "swap",
        ({ }, _, _) => "swap refused " + t.Code,
        (_, _, TransferStatus.Rejected) => "rejected " + t.Code,
        (_, true, TransferStatus.Pending) => "reservation",
        (_, true, TransferStatus.Committed) => "post",
        (_, true, TransferStatus.Voided) => "void",
        (_, true, _) => "expiry",
        _ => "transfer",
    };

    private static Read ReadOf(ContractWorld w, AccountId account) =>
        new(w.Journals[account].Count, w.State(account).Balances.ToDictionary(kv => kv.Key, kv => Triple.Of(kv.Value)));

    /// <summary>The account crashes now: its recovery, settled, must contradict nothing answered. Returns the contradiction.</summary>
    private static string? CrashAt(ContractWorld w, Clients clients, AccountId id, Coverage seen)
    {
        var live = w.State(id);
        var written = w.Written[id];
        var deferred = w.Deferred[id];
        // The model of the journal itself: what is written and what is deferred are everything applied, in order.
        if (!written.Concat(deferred).SequenceEqual(w.Journals[id])) return "written + deferred is not the journal";
        var expected = Expected(w, live);
        var recovered = new AccountState { Id = id };
        foreach (var e in written) AccountContract.Apply(recovered, e);

        var raw = Contradiction(w, clients, recovered, expected);
        // What a client could read at this very moment is the live account's balances: a lost refund or pool answer shows.
        var rawBalances = recovered.Balances.Keys.Union(live.Balances.Keys)
            .Any(a => Triple.Of(recovered.Balances.GetValueOrDefault(a)) != Triple.Of(live.Balances.GetValueOrDefault(a)));
        var settled = Settle(w, recovered);
        var contradiction = Contradiction(w, clients, recovered, expected);

        seen.Add("crash point");
        seen.Add("crash: in-flight items settled", settled > 0);
        seen.Add("contradicted without settling", raw is not null);
        seen.Add("an answer contradicted without settling", raw?.StartsWith("answered", StringComparison.Ordinal) == true);
        seen.Add("balances read at the crash contradicted without settling", rawBalances);
        var acked = deferred.OfType<DeliveryAcknowledged>().Select(a => (a.Id, a.Step)).ToHashSet();
        var compensated = deferred.OfType<TransferCompensated>().Select(c => c.Id).ToHashSet();
        var poolAnswered = deferred.OfType<PoolCallAnswered>().Select(a => a.Id).ToHashSet();
        seen.Add("crash: deferred acknowledgement lost", acked.Count > 0);
        seen.Add("crash: deferred compensation lost", compensated.Count > 0);
        seen.Add("crash: deferred pool answer lost", poolAnswered.Count > 0);
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ((account, tx), answer) in clients.Answered)
        {
            if (account != id || !answer.Full) continue;
            var t = live.Outgoing[tx];
            // Counted while the live record is still what was answered.
            if (t.Status != answer.Status) continue;
            var kind = Kind(t);
            kinds.Add("crash: answered " + kind.Split(' ')[0]);
            var lost = t.Call is not null ? poolAnswered.Contains(tx)
                : t.Status == TransferStatus.Rejected ? compensated.Contains(tx)
                : acked.Contains((tx, t.IsPending && t.Status != TransferStatus.Pending ? 2 : 1));
            if (!lost) continue;
            kinds.Add(t.Call is not null ? "crash: answered pool call, its answer lost"
                : t.Status == TransferStatus.Rejected ? "crash: answered compensation lost"
                : $"crash: answered {kind}, its acknowledgement lost");
        }
        foreach (var kind in kinds) seen.Add(kind);
        seen.Add("crash: right after a read", RightAfterRead(w, clients, live) is not null);
        return contradiction;
    }

    /// <summary>
    /// The recovery hold: every transfer or call the recovered state shows in flight is answered again before anything is
    /// read — by the payee deciding the redelivered item on its own written journal (idempotent: the same answer as
    /// before), or by the pool's recorded answer. Returns how many were in flight.
    /// </summary>
    private static int Settle(ContractWorld w, AccountState s)
    {
        var payees = new Dictionary<AccountId, AccountState>();
        var inFlight = s.Outgoing.Values.Where(t => t.Status == TransferStatus.InFlight).OrderBy(t => t.Id.Value, StringComparer.Ordinal).ToList();
        foreach (var t in inFlight)
        {
            IReadOnlyList<IAccountEvent> events = Decision.None;
            if (t.Call is { } call) events = AccountContract.Answered(s, t.Id, PoolAnswerFor(w, s.Id, t.Id, call), w.Now);
            else
            {
                if (!payees.TryGetValue(t.To, out var payee)) payees[t.To] = payee = Durable(w, t.To);
                if (AccountContract.Receive(payee, s.Id, AccountContract.Owed(t), w.Now).Result is { } result)
                    events = AccountContract.Acknowledge(s, result, w.Now);
            }
            foreach (var e in events) AccountContract.Apply(s, e);
        }
        return inFlight.Count;
    }

    /// <summary>An account as its written journal has it (what a redelivery finds after a crash).</summary>
    private static AccountState Durable(ContractWorld w, AccountId id)
    {
        var s = new AccountState { Id = id };
        if (w.Written.TryGetValue(id, out var journal))
            foreach (var e in journal) AccountContract.Apply(s, e);
        return s;
    }

    /// <summary>The pool's recorded answer to the call, or (not yet decided) what it would decide now.</summary>
    private static CallAnswer PoolAnswerFor(ContractWorld w, AccountId account, TxId id, PoolCall call)
    {
        var pool = w.Pools.GetValueOrDefault(call.Pool);
        if (pool is not null && pool.Answers.TryGetValue((account, id), out var answer)) return answer;
        var decided = PoolContract.Decide(pool ?? new PoolState { Id = call.Pool }, account, id, call, w.Now);
        return new CallAnswer(decided.Out, decided.Code);
    }

    /// <summary>
    /// The live account with its own in-flight items settled by hand: a transfer's payee either holds the credit
    /// (committed; a reservation confirmed) or refused it (the amount back), and a call gets the pool's answer credited.
    /// </summary>
    private static Books Expected(ContractWorld w, AccountState live)
    {
        var books = new Books();
        foreach (var (asset, b) in live.Balances) books.Balances[asset] = Triple.Of(b);
        foreach (var t in live.Incoming.Values) books.Incoming[(t.From, t.Id)] = new Record(t.Status, t.Code, t.PostedAmount);
        foreach (var t in live.Outgoing.Values)
        {
            var record = new Record(t.Status, t.Code, t.PostedAmount);
            if (t.Status == TransferStatus.InFlight && t.Call is { } call)
            {
                var answer = PoolAnswerFor(w, live.Id, t.Id, call);
                foreach (var leg in answer.Out) books.Move(leg.Asset, (Int128)leg.Amount.Value, Amount.Zero);
                record = new Record(answer.Code is null ? TransferStatus.Committed : TransferStatus.Rejected, answer.Code, null);
            }
            else if (t.Status == TransferStatus.InFlight)
            {
                var refused = w.Accounts.TryGetValue(t.To, out var payee) && payee.Incoming.TryGetValue((live.Id, t.Id), out var credit)
                    ? (credit.Status == TransferStatus.Rejected ? credit.Code : null)
                    : payee is { Exists: true } ? null : Codes.AccountNotFound;
                if (refused is null) record = new Record(t.IsPending ? TransferStatus.Pending : TransferStatus.Committed, null, null);
                else
                {
                    record = new Record(TransferStatus.Rejected, refused, null);
                    if (t.IsPending) books.Move(t.Asset, 0, t.Amount);
                    else books.Move(t.Asset, (Int128)t.Amount.Value, Amount.Zero);
                }
            }
            books.Outgoing[t.Id] = record;
        }
        return books;
    }

    /// <summary>Where the recovered state differs from the expected books or from an answer; null when it does not.</summary>
    private static string? Contradiction(ContractWorld w, Clients clients, AccountState s, Books expected)
    {
        foreach (var ((account, tx), answer) in clients.Answered)
        {
            if (account != s.Id) continue;
            if (!s.Outgoing.TryGetValue(tx, out var t)) return $"answered {tx.Value} {answer}: no record";
            var same = t.Status == answer.Status && (!answer.Full || (t.Code == answer.Code && t.PostedAmount == answer.PostedAmount));
            // A confirmed reservation may since have been posted, voided or have expired (checked against the live world below).
            var later = answer.Status == TransferStatus.Pending && t.Status is TransferStatus.Committed or TransferStatus.Voided or TransferStatus.Expired;
            if (!same && !later) return $"answered {tx.Value} {answer}: recovered as {t.Status} {t.Code} {t.PostedAmount}";
        }
        if (RightAfterRead(w, clients, w.State(s.Id)) is { } read)
            foreach (var asset in s.Balances.Keys.Union(read.Balances.Keys))
            {
                var (got, want) = (Triple.Of(s.Balances.GetValueOrDefault(asset)), read.Balances.GetValueOrDefault(asset) ?? Triple.Zero);
                if (got != want) return $"answered balances of {asset.Value}: read {want}, recovered {got}";
            }
        foreach (var asset in s.Balances.Keys.Union(expected.Balances.Keys))
        {
            var (got, want) = (Triple.Of(s.Balances.GetValueOrDefault(asset)), expected.Balances.GetValueOrDefault(asset) ?? Triple.Zero);
            if (got != want) return $"{asset.Value}: recovered {got}, the live account settles at {want}";
        }
        if (s.Outgoing.Count != expected.Outgoing.Count || s.Incoming.Count != expected.Incoming.Count) return "records: another set of transactions";
        foreach (var (tx, want) in expected.Outgoing)
            if (!s.Outgoing.TryGetValue(tx, out var t) || new Record(t.Status, t.Code, t.PostedAmount) != want)
                return $"{tx.Value}: recovered {t?.Status} {t?.Code}, the live account settles at {want}";
        foreach (var (key, want) in expected.Incoming)
            if (!s.Incoming.TryGetValue(key, out var t) || new Record(t.Status, t.Code, t.PostedAmount) != want)
                return $"incoming {key}: recovered {t?.Status}, live {want}";
        return null;
    }

    /// <summary>
    /// The balances a client last read, if nothing happened to the account since and nothing of it is in flight: then the
    /// recovered account must show exactly them.
    /// </summary>
    private static Read? RightAfterRead(ContractWorld w, Clients clients, AccountState live) =>
        clients.LastRead.TryGetValue(live.Id, out var read) && read.Events == w.Journals[live.Id].Count
        && !live.Outgoing.Values.Any(t => t.Status == TransferStatus.InFlight)
            ? read
            : null;

    /// <summary>The first account from <paramref name="start"/> on with an open reservation, and its open reservation with the least id.</summary>
    private static (string Payer, Transfer? Pending) OpenFrom(ContractWorld w, string start)
    {
        var i = Array.IndexOf(Payers, start);
        for (var k = 0; k < Payers.Length; k++)
        {
            var u = Payers[(i + k) % Payers.Length];
            var open = w.State(new(u)).Outgoing.Values.Where(t => t.Status == TransferStatus.Pending).MinBy(t => t.Id.Value, StringComparer.Ordinal);
            if (open is not null) return (u, open);
        }
        return (start, null);
    }
}
