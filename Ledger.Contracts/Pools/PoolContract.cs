using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Pools;

/// <summary>Everything a pool persists (the durable schema: add fields only with defaults).</summary>
public interface IPoolEvent;

public sealed record PoolCreated(AssetId AssetA, AssetId AssetB, int FeeBps, long At) : IPoolEvent;

/// <summary>
/// The pool decided a call of <paramref name="Account"/>'s transaction <paramref name="Id"/>: it received
/// <paramref name="In"/> and owes <paramref name="Out"/> back. Refused (<paramref name="Code"/> set): Out is In.
/// <paramref name="Locked"/> shares were minted to nobody (the first deposit).
/// </summary>
public sealed record PoolCallDecided(AccountId Account, TxId Id, Leg[] In, Leg[] Out, string? Code, Amount Locked, long At) : IPoolEvent;

/// <summary>A saga took this pool's lock: until it is released, no other call or saga changes the reserves.</summary>
public sealed record PoolLocked(SagaKey Saga, long ExpiresAt, long At) : IPoolEvent;

/// <summary>
/// The saga's decision reached the pool: committed, its <paramref name="Hops"/> moved the reserves; aborted, nothing
/// moved. Also written for a saga that never got the lock, so that a late lock request of it is refused.
/// </summary>
public sealed record PoolUnlocked(SagaKey Saga, bool Commit, PoolHop[] Hops, long At) : IPoolEvent;

/// <summary>
/// One pool: its reserves, its share supply, and the answers it gave (<see cref="AnswerStore"/>), so that a call
/// delivered twice is answered the same way and executed once.
/// </summary>
public sealed class PoolState
{
    public required PoolId Id { get; init; }
    public bool Exists { get; set; }
    public AssetId AssetA { get; set; }
    public AssetId AssetB { get; set; }
    public int FeeBps { get; set; }
    public Amount ReserveA { get; set; }
    public Amount ReserveB { get; set; }
    /// <summary>All shares ever minted and not burned, including the <see cref="PoolMath.MinimumLiquidity"/> locked forever.</summary>
    public Amount TotalShares { get; set; }
    public Amount LockedShares { get; set; }
    public long CreatedAt { get; set; }
    public long CallCount { get; set; }
    /// <summary>The saga holding this pool's lock, if any, and when that lock expires (then the pool asks the saga).</summary>
    public SagaKey? LockedBy { get; set; }
    public long LockExpiresAt { get; set; }

    public AnswerStore Answers { get; } = new();

    /// <summary>Route batches this pool coordinated and decided: the hops each other pool has yet to apply (<see cref="RouteDesk"/>).</summary>
    public Dictionary<SagaKey, Dictionary<PoolId, PoolHop[]>> RouteUnlocks { get; } = [];

    public AssetId ShareAsset => Id.ShareAsset;

    /// <summary>Shares held by accounts (the locked minimum belongs to no one).</summary>
    public Amount SharesOutstanding => TotalShares - LockedShares;

}

/// <summary>
/// The constant-product pool (Uniswap v2 semantics, any fee): deterministic decisions over <see cref="PoolState"/>
/// and one <see cref="Apply"/>. This is where a swap gets its price. Reserves change only through
/// <see cref="Apply"/>, by exactly the legs that moved, so the pool's books always match the accounts'.
/// </summary>
public static class PoolContract
{
    public const int FeeBpsMax = 9_999;

    public static (IReadOnlyList<IPoolEvent> Events, string? Rejection) Create(PoolState s, AssetId a, AssetId b, int feeBps, long now)
    {
        if (!s.Exists) return ([new PoolCreated(a, b, feeBps, now)], null);
        return s.AssetA == a && s.AssetB == b && s.FeeBps == feeBps ? ([], null) : ([], Codes.PoolExists);
    }

    /// <summary>What a swap of <paramref name="amountIn"/> of <paramref name="assetIn"/> would pay now (no state change).</summary>
    public static (Amount Out, string? Code) Quote(PoolState s, AssetId assetIn, Amount amountIn)
    {
        if (!s.Exists) return (default, Codes.PoolNotFound);
        if (!Sides(s, assetIn, out var rIn, out var rOut)) return (default, Codes.AssetNotInPool);
        if (amountIn.IsZero) return (default, Codes.ZeroAmount);
        if (rIn.IsZero || rOut.IsZero) return (default, Codes.InsufficientLiquidity);
        return (PoolMath.AmountOut(amountIn, rIn, rOut, s.FeeBps), null);
    }

