using System.Buffers.Binary;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Pools;

/// <summary>The persisted form of <see cref="PoolState"/>: reserves, shares, the answers held in memory (oldest first) and every call's hash.</summary>
public sealed record PoolSnapshot(bool Exists, AssetId AssetA, AssetId AssetB, int FeeBps, Amount ReserveA, Amount ReserveB,
    Amount TotalShares, Amount LockedShares, long CreatedAt, long CallCount, PoolAnswerEntry[] Answers, byte[] Seen,
    SagaKey? LockedBy = null, long LockExpiresAt = 0)
{
    public static PoolSnapshot Of(PoolState s)
    {
        var seen = new byte[s.Seen.Count * sizeof(ulong)];
        var i = 0;
        foreach (var h in s.Seen) BinaryPrimitives.WriteUInt64LittleEndian(seen.AsSpan(i++ * sizeof(ulong)), h);
        var answers = s.AnswerOrder.Select(k => new PoolAnswerEntry(k.Account, k.Id, s.Answers[k].Out, s.Answers[k].Code)).ToArray();
        return new(s.Exists, s.AssetA, s.AssetB, s.FeeBps, s.ReserveA, s.ReserveB, s.TotalShares, s.LockedShares, s.CreatedAt, s.CallCount,
            answers, seen, s.LockedBy, s.LockExpiresAt);
    }

    /// <summary>Fills <paramref name="s"/> (new, empty) from this snapshot.</summary>
    public PoolState Restore(PoolState s)
    {
        s.Exists = Exists;
        s.AssetA = AssetA;
        s.AssetB = AssetB;
        s.FeeBps = FeeBps;
        s.ReserveA = ReserveA;
        s.ReserveB = ReserveB;
        s.TotalShares = TotalShares;
        s.LockedShares = LockedShares;
        s.CreatedAt = CreatedAt;
        s.CallCount = CallCount;
        s.LockedBy = LockedBy;
        s.LockExpiresAt = LockExpiresAt;
        foreach (var a in Answers) s.Remember(a.Account, a.Id, new PoolAnswer(a.Out, a.Code));
        for (var i = 0; i < Seen.Length; i += sizeof(ulong)) s.Seen.Add(BinaryPrimitives.ReadUInt64LittleEndian(Seen.AsSpan(i)));
        return s;
    }
}

public sealed record PoolAnswerEntry(AccountId Account, TxId Id, Leg[] Out, string? Code);
