using System.Numerics;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Accounts;

/// <summary>A transfer as the payer receives it. <see cref="TimeoutMs"/> only with <see cref="Pending"/>.</summary>
public sealed record TransferRequest(TxId Id, AccountId To, AssetId Asset, Amount Amount, bool Pending, long? TimeoutMs, string? UserData = null,
    bool Balancing = false)
{
    /// <summary>The idempotency fingerprint; one without user data or balancing is what it was before they existed.</summary>
    public ulong Fingerprint(AccountId from) => UserData is null && !Balancing
        ? Primitives.Fingerprint.Of("transfer", from.Value, To.Value, Asset.Value, Amount.ToString(), Pending ? "1" : "0",
            TimeoutMs?.ToString(System.Globalization.CultureInfo.InvariantCulture))
        : Primitives.Fingerprint.Of("transfer", from.Value, To.Value, Asset.Value, Amount.ToString(), Pending ? "1" : "0",
            TimeoutMs?.ToString(System.Globalization.CultureInfo.InvariantCulture), UserData ?? "", Balancing ? "balancing" : "");
}

/// <summary>What the payer owes the payee: step 1 is the credit, step 2 the resolution of a pending transfer.</summary>
public sealed record DeliveryItem(TxId Id, int Step, AssetId Asset, Amount Amount, bool Pending, long? ExpiresAt,
    TransferStatus Outcome, Amount PostedAmount, string? UserData = null);

/// <summary>The payee's answer to one delivery item; <see cref="Code"/> is set when the credit was refused.</summary>
public sealed record DeliveryResult(TxId Id, int Step, string? Code);

/// <summary>
/// The outcome of deciding one command: events to persist (and apply), and either a rejection that is
/// answered without persisting anything, or the transfer whose outcome the caller is waiting for — or, when
/// the command names a settled record no longer in memory, the record to read back before deciding again.
/// </summary>
public readonly record struct Decision(IReadOnlyList<IAccountEvent> Events, string? Rejection = null, TxId? Awaits = null,
    (AccountId From, TxId Id)? Recall = null)
{
    public static readonly IReadOnlyList<IAccountEvent> None = [];
    public static Decision Reject(string code) => new(None, code);
    public static Decision Await(TxId id, params IAccountEvent[] events) => new(events, null, id);
    public static Decision ReadBack(AccountId from, TxId id) => new(None, null, null, (from, id));
}

/// <summary>A payee's decision on one delivered item; <see cref="Recall"/> as in <see cref="Decision"/>.</summary>
public readonly record struct Receipt(IReadOnlyList<IAccountEvent> Events, DeliveryResult? Result, (AccountId From, TxId Id)? Recall = null);

/// <summary>
/// The account state machine: deterministic <c>decide</c> functions (state, command → events or a rejection)
/// and one <see cref="Apply"/> (state, event → state). No clock, no randomness, no floating point; all
/// money arithmetic is checked. The actor is plumbing around this class.
/// </summary>
public static class AccountContract
{
    public static Decision Open(AccountState s, string owner, long now)
    {
        if (!s.Exists) return new Decision([new AccountOpened(owner, now)]);
        return s.Owner == owner ? new Decision(Decision.None) : Decision.Reject(Codes.AccountExists);
    }

    /// <summary>
    /// Closes the account once nothing is in it or on its way: no balance, no pending amount either way, no saga hold,
    /// no transfer of its own still travelling — and, when <paramref name="venueCallsSeen"/> is given, no venue call since
    /// the gateway found every venue of <see cref="AccountState.Venues"/> holding nothing of it. Closing a closed account
    /// changes nothing.
    /// </summary>
    public static Decision Close(AccountState s, long now, long? venueCallsSeen = null)
    {
        if (!s.Exists) return Decision.Reject(Codes.AccountNotFound);
        if (s.Closed) return new Decision(Decision.None);
        var busy = s.Balances.Values.Any(b => b.Posted != 0 || !b.PendingOut.IsZero || !b.PendingIn.IsZero) || s.Holds.Count > 0
            || s.Outgoing.Values.Any(t => t.Status is TransferStatus.InFlight or TransferStatus.Pending || t.AwaitsDelivery)
            || venueCallsSeen is { } seen && seen != s.VenueCalls;
        return busy ? Decision.Reject(Codes.AccountNotEmpty) : new Decision([new AccountClosed(now)]);
    }

