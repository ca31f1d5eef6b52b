using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Accounts;

public enum TransferStatus
{
    /// <summary>Debited on the payer; the payee has not yet confirmed the credit.</summary>
    InFlight,
    Pending,
    Committed,
    Rejected,
    Voided,
    Expired,
}

/// <summary>A full record of an account's balances: the journal row it is in, its instant, and the balances.</summary>
public sealed record BalanceCheckpoint(long Seq, long At, SnapshotBalance[] Balances);

public sealed class Balance
{
    public Int128 Posted { get; set; }
    public Amount PendingOut { get; set; }
    public Amount PendingIn { get; set; }

    /// <summary><c>posted − pending_out</c>: what may still be spent. Never negative for a non-issuer.</summary>
    public Int128 Available => Posted - (Int128)PendingOut.Value;
}

/// <summary>
/// One transaction as an account sees it. A transfer: the payer's copy (<see cref="From"/> is this account)
/// carries the idempotency fingerprint and the delivery progress; the payee's copy mirrors the outcome.
/// A pool call (swap, deposit, withdrawal; <see cref="Call"/> set): <see cref="From"/> and <see cref="To"/> are
/// this account, <see cref="Asset"/>/<see cref="Amount"/> its first input, and <see cref="Returned"/> what
/// the pool paid back.
/// </summary>
public sealed class Transfer
{
    public required TxId Id { get; init; }
    public required AccountId From { get; init; }
    public required AccountId To { get; init; }
    public required AssetId Asset { get; init; }
    public required Amount Amount { get; init; }
    public bool IsPending { get; init; }
    public long? TimeoutMs { get => _rare?.TimeoutMs; init { if (value is not null) Rare.TimeoutMs = value; } }
    public long? ExpiresAt { get => _rare?.ExpiresAt; init { if (value is not null) Rare.ExpiresAt = value; } }
    /// <summary>The client's opaque string (api.md 1.1), on the payer's record and the payee's.</summary>
    public string? UserData { get => _rare?.UserData; init { if (value is not null) Rare.UserData = value; } }
    public ulong Fingerprint { get; init; }
    public TransferStatus Status { get; set; }
    public string? Code { get; set; }
    public Amount? PostedAmount { get => _rare?.PostedAmount; set { if (value is not null || _rare is not null) Rare.PostedAmount = value; } }
    /// <summary>What the post asked for (null: all); a repeated post with the same request is a retry.</summary>
    public Amount? PostRequested { get => _rare?.PostRequested; set { if (value is not null || _rare is not null) Rare.PostRequested = value; } }
    public long CreatedAt { get; init; }
    public long? CompletedAt { get; set; }
    /// <summary>Payer only: delivery steps owed to the payee (1: the credit, 2: the resolution of a pending one).</summary>
    public int StepsOwed { get; set; }
    public int StepsAcked { get; set; }
    public PoolCall? Call { get => _rare?.Call; init { if (value is not null) Rare.Call = value; } }
    /// <summary>A market or farm call (like <see cref="Call"/>, on another kind of venue).</summary>
    public VenueCall? Venue { get => _rare?.Venue; init { if (value is not null) Rare.Venue = value; } }
    public Leg[]? Returned { get => _rare?.Returned; set { if (value is not null || _rare is not null) Rare.Returned = value; } }
    /// <summary>An operation of a multi-party transaction (route, atomic batch): the saga deciding it, and what it did once committed.</summary>
    public SagaKey? Saga { get => _rare?.Saga; init { if (value is not null) Rare.Saga = value; } }
    public SagaOp? Op { get => _rare?.Op; init { if (value is not null) Rare.Op = value; } }
    public OpFill? Fill { get => _rare?.Fill; set { if (value is not null || _rare is not null) Rare.Fill = value; } }

    /// <summary>
    /// What only reservations, pool and venue calls and saga operations carry, apart: a plain transfer's record (two
    /// per transfer, the payer's and the payee's, among the largest things the ledger allocates) is half the size.
    /// </summary>
    private RareTerms? _rare;
    private RareTerms Rare => _rare ??= new();