    /// <summary>
    /// Decides one call. The account has already debited <c>call.In</c>; the answer says what goes back. A key
    /// decided before is answered as it was (the caller checks <see cref="AnswerStore.Find"/> first).
    /// </summary>
    public static PoolCallDecided Decide(PoolState s, AccountId account, TxId id, PoolCall call, long now)
    {
        var (answer, locked) = Execute(s, call, now);
        return new PoolCallDecided(account, id, call.In, answer.Out, answer.Code, locked, now);
    }

    private static (CallAnswer Answer, Amount Locked) Execute(PoolState s, PoolCall call, long now)
    {
        CallAnswer Refuse(string code) => CallAnswer.Refusal(call, code);
        if (!s.Exists) return (Refuse(Codes.PoolNotFound), default);
        if (call.Deadline is { } deadline && now > deadline) return (Refuse(Codes.DeadlinePassed), default);
        switch (call.Kind)
        {
            case PoolCallKind.SwapExactIn:
                {
                    if (call.In.Length != 1 || call.AssetOut is not { } assetOut) return (Refuse(Codes.InvalidRequest), default);
                    var (assetIn, amountIn) = (call.In[0].Asset, call.In[0].Amount);
                    if (!Sides(s, assetIn, out var rIn, out var rOut) || Other(s, assetIn) != assetOut) return (Refuse(Codes.AssetNotInPool), default);
                    if (amountIn.IsZero) return (Refuse(Codes.ZeroAmount), default);
                    if (rIn.IsZero || rOut.IsZero) return (Refuse(Codes.InsufficientLiquidity), default);
                    var amountOut = PoolMath.AmountOut(amountIn, rIn, rOut, s.FeeBps);
                    if (amountOut.IsZero) return (Refuse(Codes.InsufficientOutputAmount), default);
                    if (amountOut < call.MinOut) return (Refuse(Codes.SlippageExceeded), default);
                    return (new CallAnswer([new Leg(assetOut, amountOut)], null), default);
                }
            case PoolCallKind.SwapExactOut:
                {
                    if (call.In.Length != 1 || call.AssetOut is not { } assetOut || call.AmountOut is not { } amountOut)
                        return (Refuse(Codes.InvalidRequest), default);
                    var (assetIn, maxIn) = (call.In[0].Asset, call.In[0].Amount);
                    if (!Sides(s, assetIn, out var rIn, out var rOut) || Other(s, assetIn) != assetOut) return (Refuse(Codes.AssetNotInPool), default);
                    if (amountOut.IsZero) return (Refuse(Codes.ZeroAmount), default);
                    if (rIn.IsZero || amountOut >= rOut) return (Refuse(Codes.InsufficientLiquidity), default);
                    if (PoolMath.AmountIn(amountOut, rIn, rOut, s.FeeBps) is not { } amountIn || amountIn > maxIn) return (Refuse(Codes.SlippageExceeded), default);
                    var change = maxIn - amountIn;
                    return (new CallAnswer(change.IsZero ? [new Leg(assetOut, amountOut)] : [new Leg(assetOut, amountOut), new Leg(assetIn, change)], null), default);
                }
            case PoolCallKind.Deposit:
                {
                    if (call.In.Length != 2 || call.In[0].Asset != s.AssetA || call.In[1].Asset != s.AssetB) return (Refuse(Codes.AssetNotInPool), default);
                    var (desiredA, desiredB) = (call.In[0].Amount, call.In[1].Amount);
                    if (desiredA.IsZero || desiredB.IsZero) return (Refuse(Codes.ZeroAmount), default);
                    // Router02.addLiquidity: the pair of amounts that keeps the current ratio, within the client's minimums.
                    Amount a, b;
                    if (s.ReserveA.IsZero && s.ReserveB.IsZero) (a, b) = (desiredA, desiredB);
                    else if (PoolMath.Quote(desiredA, s.ReserveA, s.ReserveB) is { } optimalB && optimalB <= desiredB)
                    {
                        if (optimalB < call.MinB) return (Refuse(Codes.SlippageExceeded), default);
                        (a, b) = (desiredA, optimalB);
                    }
                    else
                    {
                        // Below desiredA here (B's quote of it was above desiredB), so it always fits.
                        var optimalA = PoolMath.Quote(desiredB, s.ReserveB, s.ReserveA)!.Value;
                        if (optimalA < call.MinA) return (Refuse(Codes.SlippageExceeded), default);
                        (a, b) = (optimalA, desiredB);
                    }
                    if (a < call.MinA || b < call.MinB) return (Refuse(Codes.SlippageExceeded), default);
                    // UniswapV2Pair.mint: the first deposit locks the minimum; later ones get the smaller pro-rata share.
                    Amount shares, locked = default;
                    if (s.TotalShares.IsZero)
                    {
                        var root = PoolMath.SqrtProduct(a, b);
                        if (root <= PoolMath.MinimumLiquidity) return (Refuse(Codes.InsufficientLiquidity), default);
                        (shares, locked) = (root - PoolMath.MinimumLiquidity, PoolMath.MinimumLiquidity);
                    }
                    else
                    {
                        shares = Amount.Min(PoolMath.MulDiv(a, s.TotalShares, s.ReserveA), PoolMath.MulDiv(b, s.TotalShares, s.ReserveB));
                        if (shares.IsZero) return (Refuse(Codes.InsufficientLiquidity), default);
                    }
                    var @out = new List<Leg>(3) { new(s.ShareAsset, shares) };
                    if (desiredA > a) @out.Add(new Leg(s.AssetA, desiredA - a));
                    if (desiredB > b) @out.Add(new Leg(s.AssetB, desiredB - b));
                    return (new CallAnswer([.. @out], null), locked);
                }
            case PoolCallKind.Withdraw:
                {
                    if (call.In.Length != 1 || call.In[0].Asset != s.ShareAsset) return (Refuse(Codes.AssetNotInPool), default);
                    var shares = call.In[0].Amount;
                    if (shares.IsZero) return (Refuse(Codes.ZeroAmount), default);
                    // Shares exist only if minted here; more than are outstanding cannot have been debited from anyone.
                    if (shares > s.SharesOutstanding) return (Refuse(Codes.InsufficientLiquidity), default);
                    // UniswapV2Pair.burn: pro rata, rounded down.
                    var a = PoolMath.MulDiv(shares, s.ReserveA, s.TotalShares);
                    var b = PoolMath.MulDiv(shares, s.ReserveB, s.TotalShares);
                    if (a.IsZero || b.IsZero) return (Refuse(Codes.InsufficientLiquidity), default);
                    if (a < call.MinA || b < call.MinB) return (Refuse(Codes.SlippageExceeded), default);
                    return (new CallAnswer([new Leg(s.AssetA, a), new Leg(s.AssetB, b)], null), default);
                }
            default:
                return (Refuse(Codes.InvalidRequest), default);
        }
    }