    /// <summary>Marks the account as issuer of an asset, opening it (owned by its own id) if it does not exist.</summary>
    public static IReadOnlyList<IAccountEvent> GrantIssuer(AccountState s, AssetId asset, long now)
    {
        var events = new List<IAccountEvent>(2);
        if (!s.Exists) events.Add(new AccountOpened(s.Id.Value, now));
        if (!s.IssuerOf.Contains(asset)) events.Add(new IssuerGranted(asset));
        return events;
    }

    public static Decision StartTransfer(AccountState s, TransferRequest r, long now)
    {
        if (!s.Exists) return Decision.Reject(Codes.AccountNotFound);
        var fingerprint = r.Fingerprint(s.Id);
        switch (s.FindOutgoing(r.Id, out var existing))
        {
            case Known.Resident:
                return existing!.Fingerprint == fingerprint ? new Decision(Decision.None, null, r.Id) : Decision.Reject(Codes.IdConflict);
            case Known.Evicted:
                return Decision.ReadBack(s.Id, r.Id);
        }
        // After the lookup: a transfer made before the close, asked again, is answered as it was.
        if (s.Closed) return Decision.Reject(Codes.AccountClosed);

        var amount = r.Balancing ? Balanced(s, r) : r.Amount;
        var code = r.To == s.Id ? Codes.SameAccount : CanSpend(s, r.Asset, amount);
        if (code is not null)
            return Decision.Await(r.Id, new TransferRejected(r.Id, r.To, r.Asset, r.Amount, r.Pending, r.TimeoutMs, fingerprint, code, now, r.UserData));
        long? expiresAt = r.Pending && r.TimeoutMs is { } t ? checked(now + t) : null;
        return Decision.Await(r.Id, new TransferDebited(r.Id, r.To, r.Asset, amount, r.Pending, r.TimeoutMs, expiresAt, fingerprint, now, r.UserData));
    }

    /// <summary>A balancing transfer moves at most what is available (TigerBeetle's balancing debit); an issuer's is unbounded.</summary>
    private static Amount Balanced(AccountState s, TransferRequest r)
    {
        if (s.IssuerOf.Contains(r.Asset)) return r.Amount;
        var available = s.Balances.TryGetValue(r.Asset, out var b) ? b.Available : 0;
        return available <= 0 ? Amount.Zero : Amount.Min(r.Amount, new Amount((UInt128)available));
    }

    /// <summary>Whether <paramref name="amount"/> of <paramref name="asset"/> may leave this account now.</summary>
    private static string? CanSpend(AccountState s, AssetId asset, Amount value)
    {
        if (value.IsZero) return Codes.ZeroAmount;
        if (!SignedAmount.TryToSigned(value, out var amount))
            return s.IssuerOf.Contains(asset) ? Codes.SupplyOverflow : Codes.InsufficientFunds;
        var available = s.Balances.TryGetValue(asset, out var b) ? b.Available : 0;
        if (s.IssuerOf.Contains(asset))
            // The issuer may go negative, down to −(2^127 − 1): supply is bounded so that every balance fits.
            // (Written so that nothing can wrap: −MaxValue + amount lies in [−MaxValue, 0].)
            return available < -Int128.MaxValue + amount ? Codes.SupplyOverflow : null;
        return amount > available ? Codes.InsufficientFunds : null;
    }

    /// <summary>
    /// A swap, deposit or withdrawal on a pool: its inputs leave <c>posted</c> now and travel to the pool, which
    /// answers with what comes back (<see cref="Answered"/>). Idempotent per id like a transfer.
    /// </summary>
    public static Decision CallPool(AccountState s, TxId id, PoolCall call, long now) =>
        Call(s, id, call.In, call.Fingerprint(s.Id), now, (f, at) => new PoolCallSent(id, call, f, at), (f, code, at) => new PoolCallRejected(id, call, f, code, at),
            requireInput: true);

    /// <summary>A call on a lending market or a staking farm: the same protocol as a pool call.</summary>
    public static Decision CallVenue(AccountState s, TxId id, VenueCall call, long now) =>
        Call(s, id, call.In, call.Fingerprint(s.Id), now, (f, at) => new VenueCallSent(id, call, f, at), (f, code, at) => new VenueCallRejected(id, call, f, code, at));

