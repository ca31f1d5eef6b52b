using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Sagas;

/// <summary>
/// Prices a multi-party transaction against the pools it has locked: every operation in order, each seeing the
/// reserves the ones before it left (a batch may cross one pool twice). Pure: the coordinator runs it once its
/// locks are held, and what it returns is all the pools and accounts are later told to apply.
/// </summary>
public static class SagaPlanner
{
    /// <summary>The first operation that cannot run at these reserves, or the fill of every operation.</summary>
    public static (OpFill[]? Fills, int FailedOp, string? Code) Plan(IReadOnlyList<SagaOp> ops, IReadOnlyDictionary<PoolId, PoolReserves?> pools, long now)
    {
        var reserves = new Dictionary<PoolId, PoolReserves>();
        foreach (var (id, r) in pools)
            if (r is not null) reserves[id] = r;
        var fills = new OpFill[ops.Count];
        for (var i = 0; i < ops.Count; i++)
        {
            var (fill, code) = ops[i] switch
            {
                TransferOp t => t.To == t.Account ? (null, Codes.SameAccount) : t.Amount.IsZero ? (null, Codes.ZeroAmount) : (OpFill.Transfer, null),
                SwapOp s => Price(s, reserves, now),
                _ => ((OpFill?)null, Codes.InvalidRequest),
            };
            if (code is not null) return (null, i, code);
            fills[i] = fill!;
        }
        return (fills, -1, null);
    }

    /// <summary>
    /// One swap along its route (Uniswap v2's router): its fill, with <paramref name="reserves"/> moved by its hops; or the
    /// code it fails with, when <paramref name="reserves"/> may have moved by some of them.
    /// </summary>
    public static (OpFill? Fill, string? Code) Price(SwapOp op, Dictionary<PoolId, PoolReserves> reserves, long now)
    {
        if (op.Deadline is { } deadline && now > deadline) return (null, Codes.DeadlinePassed);
        if (op.Route.Length == 0 || op.Route.Distinct().Count() != op.Route.Length) return (null, Codes.InvalidRequest);
        var hops = op.Route.Length;
        var path = new AssetId[hops + 1];
        path[0] = op.AssetIn;
        for (var j = 0; j < hops; j++)
        {
            if (!reserves.TryGetValue(op.Route[j], out var r)) return (null, Codes.PoolNotFound);
            if (path[j] != r.AssetA && path[j] != r.AssetB) return (null, Codes.AssetNotInPool);
            path[j + 1] = path[j] == r.AssetA ? r.AssetB : r.AssetA;
        }
        var amounts = new Amount[hops + 1];
        if (!op.ExactOut)
        {
            amounts[0] = op.AmountIn;
            if (amounts[0].IsZero) return (null, Codes.ZeroAmount);
            for (var j = 0; j < hops; j++)
            {
                var (rIn, rOut, fee) = Sides(reserves[op.Route[j]], path[j]);
                if (rIn.IsZero || rOut.IsZero) return (null, Codes.InsufficientLiquidity);
                amounts[j + 1] = PoolMath.AmountOut(amounts[j], rIn, rOut, fee);
                if (amounts[j + 1].IsZero) return (null, Codes.InsufficientOutputAmount);
            }
            if (amounts[hops] < op.MinOut) return (null, Codes.SlippageExceeded);
        }
        else
        {
            // Router02.getAmountsIn: from the exact output backwards, each hop's input rounded in the pool's favour.
            amounts[hops] = op.AmountOut!.Value;
            if (amounts[hops].IsZero) return (null, Codes.ZeroAmount);
            for (var j = hops - 1; j >= 0; j--)
            {
                var (rIn, rOut, fee) = Sides(reserves[op.Route[j]], path[j]);
                if (rIn.IsZero || amounts[j + 1] >= rOut) return (null, Codes.InsufficientLiquidity);
                if (PoolMath.AmountIn(amounts[j + 1], rIn, rOut, fee) is not { } amountIn) return (null, Codes.SlippageExceeded);
                amounts[j] = amountIn;
            }
            if (amounts[0] > op.AmountIn) return (null, Codes.SlippageExceeded);
        }
        for (var j = 0; j < hops; j++)
        {
            var next = Apply(reserves[op.Route[j]], new PoolHop(path[j], amounts[j], path[j + 1], amounts[j + 1]));
            if (next is null) return (null, Codes.InsufficientLiquidity);
            reserves[op.Route[j]] = next;
        }
        return (new OpFill(path, amounts), null);
    }

    private static (Amount In, Amount Out, int Fee) Sides(PoolReserves r, AssetId assetIn) =>
        assetIn == r.AssetA ? (r.ReserveA, r.ReserveB, r.FeeBps) : (r.ReserveB, r.ReserveA, r.FeeBps);

    /// <summary>The reserves after one hop, or null when the input would overflow a reserve.</summary>
    public static PoolReserves? Apply(PoolReserves r, PoolHop hop)
    {
        var (rIn, rOut) = hop.AssetIn == r.AssetA ? (r.ReserveA, r.ReserveB) : (r.ReserveB, r.ReserveA);
        if (rIn.Value > UInt128.MaxValue - hop.AmountIn.Value) return null;
        var (newIn, newOut) = (rIn + hop.AmountIn, rOut - hop.AmountOut);
        return hop.AssetIn == r.AssetA ? r with { ReserveA = newIn, ReserveB = newOut } : r with { ReserveA = newOut, ReserveB = newIn };
    }