    /// <summary>What a lock request does: take the lock (an event), grant it again, wait for the holder, or refuse.</summary>
    public static (PoolLocked? Lock, bool Wait, string? Refusal) Lock(PoolState s, SagaKey saga, long expiresAt, long now)
    {
        if (s.LockedBy == saga) return (null, false, null);
        // This saga's outcome already reached the pool: a late request must not lock it again.
        if (s.Answers.Find(saga.Account, saga.Id, out _) != Known.Absent) return (null, false, Codes.LockTimeout);
        if (!s.Exists) return (null, false, Codes.PoolNotFound);
        if (s.LockedBy is not null) return (null, true, null);
        return (new PoolLocked(saga, expiresAt, now), false, null);
    }

    /// <summary>The saga's decision: applied once while its lock is held; remembered (tombstone) if it never got the lock.</summary>
    public static PoolUnlocked? Unlock(PoolState s, SagaKey saga, bool commit, PoolHop[] hops, long now)
    {
        if (s.LockedBy == saga) return new PoolUnlocked(saga, commit, commit ? hops : [], now);
        if (s.Answers.Find(saga.Account, saga.Id, out _) != Known.Absent) return null;
        if (commit) throw new InvalidOperationException($"pool {s.Id}: saga {saga} committed without holding the lock");
        return new PoolUnlocked(saga, false, [], now);
    }

    /// <summary>The reserves a saga plans against (null: no such pool).</summary>
    public static PoolReserves? Reserves(PoolState s) => s.Exists ? new PoolReserves(s.AssetA, s.AssetB, s.ReserveA, s.ReserveB, s.FeeBps) : null;

    private static bool Sides(PoolState s, AssetId assetIn, out Amount reserveIn, out Amount reserveOut)
    {
        (reserveIn, reserveOut) = assetIn == s.AssetA ? (s.ReserveA, s.ReserveB) : (s.ReserveB, s.ReserveA);
        return assetIn == s.AssetA || assetIn == s.AssetB;
    }

    private static AssetId Other(PoolState s, AssetId asset) => asset == s.AssetA ? s.AssetB : s.AssetA;