    private static Decision Call(AccountState s, TxId id, Leg[] @in, ulong fingerprint, long now, Func<ulong, long, IAccountEvent> sent,
        Func<ulong, string, long, IAccountEvent> rejected, bool requireInput = false)
    {
        if (!s.Exists) return Decision.Reject(Codes.AccountNotFound);
        switch (s.FindOutgoing(id, out var existing))
        {
            case Known.Resident:
                return existing!.Fingerprint == fingerprint ? new Decision(Decision.None, null, id) : Decision.Reject(Codes.IdConflict);
            case Known.Evicted:
                return Decision.ReadBack(s.Id, id);
        }
        if (s.Closed) return Decision.Reject(Codes.AccountClosed);
        string? code = (requireInput && @in.Length == 0) || @in.Select(l => l.Asset).Distinct().Count() != @in.Length ? Codes.InvalidRequest : null;
        foreach (var leg in @in) code ??= CanSpend(s, leg.Asset, leg.Amount);
        return Decision.Await(id, code is null ? sent(fingerprint, now) : rejected(fingerprint, code, now));
    }

    /// <summary>The pool answered a call (again, possibly): applied once, while the call is in flight.</summary>
    public static IReadOnlyList<IAccountEvent> Answered(AccountState s, TxId id, CallAnswer answer, long now) =>
        s.Outgoing.TryGetValue(id, out var t) && (t.Call is not null || t.Venue is not null) && t.Status == TransferStatus.InFlight
            ? [new PoolCallAnswered(id, answer.Out, answer.Code, now, answer.Code is null ? answer.Fill : null)]
            : Decision.None;

    /// <summary>
    /// A saga asks this account to vote on its part (<paramref name="ops"/>, <paramref name="legs"/> in operation
    /// order). Yes: hold what the legs need and record the operations it initiates. No: the first operation that
    /// cannot run here, with its code; nothing is recorded. Asked again, the account votes as before.
    /// <para>
    /// A payee only (every leg a credit, no operation of its own) says yes without recording anything: there is nothing to
    /// hold, and what its vote promises — that it exists and is open — is in its journal already. Its credit is recorded
    /// once, when the commit comes (<see cref="ResolveSaga"/>); in an atomic batch of transfers that is half the
    /// accounts' writes.
    /// </para>
    /// </summary>
    public static (IReadOnlyList<IAccountEvent> Events, int FailedOp, string? Code) PrepareSaga(AccountState s, SagaKey saga, SagaOpAt[] ops,
        SagaLeg[] legs, long expiresAt, long now)
    {
        if (s.Holds.ContainsKey(saga)) return (Decision.None, -1, null);
        // Already decided and applied here: a late duplicate must not hold anything again.
        if (s.Seen.ContainsKey(saga.Hash)) return (Decision.None, -1, Codes.LockTimeout);
        if (ops.Length == 0) return (Decision.None, -1, Codes.InvalidRequest);
        if (!s.Exists) return (Decision.None, ops[0].Index, Codes.AccountNotFound);
        if (s.Closed) return (Decision.None, legs.Length > 0 ? legs[0].Op : ops[0].Index, Codes.AccountClosed);
        foreach (var (i, op) in ops)
            if (op.Account == s.Id && s.FindOutgoing(op.Id, out _) != Known.Absent) return (Decision.None, i, Codes.IdConflict);
        if (IsPayeeOnly(s, ops, legs)) return (Decision.None, -1, null);
        // Walk the legs in order: no debit may take the balance below what may be spent; hold the deepest dip.
        // (Arbitrary precision: thousands of legs may sum beyond 128 bits.)
        var running = new Dictionary<AssetId, BigInteger>();
        var deepest = new Dictionary<AssetId, BigInteger>();
        var worked = legs;
        for (var k = 0; k < legs.Length; k++)
        {
            var leg = legs[k];
            if (leg.Balancing && !leg.Credit)
            {
                // A balancing debit takes what is available at its turn (an issuer's is unbounded), and is held as worked out.
                var have = (BigInteger)Available(s, leg.Asset) + running.GetValueOrDefault(leg.Asset);
                var moved = s.IssuerOf.Contains(leg.Asset) || have >= (BigInteger)leg.Amount.Value ? leg.Amount : have > 0 ? new Amount((UInt128)have) : Amount.Zero;
                if (moved.IsZero) return (Decision.None, leg.Op, Codes.ZeroAmount);
                if (ReferenceEquals(worked, legs)) worked = [.. legs];
                worked[k] = leg = leg with { Amount = moved };
            }
            var r = running.GetValueOrDefault(leg.Asset) + (leg.Credit ? 1 : -1) * (BigInteger)leg.Amount.Value;
            running[leg.Asset] = r;
            if (leg.Credit || r >= deepest.GetValueOrDefault(leg.Asset)) continue;
            deepest[leg.Asset] = r;
            var available = Available(s, leg.Asset);
            var issuer = s.IssuerOf.Contains(leg.Asset);
            // The issuer may go down to −(2^127 − 1), everyone else to zero.
            if ((BigInteger)available + r < (issuer ? -(BigInteger)Int128.MaxValue : BigInteger.Zero))
                return (Decision.None, leg.Op, issuer ? Codes.SupplyOverflow : Codes.InsufficientFunds);
        }
        Leg[] held = [.. deepest.Where(kv => kv.Value < 0).Select(kv => new Leg(kv.Key, new Amount((UInt128)(-kv.Value))))];
        return ([new SagaHeld(saga, ops, worked, held, expiresAt, now)], -1, null);
    }

