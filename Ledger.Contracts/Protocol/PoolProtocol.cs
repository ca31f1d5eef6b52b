using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Protocol;

public interface IPoolMessage : IEntityMessage
{
    PoolId Pool { get; }
    string IEntityMessage.EntityId => Pool.Value;
}

public sealed record CreatePool(PoolId Pool, AssetId AssetA, AssetId AssetB, int FeeBps) : IPoolMessage, IRejectableAsk<PoolView>;

public sealed record GetPool(PoolId Pool) : IPoolMessage, IRejectableAsk<PoolView>;

/// <summary>A pool as it stands; <see cref="LockedBy"/> is the saga or route batch holding its lock, if any.</summary>
public sealed record PoolView(PoolId Id, AssetId AssetA, AssetId AssetB, Amount ReserveA, Amount ReserveB, Amount TotalShares,
    Amount LockedShares, int FeeBps, bool Created, SagaKey? LockedBy = null) : ILedgerMessage;

/// <summary>What this pool holds, for the supply audit; answered with <see cref="Holdings"/>.</summary>
public sealed record GetPoolHoldings(PoolId Pool) : IPoolMessage, IAsk<Holdings>;

public sealed record QuoteSwap(PoolId Pool, AssetId AssetIn, Amount AmountIn) : IPoolMessage, IRejectableAsk<QuoteView>;

public sealed record QuoteView(Amount AmountOut) : ILedgerMessage;

/// <summary>Account → pool: execute (or refuse) this call; the inputs are already debited. Redelivered until answered.</summary>
public sealed record ExecutePoolCall(PoolId Pool, AccountId Account, TxId Id, PoolCall Call) : IPoolMessage;

// ---- a pool as a saga's participant: locked at its reserves, then unlocked with the decision --------------

/// <summary>Saga → pool: take the lock (waits while another saga holds it). Answered with <see cref="PoolLockReply"/> once durable.</summary>
public sealed record LockPool(PoolId Pool, SagaKey Saga, long ExpiresAt) : IPoolMessage;

/// <summary>Pool → saga: locked at these reserves, or refused (<see cref="Code"/>).</summary>
public sealed record PoolLockReply(PoolId Pool, SagaKey Saga, PoolReserves? Reserves, string? Code) : ILedgerMessage;

/// <summary>Saga → pool: the decision; committed, the pool executes <see cref="Hops"/>. Answered with <see cref="PoolUnlockedAck"/>.</summary>
public sealed record UnlockPool(PoolId Pool, SagaKey Saga, bool Commit, PoolHop[] Hops) : IPoolMessage;

public sealed record PoolUnlockedAck(PoolId Pool, SagaKey Saga) : ILedgerMessage;

/// <summary>
/// Pool → the coordinator (<see cref="Pool"/>) of the route batch holding its expired lock: what was decided? The
/// coordinator answers with <see cref="UnlockPool"/> — the batch's hops if it committed, an abort if it never will.
/// </summary>
public sealed record QueryRouteBatch(PoolId Pool, SagaKey Batch, PoolId Locked) : IPoolMessage;