    /// <summary>Every account taking part, in a fixed order (ordinal by id).</summary>
    public static AccountId[] Accounts(IEnumerable<SagaOp> ops) =>
        [.. ops.SelectMany(o => o is TransferOp t ? new[] { t.Account, t.To } : [o.Account]).Distinct().OrderBy(a => a.Value, StringComparer.Ordinal)];

    /// <summary>Every pool taking part, in the order their locks are taken (ordinal by id), so that two sagas can never deadlock.</summary>
    public static PoolId[] Pools(IEnumerable<SagaOp> ops) =>
        [.. ops.OfType<SwapOp>().SelectMany(s => s.Route).Distinct().OrderBy(p => p.Value, StringComparer.Ordinal)];

    /// <summary>The operations <paramref name="account"/> takes part in (initiating, or receiving a transfer), with their positions.</summary>
    public static SagaOpAt[] OpsOf(IReadOnlyList<SagaOp> ops, AccountId account)
    {
        var mine = new List<SagaOpAt>();
        for (var i = 0; i < ops.Count; i++)
            if (ops[i].Account == account || ops[i] is TransferOp t && t.To == account) mine.Add(new SagaOpAt(i, ops[i]));
        return [.. mine];
    }

    /// <summary>
    /// An account's legs before any pool is priced: transfers as they are; a swap takes at most its input (exact output:
    /// its maximum) and is counted as bringing nothing. Whatever the fills, a hold for these covers the exact legs.
    /// </summary>
    public static SagaLeg[] WorstCaseLegsOf(IReadOnlyList<SagaOpAt> ops, AccountId account) => LegsOf(ops, null, account);

    /// <summary>An account's debits and credits, in operation order, from the fills (without them: the worst case).</summary>
    public static SagaLeg[] LegsOf(IReadOnlyList<SagaOpAt> ops, IReadOnlyList<OpFill>? fills, AccountId account)
    {
        var legs = new List<SagaLeg>();
        foreach (var (i, op) in ops)
            switch (op)
            {
                case TransferOp { Balancing: true } t when fills is null || fills[i].Amounts is null:
                    // Not worked out yet: the payer's vote sets it; a payee counts on nothing (it votes once it is known).
                    legs.Add(t.To == account ? new SagaLeg(i, t.Asset, Amount.Zero, Credit: true) : new SagaLeg(i, t.Asset, t.Amount, Credit: false, Balancing: true));
                    break;
                case TransferOp t:
                    legs.Add(new SagaLeg(i, t.Asset, OpFill.Moved(t, fills?[i]), Credit: t.To == account));
                    break;
                case SwapOp s when fills is null:
                    legs.Add(new SagaLeg(i, s.AssetIn, s.AmountIn, false));
                    break;
                case SwapOp:
                    var fill = fills![i];
                    legs.Add(new SagaLeg(i, fill.Path![0], fill.AmountIn, false));
                    legs.Add(new SagaLeg(i, fill.Path![^1], fill.AmountOut, true));
                    break;
            }
        return [.. legs];
    }

    /// <summary>
    /// The balancing transfers paying each account, by operation: an account votes once their payers have said what
    /// they move, so that its own legs (and balancing transfers it pays) count what it really receives.
    /// </summary>
    public static ILookup<AccountId, int> BalancingInto(IReadOnlyList<SagaOp> ops) =>
        Enumerable.Range(0, ops.Count).Where(i => ops[i] is TransferOp { Balancing: true }).ToLookup(i => ((TransferOp)ops[i]).To);

    /// <summary>
    /// Whether balancing transfers pay around a cycle of accounts (a pays b, b pays a): each would wait for the other's
    /// vote, so such a saga is refused before it starts.
    /// </summary>
    public static bool BalancingCycle(IReadOnlyList<SagaOp> ops)
    {
        if (!ops.Any(o => o is TransferOp { Balancing: true })) return false;
        // Kahn's algorithm over "payer → payee" edges of balancing transfers: what is never freed lies on a cycle.
        var edges = ops.OfType<TransferOp>().Where(t => t.Balancing && t.To != t.Account).Select(t => (t.Account, t.To)).Distinct().ToList();
        var waiting = edges.GroupBy(e => e.To).ToDictionary(g => g.Key, g => g.Count());
        var free = new Queue<AccountId>(edges.Select(e => e.Account).Distinct().Where(a => !waiting.ContainsKey(a)));
        var bySource = edges.ToLookup(e => e.Account, e => e.To);
        while (free.TryDequeue(out var a))
            foreach (var to in bySource[a])
                if (--waiting[to] == 0) free.Enqueue(to);
        return waiting.Values.Any(n => n > 0);
    }

    /// <summary>The hops <paramref name="pool"/> executes, in operation order.</summary>
    public static PoolHop[] HopsOf(IReadOnlyList<SagaOp> ops, IReadOnlyList<OpFill> fills, PoolId pool)
    {
        var hops = new List<PoolHop>();
        for (var i = 0; i < ops.Count; i++)
            if (ops[i] is SwapOp s)
                for (var j = 0; j < s.Route.Length; j++)
                    if (s.Route[j] == pool) hops.Add(new PoolHop(fills[i].Path![j], fills[i].Amounts![j], fills[i].Path![j + 1], fills[i].Amounts![j + 1]));
        return [.. hops];
    }
}

/// <summary>An operation with its position in the saga.</summary>
public sealed record SagaOpAt(int Index, SagaOp Op);