    /// <summary>
    /// A saga's decision: applied once — releasing the hold, and if committed moving every leg (<paramref name="legs"/>, which
    /// the hold must cover, or those held for). An account that voted no (or was never asked) records the rejection of the
    /// operations it initiated.
    /// </summary>
    public static IReadOnlyList<IAccountEvent> ResolveSaga(AccountState s, SagaKey saga, bool commit, int failedOp, string? code, SagaOpAt[] ops,
        OpFill[]? fills, long now, SagaLeg[]? legs = null)
    {
        if (s.Holds.TryGetValue(saga, out var hold))
        {
            if (commit && legs is not null && !Covers(hold.Held, legs))
                throw new InvalidOperationException($"account {s.Id}: saga {saga} commits legs its hold does not cover");
            return [new SagaApplied(saga, commit, failedOp, code, ops, commit ? fills : null, now, commit ? legs : null)];
        }
        if (s.Seen.ContainsKey(saga.Hash)) return Decision.None;
        if (commit && legs is not null && IsPayeeOnly(s, ops, legs)) return [new SagaApplied(saga, true, failedOp, code, ops, fills, now, legs)];
        if (commit) throw new InvalidOperationException($"account {s.Id}: saga {saga} committed without this account's vote");
        return s.Exists && ops.Any(o => o.Op.Account == s.Id) ? [new SagaApplied(saga, false, failedOp, code, ops, null, now)] : Decision.None;
    }

    /// <summary>Whether this account is only paid in a saga: every leg a credit, and none of the operations its own.</summary>
    public static bool IsPayeeOnly(AccountState s, SagaOpAt[] ops, SagaLeg[] legs) =>
        legs.Length > 0 && legs.All(l => l.Credit) && !ops.Any(o => o.Op.Account == s.Id);

    /// <summary>Whether no asset's running balance along <paramref name="legs"/> dips below minus what is held of it.</summary>
    private static bool Covers(Leg[] held, SagaLeg[] legs)
    {
        var running = new Dictionary<AssetId, BigInteger>();
        foreach (var leg in legs)
        {
            var r = running[leg.Asset] = running.GetValueOrDefault(leg.Asset) + (leg.Credit ? 1 : -1) * (BigInteger)leg.Amount.Value;
            if (r < 0 && -r > held.Where(h => h.Asset == leg.Asset).Select(h => (BigInteger)h.Amount.Value).FirstOrDefault()) return false;
        }
        return true;
    }

    private static Int128 Available(AccountState s, AssetId asset) => s.Balances.TryGetValue(asset, out var b) ? b.Available : 0;

    /// <summary>What the balancing transfers this account pays in <paramref name="saga"/> move, as its hold worked them out.</summary>
    public static OpAmount[]? Balanced(AccountState s, SagaKey saga) =>
        s.Holds.TryGetValue(saga, out var hold) && hold.Legs.Any(l => l.Balancing)
            ? [.. hold.Legs.Where(l => l.Balancing).Select(l => new OpAmount(l.Op, l.Amount))]
            : null;

    /// <summary>Sagas whose hold has expired undecided: the account asks each for its decision (presumed abort).</summary>
    public static IEnumerable<SagaKey> OverdueHolds(AccountState s, long now) => s.Holds.Values.Where(h => h.ExpiresAt <= now).Select(h => h.Key);

    public static Decision Post(AccountState s, TxId id, Amount? requested, long now)
    {
        if (Reservation(s, id, now, out var t) is { } answer) return answer;
        switch (t.Status)
        {
            case TransferStatus.Voided: return Decision.Reject(Codes.AlreadyVoided);
            case TransferStatus.Committed:
                return t.PostRequested == requested ? new Decision(Decision.None, null, id) : Decision.Reject(Codes.AlreadyPosted);
        }
        var amount = requested ?? t.Amount;
        if (amount.IsZero) return Decision.Reject(Codes.ZeroAmount);
        if (amount > t.Amount) return Decision.Reject(Codes.AmountExceedsPending);
        return Decision.Await(id, new PendingPosted(id, amount, requested, now));
    }