    public static void Apply(PoolState s, IPoolEvent e)
    {
        switch (e)
        {
            case PoolCreated c:
                s.Exists = true;
                s.AssetA = c.AssetA;
                s.AssetB = c.AssetB;
                s.FeeBps = c.FeeBps;
                s.CreatedAt = c.At;
                break;
            case PoolCallDecided d:
                if (d.Code is null)
                {
                    foreach (var leg in d.In) Move(s, leg, incoming: true);
                    foreach (var leg in d.Out) Move(s, leg, incoming: false);
                    s.TotalShares += d.Locked;
                    s.LockedShares += d.Locked;
                }
                s.CallCount++;
                s.Answers.Remember(d.Account, d.Id, new CallAnswer(d.Out, d.Code));
                break;
            case RouteAnswered r:
                s.CallCount++;
                s.Answers.Remember(r.Account, r.Id, r.Answer);
                break;
            case RouteBatchDecided d:
                foreach (var hop in d.Own)
                {
                    Move(s, new Leg(hop.AssetIn, hop.AmountIn), incoming: true);
                    Move(s, new Leg(hop.AssetOut, hop.AmountOut), incoming: false);
                }
                if (d.Remote.Length > 0) s.RouteUnlocks[d.Batch] = d.Remote.ToDictionary(r => r.Pool, r => r.Hops);
                break;
            case RouteBatchUnlocked u:
                if (s.RouteUnlocks.TryGetValue(u.Batch, out var pools) && pools.Remove(u.Pool) && pools.Count == 0) s.RouteUnlocks.Remove(u.Batch);
                break;
            case PoolLocked l:
                s.LockedBy = l.Saga;
                s.LockExpiresAt = l.ExpiresAt;
                break;
            case PoolUnlocked u:
                {
                    if (s.LockedBy == u.Saga) s.LockedBy = null;
                    var @out = new List<Leg>(u.Hops.Length);
                    foreach (var hop in u.Hops)
                    {
                        Move(s, new Leg(hop.AssetIn, hop.AmountIn), incoming: true);
                        Move(s, new Leg(hop.AssetOut, hop.AmountOut), incoming: false);
                        @out.Add(new Leg(hop.AssetOut, hop.AmountOut));
                    }
                    s.CallCount += u.Hops.Length;
                    s.Answers.Remember(u.Saga.Account, u.Saga.Id, new CallAnswer([.. @out], u.Commit ? null : Codes.LinkedOperationFailed));
                    break;
                }
            default:
                throw new ArgumentException($"unknown pool event {e.GetType().Name}", nameof(e));
        }
    }

    /// <summary>A leg into the pool adds to a reserve (or burns shares); a leg out takes from it (or mints shares).</summary>
    private static void Move(PoolState s, Leg leg, bool incoming)
    {
        if (leg.Asset == s.AssetA) s.ReserveA = incoming ? s.ReserveA + leg.Amount : s.ReserveA - leg.Amount;
        else if (leg.Asset == s.AssetB) s.ReserveB = incoming ? s.ReserveB + leg.Amount : s.ReserveB - leg.Amount;
        else if (leg.Asset == s.ShareAsset) s.TotalShares = incoming ? s.TotalShares - leg.Amount : s.TotalShares + leg.Amount;
        else throw new InvalidOperationException($"pool {s.Id} moved {leg.Asset}, which it does not hold");
    }

    /// <summary>
    /// Per asset, the pool's net holding: its reserves, and minus the shares it has issued to accounts. A route batch's
    /// hops that another pool has not yet applied are still here: what they bring that pool in flight, what they pay out
    /// owed (so the audit, finding something in flight, looks again).
    /// </summary>
    public static Protocol.Holding[] Holdings(PoolState s, bool withOwed = true)
    {
        if (!s.Exists) return [];
        Protocol.Holding[] own =
        [
            new(s.AssetA, (Int128)s.ReserveA.Value, default, default),
            new(s.AssetB, (Int128)s.ReserveB.Value, default, default),
            new(s.ShareAsset, -(Int128)s.SharesOutstanding.Value, default, s.SharesOutstanding),
        ];
        if (!withOwed || s.RouteUnlocks.Count == 0) return own;
        var owed = RouteHopsOwed(s).SelectMany(o => new[]
        {
            new Protocol.Holding(o.Hop.AssetIn, 0, o.Hop.AmountIn, default), new Protocol.Holding(o.Hop.AssetOut, -(Int128)o.Hop.AmountOut.Value, default, default),
        });
        return [.. own, .. owed];
    }

    /// <summary>The hops of this pool's decided route batches that another pool has not yet acknowledged.</summary>
    public static IEnumerable<(SagaKey Batch, PoolId Pool, PoolHop Hop)> RouteHopsOwed(PoolState s) =>
        s.RouteUnlocks.SelectMany(b => b.Value.SelectMany(p => p.Value.Select(h => (b.Key, p.Key, h))));
}