    private sealed class RareTerms
    {
        public long? TimeoutMs;
        public long? ExpiresAt;
        public string? UserData;
        public Amount? PostedAmount;
        public Amount? PostRequested;
        public PoolCall? Call;
        public VenueCall? Venue;
        public Leg[]? Returned;
        public SagaKey? Saga;
        public SagaOp? Op;
        public OpFill? Fill;
    }

    public bool AwaitsDelivery => StepsAcked < StepsOwed;

    /// <summary>Settled: its status is final and nothing is owed to the payee, so it can change no more.</summary>
    public bool IsSettled => Status is not (TransferStatus.InFlight or TransferStatus.Pending) && !AwaitsDelivery;

    /// <summary>The amount that actually moved (or would move) between the two accounts.</summary>
    public Amount MovedAmount => PostedAmount ?? Amount;
}

/// <summary>
/// What an account holds for a saga between its vote and the decision: the operations it takes part in, its
/// legs in operation order, and per asset the amount moved from <c>available</c> to <c>pending_out</c> — the
/// deepest the legs would take the balance — so that whatever else the account does meanwhile, the saga's
/// debits are covered. A lock on amounts, not on the account.
/// </summary>
public sealed record SagaHold(SagaKey Key, SagaOpAt[] Ops, SagaLeg[] Legs, Leg[] Held, long ExpiresAt);

/// <summary>Whether a transaction record is known to this account.</summary>
public enum Known
{
    /// <summary>Never recorded: the id is free.</summary>
    Absent,
    /// <summary>Recorded and held in memory.</summary>
    Resident,
    /// <summary>Recorded (or a hash collision says it may be) but settled and evicted: read it back from the journal.</summary>
    Evicted,
}