    public static Decision Void(AccountState s, TxId id, long now)
    {
        if (Reservation(s, id, now, out var t) is { } answer) return answer;
        return t.Status switch
        {
            TransferStatus.Voided => new Decision(Decision.None, null, id),
            TransferStatus.Committed => Decision.Reject(Codes.AlreadyPosted),
            _ => Decision.Await(id, new PendingVoided(id, now)),
        };
    }

    /// <summary>
    /// Finds the reservation a post or void acts on: null, with <paramref name="t"/> pending, voided or committed; otherwise
    /// the answer both give alike — it is not here (or not in memory), not yet confirmed, expired, or falls due now.
    /// </summary>
    private static Decision? Reservation(AccountState s, TxId id, long now, out Transfer t)
    {
        t = null!;
        if (!s.Exists) return Decision.Reject(Codes.AccountNotFound);
        var known = s.FindOutgoing(id, out var found);
        if (known == Known.Evicted) return Decision.ReadBack(s.Id, id);
        if (found is null || !found.IsPending || found.Status == TransferStatus.Rejected) return Decision.Reject(Codes.PendingNotFound);
        t = found;
        return t.Status switch
        {
            TransferStatus.InFlight => Decision.Reject(Codes.Unavailable),
            TransferStatus.Expired => Decision.Reject(Codes.PendingExpired),
            TransferStatus.Pending when t.ExpiresAt <= now => new Decision([new PendingExpired(id, now)], Codes.PendingExpired),
            _ => null,
        };
    }

    /// <summary>Expires every pending transfer whose time has come.</summary>
    public static IReadOnlyList<IAccountEvent> ExpireDue(AccountState s, long now)
    {
        var due = new List<IAccountEvent>();
        foreach (var (expiresAt, id) in s.Deadlines)
        {
            if (expiresAt > now) break;
            // A reservation whose credit is not yet confirmed expires once it is (it may still be refused).
            if (s.Outgoing[new TxId(id)].Status == TransferStatus.Pending) due.Add(new PendingExpired(new TxId(id), now));
        }
        return due;
    }

    /// <summary>What this payer still owes its payees, one item per transfer awaiting delivery.</summary>
    public static DeliveryItem Owed(Transfer t) =>
        new(t.Id, t.StepsAcked + 1, t.Asset, t.Amount, t.IsPending, t.ExpiresAt, t.Status, t.PostedAmount ?? Amount.Zero, t.UserData);

    /// <summary>Payee: decide on one delivered item. Idempotent per (payer, transaction, step).</summary>
    public static Receipt Receive(AccountState s, AccountId from, DeliveryItem item, long now)
    {
        if (s.FindIncoming(from, item.Id, out var known) == Known.Evicted) return new(Decision.None, null, (from, item.Id));
        if (item.Step == 1)
        {
            if (known is not null) return new(Decision.None, new DeliveryResult(item.Id, 1, known.Status == TransferStatus.Rejected ? known.Code : null));
            if (!s.Exists || s.Closed)
            {
                var refused = s.Exists ? Codes.AccountClosed : Codes.AccountNotFound;
                return new([new CreditRefused(from, item.Id, item.Asset, item.Amount, refused, now)], new DeliveryResult(item.Id, 1, refused));
            }
            return new([new TransferCredited(from, item.Id, item.Asset, item.Amount, item.Pending, item.ExpiresAt, now, item.UserData)],
                new DeliveryResult(item.Id, 1, null));
        }
        // Step 2 is only ever sent after step 1 was acknowledged, so the credit is known here.
        if (known is null) return new(Decision.None, null);
        if (known.Status != TransferStatus.Pending) return new(Decision.None, new DeliveryResult(item.Id, 2, null));
        return new([new PendingResolved(from, item.Id, item.Outcome, item.PostedAmount, now, item.Asset)], new DeliveryResult(item.Id, 2, null));
    }

    /// <summary>Payer: the payee answered a delivery. (A record no longer held is settled: nothing is owed.)</summary>
    public static IReadOnlyList<IAccountEvent> Acknowledge(AccountState s, DeliveryResult r, long now)
    {
        if (!s.Outgoing.TryGetValue(r.Id, out var t) || t.StepsAcked >= r.Step || r.Step > t.StepsOwed) return Decision.None;
        if (r.Step == 1 && r.Code is not null) return [new TransferCompensated(r.Id, r.Code, now)];
        return [new DeliveryAcknowledged(r.Id, r.Step, now)];
    }

