using System.Buffers.Binary;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Accounts;

/// <summary>
/// The persisted form of <see cref="AccountState"/>; recovery starts from the latest one. It holds what the
/// state holds in memory: open and recently settled records (<see cref="Resident"/>), the newest history
/// entries, the hash of every record ever made (<see cref="Seen"/>, 8 bytes each) with the journal sequence number
/// it was made at (<see cref="SeenAt"/>: each the difference from the one before, zigzag, 7 bits a byte — mostly one
/// byte), and which of those hashes are the history positions from <see cref="HistoryKeysFrom"/> on, in order
/// (<see cref="HistoryMarks"/>, one bit per hash; or, should the two orders ever differ, <see cref="HistoryKeys"/>).
/// Older snapshots lack these four (their records are then read back from the start of the journal, and their
/// history positions by counting); snapshots written before records were evicted have no <see cref="Seen"/>: their
/// <see cref="History"/> is then the whole history and <see cref="Refused"/> the refused credits, and the hashes
/// are rebuilt from them. <see cref="BalanceCheckpoints"/> and <see cref="BalancesAt"/> are where reads of the balances
/// at an instant start.
/// </summary>
public sealed record AccountSnapshot(bool Exists, string Owner, long OpenedAt, SnapshotBalance[] Balances, AssetId[] IssuerOf,
    Transfer[] History, Transfer[] Refused, Transfer[]? Resident = null, long HistoryCount = 0, byte[]? Seen = null,
    SagaHold[]? Holds = null, byte[]? SeenAt = null, byte[]? HistoryKeys = null, long HistoryKeysFrom = 0, byte[]? HistoryMarks = null,
    BalanceCheckpoint[]? BalanceCheckpoints = null, long BalancesAt = 0, bool Closed = false, VenueRef[]? Venues = null, long VenueCalls = 0)
{
    public static AccountSnapshot Of(AccountState s)
    {
        var seen = new byte[s.Seen.Count * sizeof(ulong)];
        var at = new MemoryStream(s.Seen.Count + 16);
        // History hashes are hashes of Seen made in the same order (a record's hash is added as it is made; Seen is only
        // added to, and so enumerates in that order): a bit per hash of Seen marks them, instead of 8 bytes each.
        var marks = new byte[(s.Seen.Count + 7) / 8];
        var marked = 0;
        using (var w = new BinaryWriter(at))
        {
            var i = 0;
            var previous = 0L;
            foreach (var (h, seq) in s.Seen)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(seen.AsSpan(i * sizeof(ulong)), h);
                var delta = seq - previous;
                w.Write7BitEncodedInt64((delta << 1) ^ (delta >> 63));
                previous = seq;
                if (marked < s.HistoryKeys.Count && s.HistoryKeys[marked] == h)
                {
                    marks[i >> 3] |= (byte)(1 << (i & 7));
                    marked++;
                }
                i++;
            }
        }
        byte[]? historyKeys = null;
        if (marked < s.HistoryKeys.Count)
        {
            // The orders differ (a hash made twice): the history hashes are written out.
            marks = null;
            historyKeys = new byte[s.HistoryKeys.Count * sizeof(ulong)];
            for (var i = 0; i < s.HistoryKeys.Count; i++) BinaryPrimitives.WriteUInt64LittleEndian(historyKeys.AsSpan(i * sizeof(ulong)), s.HistoryKeys[i]);
        }
        return new(s.Exists, s.Owner, s.OpenedAt,
            s.Balances.Select(kv => new SnapshotBalance(kv.Key, kv.Value.Posted, kv.Value.PendingOut, kv.Value.PendingIn)).ToArray(),
            s.IssuerOf.ToArray(), s.RecentHistory.ToArray(), [], [.. s.Outgoing.Values, .. s.Incoming.Values], s.HistoryCount, seen,
            s.Holds.Count > 0 ? [.. s.Holds.Values] : null, at.ToArray(), historyKeys, s.HistoryKeysFrom, marks,
            s.BalanceCheckpoints.Count > 0 ? [.. s.BalanceCheckpoints] : null, s.BalancesAt, s.Closed, s.Venues.Count > 0 ? [.. s.Venues] : null, s.VenueCalls);
    }

    public AccountState Restore(AccountId id, int historyKeep)
    {
        var s = new AccountState { Id = id, Exists = Exists, Owner = Owner, OpenedAt = OpenedAt, HistoryKeep = historyKeep, Closed = Closed, VenueCalls = VenueCalls };
        s.Venues.UnionWith(Venues ?? []);
        foreach (var b in Balances)
            s.Balances[b.Asset] = new Balance { Posted = b.Posted, PendingOut = b.PendingOut, PendingIn = b.PendingIn };
        foreach (var a in IssuerOf) s.IssuerOf.Add(a);
        s.BalanceCheckpoints.AddRange(BalanceCheckpoints ?? []);
        s.BalancesAt = BalancesAt;
        var legacy = Seen is null;
        // Hashes first, in the snapshot's order (so that the next snapshot writes them alike); records add none anew.
        if (Seen is not null)
        {
            using var at = new BinaryReader(new MemoryStream(SeenAt ?? []));
            var seq = 0L;
            for (var i = 0; i < Seen.Length; i += sizeof(ulong))
            {
                if (SeenAt is not null)
                {
                    var zigzag = at.Read7BitEncodedInt64();
                    seq += (long)((ulong)zigzag >> 1) ^ -(zigzag & 1);
                }
                var hash = BinaryPrimitives.ReadUInt64LittleEndian(Seen.AsSpan(i));
                s.Seen[hash] = seq;
                var n = i / sizeof(ulong);
                if (HistoryMarks is not null && (HistoryMarks[n >> 3] & (1 << (n & 7))) != 0) s.HistoryKeys.Add(hash);
            }
        }
        // History entries and resident records are the same objects in memory: restore them as such.
        var byKey = new Dictionary<(AccountId, TxId), Transfer>();
        foreach (var t in legacy ? History.Concat(Refused) : Resident ?? []) byKey[(t.From, t.Id)] = t;
        foreach (var h in History)
        {
            var t = byKey.GetValueOrDefault((h.From, h.Id)) ?? h;
            s.RecentHistory.Add(t);
        }
        s.HistoryCount = legacy ? History.Length : HistoryCount;
        foreach (var t in byKey.Values)
        {
            s.Record(t);
            if (t.IsSettled) s.MarkSettled(t);
            else if (t.From == id && t.IsPending && t.Status is TransferStatus.InFlight or TransferStatus.Pending && t.ExpiresAt is { } e) s.Deadlines.Add((e, t.Id.Value));
        }
        foreach (var h in Holds ?? []) s.Holds[h.Key] = h;
        if (HistoryKeys is null && HistoryMarks is null) s.HistoryKeysFrom = s.HistoryCount;
        else
        {
            s.HistoryKeysFrom = HistoryKeysFrom;
            for (var i = 0; i < HistoryKeys?.Length; i += sizeof(ulong)) s.HistoryKeys.Add(BinaryPrimitives.ReadUInt64LittleEndian(HistoryKeys.AsSpan(i)));
        }
        return s;
    }
}

public sealed record SnapshotBalance(AssetId Asset, Int128 Posted, Amount PendingOut, Amount PendingIn);
