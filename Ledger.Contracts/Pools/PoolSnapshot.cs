using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Pools;

/// <summary>
/// The persisted form of <see cref="PoolState"/>: reserves, shares, and its <see cref="AnswerStore"/> (the answers held in
/// memory, oldest first; every call's hash, and in <see cref="SeenRuns"/> where its answer was written — older snapshots have it per hash in
/// <see cref="SeenAt"/>, or not at all).
/// </summary>
public sealed record PoolSnapshot(bool Exists, AssetId AssetA, AssetId AssetB, int FeeBps, Amount ReserveA, Amount ReserveB,
    Amount TotalShares, Amount LockedShares, long CreatedAt, long CallCount, PoolAnswerEntry[] Answers, byte[] Seen,
    SagaKey? LockedBy = null, long LockExpiresAt = 0, byte[]? SeenAt = null, byte[]? SeenRuns = null, RouteUnlock[]? RouteUnlocks = null)
{
    public static PoolSnapshot Of(PoolState s)
    {
        var (answers, seen, seenRuns) = s.Answers.ToSnapshot();
        return new(s.Exists, s.AssetA, s.AssetB, s.FeeBps, s.ReserveA, s.ReserveB, s.TotalShares, s.LockedShares, s.CreatedAt, s.CallCount,
            answers, seen, s.LockedBy, s.LockExpiresAt, SeenRuns: seenRuns,
            RouteUnlocks: [.. s.RouteUnlocks.Select(kv => new RouteUnlock(kv.Key, [.. kv.Value.Select(p => new RemoteHops(p.Key, p.Value))]))]);
    }

    /// <summary>Fills <paramref name="s"/> (new, empty) from this snapshot.</summary>
    public PoolState Restore(PoolState s)
    {
        (s.Exists, s.AssetA, s.AssetB, s.FeeBps, s.CreatedAt) = (Exists, AssetA, AssetB, FeeBps, CreatedAt);
        (s.ReserveA, s.ReserveB, s.TotalShares, s.LockedShares, s.CallCount) = (ReserveA, ReserveB, TotalShares, LockedShares, CallCount);
        (s.LockedBy, s.LockExpiresAt) = (LockedBy, LockExpiresAt);
        foreach (var u in RouteUnlocks ?? []) s.RouteUnlocks[u.Batch] = u.Pools.ToDictionary(p => p.Pool, p => p.Hops);
        s.Answers.Restore(Answers, Seen, SeenRuns, SeenAt);
        return s;
    }
}

/// <summary>A route batch this pool decided, and the pools that have not yet applied their hops of it.</summary>
public sealed record RouteUnlock(SagaKey Batch, RemoteHops[] Pools);

public sealed record PoolAnswerEntry(AccountId Account, TxId Id, Leg[] Out, string? Code, ulong Fingerprint = 0, Sagas.OpFill? Fill = null);