    public static void Apply(AccountState s, IAccountEvent e)
    {
        s.EventsSinceBalanceCheckpoint++;
        switch (e)
        {
            case AccountOpened o:
                s.Exists = true;
                s.Owner = o.Owner;
                s.OpenedAt = o.At;
                break;
            case AccountClosed:
                s.Closed = true;
                break;
            case IssuerGranted g:
                s.IssuerOf.Add(g.Asset);
                break;
            case TransferRejected r:
                RecordOutgoing(s, new Transfer
                {
                    Id = r.Id,
                    From = s.Id,
                    To = r.To,
                    Asset = r.Asset,
                    Amount = r.Amount,
                    IsPending = r.Pending,
                    TimeoutMs = r.TimeoutMs,
                    UserData = r.UserData,
                    Fingerprint = r.Fingerprint,
                    Status = TransferStatus.Rejected,
                    Code = r.Code,
                    CreatedAt = r.At,
                    CompletedAt = r.At,
                });
                s.MarkSettled(s.Outgoing[r.Id]);
                break;
            case TransferDebited d:
                {
                    var b = s.BalanceOf(d.Asset);
                    if (d.Pending) b.PendingOut += d.Amount;
                    else b.Posted = checked(b.Posted - (Int128)d.Amount.Value);
                    if (d.Pending && d.ExpiresAt is { } deadline) s.Deadlines.Add((deadline, d.Id.Value));
                    RecordOutgoing(s, new Transfer
                    {
                        Id = d.Id,
                        From = s.Id,
                        To = d.To,
                        Asset = d.Asset,
                        Amount = d.Amount,
                        IsPending = d.Pending,
                        TimeoutMs = d.TimeoutMs,
                        ExpiresAt = d.ExpiresAt,
                        UserData = d.UserData,
                        Fingerprint = d.Fingerprint,
                        Status = TransferStatus.InFlight,
                        CreatedAt = d.At,
                        StepsOwed = 1,
                    });
                    break;
                }
            case DeliveryAcknowledged a:
                {
                    var t = s.Outgoing[a.Id];
                    t.StepsAcked = a.Step;
                    if (a.Step == 1)
                    {
                        t.Status = t.IsPending ? TransferStatus.Pending : TransferStatus.Committed;
                        if (!t.IsPending) t.CompletedAt = a.At;
                    }
                    SettleIfDone(s, t);
                    break;
                }
            case TransferCompensated c:
                {
                    var t = s.Outgoing[c.Id];
                    var b = s.BalanceOf(t.Asset);
                    if (t.IsPending) b.PendingOut -= t.Amount;
                    else b.Posted += (Int128)t.Amount.Value;
                    ForgetDeadline(s, t);
                    t.Status = TransferStatus.Rejected;
                    t.Code = c.Code;
                    t.StepsAcked = t.StepsOwed;
                    t.CompletedAt = c.At;
                    s.MarkSettled(t);
                    break;
                }
            case PendingPosted p:
                {
                    var t = s.Outgoing[p.Id];
                    var b = s.BalanceOf(t.Asset);
                    b.PendingOut -= t.Amount;
                    b.Posted = checked(b.Posted - (Int128)p.Amount.Value);
                    ForgetDeadline(s, t);
                    t.Status = TransferStatus.Committed;
                    t.PostedAmount = p.Amount;
                    t.PostRequested = p.Requested;
                    t.StepsOwed = 2;
                    t.CompletedAt = p.At;
                    break;
                }
            case PendingVoided v: Release(s, v.Id, TransferStatus.Voided, v.At); break;
            case PendingExpired x: Release(s, x.Id, TransferStatus.Expired, x.At); break;
            case TransferCredited c:
                {
                    if (!s.Exists) throw new InvalidOperationException("credit applied to an account that does not exist");
                    var b = s.BalanceOf(c.Asset);
                    if (c.Pending) b.PendingIn += c.Amount;
                    else b.Posted = checked(b.Posted + (Int128)c.Amount.Value);
                    var t = new Transfer
                    {
                        Id = c.Id,
                        From = c.From,
                        To = s.Id,
                        Asset = c.Asset,
                        Amount = c.Amount,
                        IsPending = c.Pending,
                        ExpiresAt = c.ExpiresAt,
                        UserData = c.UserData,
                        Status = c.Pending ? TransferStatus.Pending : TransferStatus.Committed,
                        CreatedAt = c.At,
                        CompletedAt = c.Pending ? null : c.At,
                    };
                    s.Record(t);
                    s.AddHistory(t);
                    SettleIfDone(s, t);
                    break;
                }
            case CreditRefused r:
                {
                    var t = new Transfer
                    {
                        Id = r.Id,
                        From = r.From,
                        To = s.Id,
                        Asset = r.Asset,
                        Amount = r.Amount,
                        Status = TransferStatus.Rejected,
                        Code = r.Code,
                        CreatedAt = r.At,
                        CompletedAt = r.At,
                    };
                    s.Record(t);
                    s.MarkSettled(t);
                    break;
                }
            case PendingResolved r:
                {
                    var t = s.Incoming[(r.From, r.Id)];
                    var b = s.BalanceOf(t.Asset);
                    b.PendingIn -= t.Amount;
                    if (r.Outcome == TransferStatus.Committed)
                    {
                        b.Posted = checked(b.Posted + (Int128)r.PostedAmount.Value);
                        t.PostedAmount = r.PostedAmount;
                    }
                    t.Status = r.Outcome;
                    t.CompletedAt = r.At;
                    s.MarkSettled(t);
                    break;
                }
            case PoolCallRejected r:
                RecordCall(s, r.Id, r.Call, null, r.Fingerprint, r.Code, r.At);
                break;
            case PoolCallSent c:
                MoveLegs(s, c.Call.In, -1);
                RecordCall(s, c.Id, c.Call, null, c.Fingerprint, null, c.At);
                break;
            case VenueCallRejected r:
                RecordCall(s, r.Id, null, r.Call, r.Fingerprint, r.Code, r.At);
                break;
            case VenueCallSent c:
                s.Venues.Add(c.Call.Venue);
                s.VenueCalls++;
                MoveLegs(s, c.Call.In, -1);
                RecordCall(s, c.Id, null, c.Call, c.Fingerprint, null, c.At);
                break;
            case PoolCallAnswered a:
                {
                    var t = s.Outgoing[a.Id];
                    MoveLegs(s, a.Out, +1);
                    t.Returned = a.Out;
                    t.Fill = a.Fill;
                    t.Status = a.Code is null ? TransferStatus.Committed : TransferStatus.Rejected;
                    t.Code = a.Code;
                    t.CompletedAt = a.At;
                    s.MarkSettled(t);
                    break;
                }
            case SagaHeld h:
                {
                    foreach (var leg in h.Held) s.BalanceOf(leg.Asset).PendingOut += leg.Amount;
                    // What its balancing transfers move, as this hold worked it out (looked up once: a batch may hold thousands).
                    var moved = h.Legs.Any(l => l.Balancing) ? h.Legs.Where(l => l.Balancing).ToDictionary(l => l.Op, l => (Amount?)l.Amount) : null;
                    foreach (var (i, op) in h.Ops)
                        if (op.Account == s.Id)
                            RecordOutgoing(s, SagaRecord(s, h.Saga, op, TransferStatus.Pending, null, h.At, moved?.GetValueOrDefault(i)));
                    s.Holds[h.Saga] = new SagaHold(h.Saga, h.Ops, h.Legs, h.Held, h.ExpiresAt);
                    break;
                }
            case SagaApplied a:
                ApplySaga(s, a);
                break;
            case BalancesRecorded r:
                s.BalancesChanged.Clear();
                s.BalancesAt = r.At;
                if (r.Full)
                {
                    s.BalanceCheckpoints.Add(new BalanceCheckpoint(s.JournalSeq, r.At, r.Balances));
                    s.EventsSinceBalanceCheckpoint = 0;
                }
                break;
            default:
                throw new ArgumentException($"unknown account event {e.GetType().Name}", nameof(e));
        }
    }

