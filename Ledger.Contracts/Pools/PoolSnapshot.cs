using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Pools;

/// <summary>
/// The persisted form of <see cref="PoolState"/>: reserves, shares, and its <see cref="AnswerStore"/> (the answers held in
/// memory, oldest first; every call's hash, and in <see cref="SeenRuns"/> where its answer was written — older snapshots have it per hash in
/// <see cref="SeenAt"/>, or not at all).
/// </summary>
public sealed record PoolSnapshot(bool Exists, AssetId AssetA, AssetId AssetB, int FeeBps, Amount ReserveA, Amount ReserveB,
    Amount TotalShares, Amount LockedShares, long CreatedAt, long CallCount, PoolAnswerEntry[] Answers, byte[] Seen,
    SagaKey? LockedBy = null, long LockExpiresAt = 0, byte[]? SeenAt = null, byte[]? SeenRuns = null)
{
    public static PoolSnapshot Of(PoolState s)
    {
        var (answers, seen, seenRuns) = s.Answers.ToSnapshot();
        return new(s.Exists, s.AssetA, s.AssetB, s.FeeBps, s.ReserveA, s.ReserveB, s.TotalShares, s.LockedShares, s.CreatedAt, s.CallCount,
            answers, seen, s.LockedBy, s.LockExpiresAt, SeenRuns: seenRuns);
    }

    /// <summary>Fills <paramref name="s"/> (new, empty) from this snapshot.</summary>
    public PoolState Restore(PoolState s)
    {
        (s.Exists, s.AssetA, s.AssetB, s.FeeBps, s.CreatedAt) = (Exists, AssetA, AssetB, FeeBps, CreatedAt);
        (s.ReserveA, s.ReserveB, s.TotalShares, s.LockedShares, s.CallCount) = (ReserveA, ReserveB, TotalShares, LockedShares, CallCount);
        (s.LockedBy, s.LockExpiresAt) = (LockedBy, LockExpiresAt);
        s.Answers.Restore(Answers, Seen, SeenRuns, SeenAt);
        return s;
    }
}

public sealed record PoolAnswerEntry(AccountId Account, TxId Id, Leg[] Out, string? Code, ulong Fingerprint = 0);