/// <summary>
/// The state of one account. Mutated only by <see cref="AccountContract.Apply"/> and, for the cache of settled
/// records, by <see cref="Evict"/> and <see cref="Remember"/>.
/// <para>
/// What stays in memory is bounded: balances, open transfers (in flight, reserved, or still owing the payee a
/// step), the most recently settled records, the newest <see cref="HistoryKeep"/> history entries, and per
/// transaction ever recorded a 64-bit hash with where in the journal it was made (<see cref="Seen"/>), and per
/// history position that hash (<see cref="HistoryKeys"/>). A settled record is immutable, so once it is durable
/// it may be evicted; a request that names it is answered after reading it back from the journal
/// (<see cref="AccountReplay"/>) from where it was made, not from the start. The hashes answer "never seen" for a
/// new id without any look-up.
/// </para>
/// </summary>
public sealed class AccountState
{
    public required AccountId Id { get; init; }
    public bool Exists { get; set; }
    public string Owner { get; set; } = "";
    public long OpenedAt { get; set; }
    public bool Closed { get; set; }
    /// <summary>
    /// The venues this account has called (where it may hold a position: closing asks each), and how many calls it has
    /// made, so that a close checked against the venues is refused if another call came in between.
    /// </summary>
    public HashSet<VenueRef> Venues { get; } = [];
    public long VenueCalls { get; set; }
    public Dictionary<AssetId, Balance> Balances { get; } = [];
    /// <summary>Assets whose balance changed since the last <see cref="BalancesRecorded"/> (few: a list, not a set).</summary>
    public List<AssetId> BalancesChanged { get; } = new(2);
    /// <summary>The full records of the balances (<see cref="BalancesRecorded.Full"/>), oldest first.</summary>
    public List<BalanceCheckpoint> BalanceCheckpoints { get; } = [];
    /// <summary>The instant of the last <see cref="BalancesRecorded"/> (instants never decrease along the journal).</summary>
    public long BalancesAt { get; set; }
    /// <summary>
    /// A full record of the balances is written once this many events or rows followed the last one: a read at an
    /// instant folds at most the rows from one full record to the next (a hot account's rows hold hundreds of events).
    /// </summary>
    public const int BalanceCheckpointEvents = 256, BalanceCheckpointRows = 64;
    /// <summary>Events applied since the last full record of the balances (not kept across restarts: the rows bound it).</summary>
    public int EventsSinceBalanceCheckpoint { get; set; }
    public HashSet<AssetId> IssuerOf { get; } = [];
    // Outgoing, Incoming and Settled are made with room for four, so that their arrays lie side by side (and beside
    // the account actor's): a transfer writes new records into them, and neighbours share the cards a young-generation
    // collection scans.
    /// <summary>Transfers this account initiated, by id: open ones and recently settled ones.</summary>
    public Dictionary<TxId, Transfer> Outgoing { get; } = new(4);
    /// <summary>Transfers received, by (payer, id): open ones and recently settled ones.</summary>
    public Dictionary<(AccountId From, TxId Id), Transfer> Incoming { get; } = new(4);
    /// <summary>
    /// Hash of (payer, id) of every transaction record this account ever made, either direction, with the lowest
    /// journal sequence number the event that made it can have been written at (0: unknown, read from the start).
    /// </summary>
    public Dictionary<ulong, long> Seen { get; } = [];
    /// <summary>
    /// The lowest journal sequence number events applied now can be written at; whoever applies events keeps it
    /// (the actor: its next sequence number, or the one being replayed). Recorded in <see cref="Seen"/>.
    /// </summary>
    public long JournalSeq { get; set; }
    /// <summary>Ids confirmed free by a journal read although their hash is in <see cref="Seen"/> (a collision).</summary>
    public HashSet<(AccountId From, TxId Id)> Collisions { get; } = [];
    /// <summary>Settled records in the order they settled, with a running number: the eviction order.</summary>
    public Queue<(long Seq, Transfer Transfer)> Settled { get; } = new(4);
    public long SettledTotal { get; set; }
    /// <summary>How many entries the transaction list has in all (its positions are 0 … count − 1, oldest first).</summary>
    public long HistoryCount { get; set; }
    /// <summary>The newest entries of the transaction list, ending at position <see cref="HistoryCount"/> − 1.</summary>
    public List<Transfer> RecentHistory { get; } = [];
    /// <summary>
    /// The record hash at each history position from <see cref="HistoryKeysFrom"/> on (earlier positions come from
    /// a snapshot older than this list and are found by counting from the start of the journal).
    /// </summary>
    public List<ulong> HistoryKeys { get; } = [];
    public long HistoryKeysFrom { get; set; }
    /// <summary>How many history entries to keep in memory (at least; trimmed in steps).</summary>
    public int HistoryKeep { get; init; } = 128;
    /// <summary>Deadlines of this account's open reservations, earliest first (kept by <see cref="AccountContract.Apply"/>).</summary>
    public SortedSet<(long ExpiresAt, string Id)> Deadlines { get; } = [];
    /// <summary>Amounts held for sagas that have not yet told this account their decision (the account's side of a two-phase lock).</summary>
    public Dictionary<SagaKey, SagaHold> Holds { get; } = [];

    public static ulong KeyHash(AccountId from, TxId id) => Fingerprint.Of(from.Value, id.Value);

    /// <summary>The balance of <paramref name="asset"/>, to be changed: noted for the next <see cref="BalancesRecorded"/>.</summary>
    public Balance BalanceOf(AssetId asset)
    {
        if (!Balances.TryGetValue(asset, out var b)) Balances[asset] = b = new Balance();
        if (!BalancesChanged.Contains(asset)) BalancesChanged.Add(asset);
        return b;
    }