    private static void ApplySaga(AccountState s, SagaApplied a)
    {
        // A payee only held nothing (PrepareSaga): its commit carries its legs.
        if (s.Holds.Remove(a.Saga, out var hold))
            foreach (var leg in hold.Held) s.BalanceOf(leg.Asset).PendingOut -= leg.Amount;
        if (a.Commit && (a.Legs ?? hold?.Legs) is { } legs)
            foreach (var leg in legs)
            {
                var b = s.BalanceOf(leg.Asset);
                b.Posted = checked(b.Posted + (leg.Credit ? 1 : -1) * (Int128)leg.Amount.Value);
            }
        for (var k = 0; k < a.Ops.Length; k++)
        {
            var (i, op) = a.Ops[k];
            var code = SagaContract.CodeOf(a.Commit, a.FailedOp, a.Code, i);
            var status = a.Commit ? TransferStatus.Committed : TransferStatus.Rejected;
            if (op.Account == s.Id)
            {
                if (s.Outgoing.TryGetValue(op.Id, out var t) && t.Saga == a.Saga)
                {
                    t.Status = status;
                    t.Code = code;
                    t.Fill = a.Fills?[k];
                    t.CompletedAt = a.At;
                }
                else if (!a.Commit && s.FindOutgoing(op.Id, out _) == Known.Absent)
                    RecordOutgoing(s, t = SagaRecord(s, a.Saga, op, status, code, a.At));
                else continue;
                s.MarkSettled(t);
            }
            else if (a.Commit && op is TransferOp transfer && transfer.To == s.Id)
            {
                var t = new Transfer
                {
                    Id = op.Id,
                    From = op.Account,
                    To = s.Id,
                    Asset = transfer.Asset,
                    Amount = OpFill.Moved(transfer, a.Fills?[k]),
                    Status = TransferStatus.Committed,
                    CreatedAt = a.At,
                    CompletedAt = a.At,
                    Saga = a.Saga,
                    Op = op,
                };
                s.Record(t);
                s.AddHistory(t);
                s.MarkSettled(t);
            }
        }
        s.Seen.TryAdd(a.Saga.Hash, s.JournalSeq);
    }

