using System.Text.Json.Serialization;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Pools;

/// <summary>A route's answer, decided by the pool coordinating it: what goes back to the account, and the path it took.</summary>
public sealed record RouteAnswered(AccountId Account, TxId Id, PoolId[] Route, Leg[] Out, string? Code, OpFill? Fill, long At) : IPoolEvent
{
    /// <summary>As the trader is answered, and a redelivery after it.</summary>
    [JsonIgnore]
    public CallAnswer Answer => new(Out, Code, 0, Fill);
}

/// <summary>The hops another pool executes for a route batch, sent with that pool's unlock.</summary>
public sealed record RemoteHops(PoolId Pool, PoolHop[] Hops);

/// <summary>
/// A route batch decided by its coordinator: its own hops moved its reserves; every other pool it locked is owed
/// <paramref name="Remote"/> (its hops, possibly none) until that pool acknowledges (<see cref="RouteBatchUnlocked"/>).
/// </summary>
public sealed record RouteBatchDecided(SagaKey Batch, PoolHop[] Own, RemoteHops[] Remote, long At) : IPoolEvent;

public sealed record RouteBatchUnlocked(SagaKey Batch, PoolId Pool, long At) : IPoolEvent;

/// <summary>A route call waiting in its coordinator's next batch.</summary>
public sealed record RouteRequest(AccountId Account, TxId Id, PoolCall Call);

/// <summary>
/// Routes through several pools, coordinated by the route's lowest pool by id. The coordinator gathers the route calls
/// that arrive (the accounts have paid the inputs, as for a single swap), locks once the other pools a group of them
/// crosses, in id order, and prices the whole group in arrival order against its own reserves and the locked ones —
/// each route every hop or none, independently of the others. One durable write of the coordinator then decides every
/// route of the group; the locked pools apply their hops with their unlock. A hot pool is thus held once per batch of
/// routes, not once per route. Locks are still taken in id order by everyone (sagas, and coordinators, whose own pool
/// is the lowest of their routes), so nothing deadlocks.
/// </summary>
public static class RouteDesk
{
    private const string BatchPrefix = "~routes:";

    /// <summary>The key a batch locks pools under: an account name no client can use ('~' is not in ids), and a unique id.</summary>
    public static SagaKey BatchKey(PoolId coordinator, string unique) => new(new AccountId(BatchPrefix + coordinator.Value), new TxId(unique));

    /// <summary>The coordinator of a batch key, or null for a saga's key.</summary>
    public static PoolId? CoordinatorOf(SagaKey key) =>
        key.Account.Value.StartsWith(BatchPrefix, StringComparison.Ordinal) ? new PoolId(key.Account.Value[BatchPrefix.Length..]) : null;

    /// <summary>The pool coordinating a route: its lowest by id.</summary>
    public static PoolId Coordinator(IEnumerable<PoolId> route) => route.MinBy(p => p.Value, StringComparer.Ordinal);

    /// <summary>The pools a coordinator locks for a route, in the order it locks them (by id).</summary>
    public static PoolId[] Others(IEnumerable<PoolId> route, PoolId coordinator) =>
        [.. route.Where(p => p != coordinator).Distinct().OrderBy(p => p.Value, StringComparer.Ordinal)];

    /// <summary>The route call as the saga planner's swap operation.</summary>
    public static SwapOp AsSwap(AccountId account, TxId id, PoolCall call) => call.Kind == PoolCallKind.SwapExactOut
        ? new SwapOp(id, account, call.Route!, call.In[0].Asset, call.In[0].Amount, call.AmountOut, Deadline: call.Deadline)
        : new SwapOp(id, account, call.Route!, call.In[0].Asset, call.In[0].Amount, MinOut: call.MinOut, Deadline: call.Deadline);

    /// <summary>Whether a call is a well-formed route for this coordinator (else it is refused <c>invalid_request</c>).</summary>
    public static bool Valid(PoolCall call, PoolId coordinator) =>
        call.Route is { Length: >= 2 } route && route.Distinct().Count() == route.Length && Coordinator(route) == coordinator
        && call.Kind is PoolCallKind.SwapExactIn or PoolCallKind.SwapExactOut && call.In.Length == 1 && call.AssetOut is not null
        && (call.Kind == PoolCallKind.SwapExactIn || call.AmountOut is not null);

    /// <summary>
    /// Decides a batch: each route in order against the reserves the ones before it left (the coordinator's own, and those
    /// of the pools locked for it; a pool missing from <paramref name="locked"/> or null there was not locked). A route that
    /// cannot run is refused with its input returned, and moves nothing.
    /// </summary>
    public static (RouteAnswered[] Answers, RouteBatchDecided Decided) Decide(SagaKey batch, PoolState own, IReadOnlyList<RouteRequest> routes,
        IReadOnlyDictionary<PoolId, PoolReserves?> locked, long now)
    {
        var reserves = new Dictionary<PoolId, PoolReserves>();
        if (PoolContract.Reserves(own) is { } mine) reserves[own.Id] = mine;
        foreach (var (pool, r) in locked)
            if (r is not null) reserves[pool] = r;
        var hops = locked.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, _ => new List<PoolHop>());
        var ownHops = new List<PoolHop>();
        var answers = new RouteAnswered[routes.Count];
        for (var i = 0; i < routes.Count; i++)
        {
            var (account, id, call) = routes[i];
            var swap = AsSwap(account, id, call);
            // Priced on a copy of the route's reserves, so that a route refused half-way moves nothing.
            var trial = swap.Route.Where(reserves.ContainsKey).ToDictionary(p => p, p => reserves[p]);
            var (fill, code) = SagaPlanner.Price(swap, trial, now);
            if (fill is not null && fill.Path![^1] != call.AssetOut) (fill, code) = (null, Codes.AssetNotInPool);
            if (fill is null)
            {
                answers[i] = new RouteAnswered(account, id, swap.Route, call.In, code, null, now);
                continue;
            }
            foreach (var (pool, r) in trial) reserves[pool] = r;
            var (path, amounts) = (fill.Path!, fill.Amounts!);
            for (var j = 0; j < swap.Route.Length; j++)
            {
                var hop = new PoolHop(path[j], amounts[j], path[j + 1], amounts[j + 1]);
                (swap.Route[j] == own.Id ? ownHops : hops[swap.Route[j]]).Add(hop);
            }
            answers[i] = new RouteAnswered(account, id, swap.Route, Out(call, fill), null, fill, now);
        }
        return (answers, new RouteBatchDecided(batch, [.. ownHops], [.. hops.Select(kv => new RemoteHops(kv.Key, [.. kv.Value]))], now));
    }

    /// <summary>What a filled route pays back: its output, and for an exact output the unused part of the maximum input.</summary>
    private static Leg[] Out(PoolCall call, OpFill fill)
    {
        var output = new Leg(fill.Path![^1], fill.AmountOut);
        var change = call.In[0].Amount - fill.AmountIn;
        return change.IsZero ? [output] : [output, new Leg(call.In[0].Asset, change)];
    }
}