    /// <summary>
    /// The record of the balances this row (at sequence number <see cref="JournalSeq"/>) leaves, or null when it changes
    /// none: the changed ones, or all of them as a checkpoint every <see cref="BalanceCheckpointRows"/> rows.
    /// </summary>
    public BalancesRecorded? RecordBalances(long now)
    {
        if (BalancesChanged.Count == 0) return null;
        var full = BalanceCheckpoints.Count == 0 || EventsSinceBalanceCheckpoint >= BalanceCheckpointEvents
            || JournalSeq - BalanceCheckpoints[^1].Seq >= BalanceCheckpointRows;
        IEnumerable<AssetId> assets = full ? Balances.Keys : BalancesChanged;
        return new BalancesRecorded([.. assets.Select(a => new SnapshotBalance(a, Balances[a].Posted, Balances[a].PendingOut, Balances[a].PendingIn))],
            full, Math.Max(now, BalancesAt));
    }

    /// <summary>
    /// The last checkpoint at or before <paramref name="at"/>, if any, and the last row before the next one: the balances
    /// at that instant are the checkpoint's with the rows after it, up to that row, recorded at or before the instant.
    /// </summary>
    public (BalanceCheckpoint From, long To)? CheckpointBefore(long at)
    {
        int lo = 0, hi = BalanceCheckpoints.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (BalanceCheckpoints[mid].At <= at) lo = mid + 1;
            else hi = mid;
        }
        return lo == 0 ? null : (BalanceCheckpoints[lo - 1], lo < BalanceCheckpoints.Count ? BalanceCheckpoints[lo].Seq - 1 : long.MaxValue);
    }

    public Known FindOutgoing(TxId id, out Transfer? t) =>
        Outgoing.TryGetValue(id, out t) ? Known.Resident : Missing(Id, id);

    public Known FindIncoming(AccountId from, TxId id, out Transfer? t) =>
        Incoming.TryGetValue((from, id), out t) ? Known.Resident : Missing(from, id);

    private Known Missing(AccountId from, TxId id) =>
        Seen.ContainsKey(KeyHash(from, id)) && !Collisions.Contains((from, id)) ? Known.Evicted : Known.Absent;

    /// <summary>Where a journal read for these records may start: the lowest sequence number any of them was made at.</summary>
    public long ReadFrom(IEnumerable<ulong> hashes)
    {
        var from = long.MaxValue;
        foreach (var h in hashes) from = Math.Min(from, Seen.GetValueOrDefault(h));
        return from == long.MaxValue ? 0 : from;
    }

    /// <summary>The record hash at a history position, or null when the position predates <see cref="HistoryKeys"/>.</summary>
    public ulong? HistoryKeyAt(long position) =>
        position >= HistoryKeysFrom && position < HistoryCount ? HistoryKeys[(int)(position - HistoryKeysFrom)] : null;

    /// <summary>The history entry at <paramref name="position"/>, or null when it is no longer held in memory.</summary>
    public Transfer? HistoryAt(long position)
    {
        var first = HistoryCount - RecentHistory.Count;
        return position >= first && position < HistoryCount ? RecentHistory[(int)(position - first)] : null;
    }

    /// <summary>A new record under (from, id): remembered in the hash set, held while it is open.</summary>
    internal void Record(Transfer t)
    {
        Hold(t);
        Seen.TryAdd(KeyHash(t.From, t.Id), JournalSeq);
        if (Collisions.Count > 0) Collisions.Remove((t.From, t.Id));
    }

    internal void AddHistory(Transfer t)
    {
        HistoryCount++;
        HistoryKeys.Add(KeyHash(t.From, t.Id));
        // None kept (the default): not even for a moment — a long-lived list given a new record is one more old object
        // pointing at a young one, which the next young-generation collection must scan.
        if (HistoryKeep == 0) return;
        RecentHistory.Add(t);
        if (RecentHistory.Count >= 2 * HistoryKeep) RecentHistory.RemoveRange(0, RecentHistory.Count - HistoryKeep);
    }

    /// <summary>The record can change no more (final status, nothing owed to the payee): it may be evicted once durable.</summary>
    internal void MarkSettled(Transfer t) => Settled.Enqueue((SettledTotal++, t));

    /// <summary>
    /// Drops settled records from memory, oldest first, keeping the newest <paramref name="keep"/>; only those
    /// that settled before <paramref name="durableBefore"/> (a value of <see cref="SettledTotal"/> taken when
    /// everything applied so far was about to be written), since a record is read back from the journal.
    /// </summary>
    public void Evict(int keep, long durableBefore)
    {
        while (Settled.Count > keep && Settled.Peek().Seq < durableBefore)
        {
            var (_, t) = Settled.Dequeue();
            if (t.From == Id)
            {
                if (Outgoing.TryGetValue(t.Id, out var held) && ReferenceEquals(held, t)) Outgoing.Remove(t.Id);
            }
            else if (Incoming.TryGetValue((t.From, t.Id), out var held) && ReferenceEquals(held, t)) Incoming.Remove((t.From, t.Id));
        }
    }

    /// <summary>Puts records read back from the journal into memory again; keys not found there were collisions.</summary>
    public void Remember(IEnumerable<Transfer> found, IEnumerable<(AccountId From, TxId Id)> notFound)
    {
        foreach (var t in found)
            if (!IsResident(t.From, t.Id))
            {
                Hold(t);
                MarkSettled(t);
            }
        foreach (var key in notFound)
            if (!IsResident(key.From, key.Id)) Collisions.Add(key);
    }

    private bool IsResident(AccountId from, TxId id) => from == Id ? Outgoing.ContainsKey(id) : Incoming.ContainsKey((from, id));

    private void Hold(Transfer t)
    {
        if (t.From == Id) Outgoing[t.Id] = t;
        else Incoming[(t.From, t.Id)] = t;
    }

    /// <summary>Per asset: posted balance, value in flight from here, and (as issuer) the supply issued.</summary>
    public Protocol.Holding[] Holdings()
    {
        var inFlight = new Dictionary<AssetId, Amount>();
        foreach (var (_, _, asset, amount) in Unconfirmed()) inFlight[asset] = inFlight.GetValueOrDefault(asset) + amount;
        return [.. Balances.Keys.Concat(IssuerOf).Concat(inFlight.Keys).Distinct().Select(asset =>
        {
            var posted = Balances.TryGetValue(asset, out var b) ? b.Posted : 0;
            var issued = IssuerOf.Contains(asset) && posted < 0 ? new Amount((UInt128)(-posted)) : Amount.Zero;
            return new Protocol.Holding(asset, posted, inFlight.GetValueOrDefault(asset), issued);
        })];
    }

    /// <summary>The earliest deadline of an open reservation, if any.</summary>
    public long? NextExpiry() => Deadlines.Count > 0 ? Deadlines.Min.ExpiresAt : null;

    /// <summary>The earliest expiry of a saga hold, if any (then this account asks the saga for its decision).</summary>
    public long? NextHoldExpiry() => Holds.Count > 0 ? Holds.Values.Min(h => h.ExpiresAt) : null;

    /// <summary>
    /// Value this account has debited from <c>posted</c> whose credit it has not yet seen confirmed, with the
    /// delivery step that carries it. Until the payee applies that step the value is "in flight": per asset,
    /// all <c>posted</c> balances plus everything in flight sum to zero. (Such transfers are open, so resident.)
    /// </summary>
    public IEnumerable<(Transfer Transfer, int Step, AssetId Asset, Amount Amount)> Unconfirmed()
    {
        foreach (var t in Outgoing.Values)
        {
            if ((t.Call?.In ?? t.Venue?.In) is { } callIn)
            {
                // A pool, market or farm call's inputs are in flight until the venue's answer is applied here.
                if (t.Status == TransferStatus.InFlight)
                    foreach (var leg in callIn) yield return (t, 1, leg.Asset, leg.Amount);
            }
            else if (t.Status == TransferStatus.InFlight && !t.IsPending) yield return (t, 1, t.Asset, t.Amount);
            else if (t.IsPending && t.Status == TransferStatus.Committed && t.AwaitsDelivery) yield return (t, 2, t.Asset, t.PostedAmount!.Value);
        }
    }
}