    /// <summary>The initiator's record of one saga operation: a transfer to its payee, or a swap (from and to itself).</summary>
    private static Transfer SagaRecord(AccountState s, SagaKey saga, SagaOp op, TransferStatus status, string? code, long at, Amount? moved = null)
    {
        var (to, asset, amount) = op switch
        {
            TransferOp t => (t.To, t.Asset, moved ?? t.Amount),
            SwapOp w => (s.Id, w.AssetIn, w.AmountIn),
            _ => throw new ArgumentException($"unknown saga operation {op.GetType().Name}", nameof(op)),
        };
        return new()
        {
            Id = op.Id,
            From = s.Id,
            To = to,
            Asset = asset,
            Amount = amount,
            Fingerprint = op.Fingerprint(),
            Status = status,
            Code = code,
            CreatedAt = at,
            CompletedAt = status == TransferStatus.Pending ? null : at,
            Saga = saga,
            Op = op,
        };
    }

    /// <summary>A pool call's legs leave (sign −1) or reach (+1) <c>posted</c>.</summary>
    private static void MoveLegs(AccountState s, Leg[] legs, int sign)
    {
        foreach (var leg in legs)
        {
            var b = s.BalanceOf(leg.Asset);
            b.Posted = checked(b.Posted + sign * (Int128)leg.Amount.Value);
        }
    }

    /// <summary>
    /// The record of a pool call (<paramref name="call"/>) or a market or farm call (<paramref name="venue"/>): from and
    /// to this account, its first input as asset and amount (a venue call's amount is the one asked for). In flight
    /// until answered; refused (<paramref name="code"/>), settled at once.
    /// </summary>
    private static void RecordCall(AccountState s, TxId id, PoolCall? call, VenueCall? venue, ulong fingerprint, string? code, long at)
    {
        var @in = call?.In ?? venue!.In;
        var t = new Transfer
        {
            Id = id,
            From = s.Id,
            To = s.Id,
            Asset = @in.Length > 0 ? @in[0].Asset : default,
            Amount = venue?.Amount ?? (@in.Length > 0 ? @in[0].Amount : default),
            Call = call,
            Venue = venue,
            Fingerprint = fingerprint,
            Status = code is null ? TransferStatus.InFlight : TransferStatus.Rejected,
            Code = code,
            CreatedAt = at,
            CompletedAt = code is null ? null : at,
        };
        RecordOutgoing(s, t);
        if (code is not null) s.MarkSettled(t);
    }

    private static void ForgetDeadline(AccountState s, Transfer t)
    {
        if (t.ExpiresAt is { } e) s.Deadlines.Remove((e, t.Id.Value));
    }

    private static void RecordOutgoing(AccountState s, Transfer t)
    {
        s.Record(t);
        s.AddHistory(t);
    }

    private static void SettleIfDone(AccountState s, Transfer t)
    {
        if (t.IsSettled) s.MarkSettled(t);
    }

    private static void Release(AccountState s, TxId id, TransferStatus status, long at)
    {
        var t = s.Outgoing[id];
        s.BalanceOf(t.Asset).PendingOut -= t.Amount;
        ForgetDeadline(s, t);
        t.Status = status;
        t.StepsOwed = 2;
        t.CompletedAt = at;
    }
}
