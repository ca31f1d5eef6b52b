using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Host.Gateway;

/// <summary>
/// <c>POST /v1/swaps</c>: exact input (<c>amount_in</c>, <c>min_amount_out</c>) or exact output (<c>amount_out</c>,
/// <c>max_amount_in</c>). The trader's account debits the input, and the pool executes and commits in one step; a
/// route of several pools goes to its coordinator, the route's lowest pool (<see cref="RouteDesk"/>), which executes
/// every hop or none.
/// </summary>
public static class SwapsApi
{
    /// <summary>Most pools in one route.</summary>
    public const int RouteMax = 4;

    public static void MapSwaps(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/swaps", async (HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var op = Parse(await RequestBody.ReadAsync(request));
            await auth.RequireInitiator(request.HttpContext, op.Account);
            var (fill, code) = await Run(ledger, op);
            return fill is not null ? Results.Json(Json(fill)) : Problems.Rejection(code!);
        }).Accepting<SwapBody>().Produces<SwapJson>().WithName("swap");
    }

    /// <summary>Reads a swap (also a batch operation).</summary>
    public static SwapOp Parse(RequestBody b)
    {
        var id = new TxId(b.Id("id"));
        var account = new AccountId(b.Id("account"));
        var routeJson = b.Array("route");
        if (routeJson.GetArrayLength() is 0 or > RouteMax) throw RequestBody.Invalid(Codes.InvalidRequest, $"'route' names 1 to {RouteMax} pools");
        PoolId[] route = [.. routeJson.EnumerateArray().Select(e => e.ValueKind == System.Text.Json.JsonValueKind.String && Id.IsValid(e.GetString())
            ? new PoolId(e.GetString()!)
            : throw RequestBody.Invalid(Codes.InvalidId, "'route' holds pool ids"))];
        if (route.Distinct().Count() != route.Length) throw RequestBody.Invalid(Codes.InvalidRequest, "a route crosses each pool once");
        var assetIn = new AssetId(b.Id("asset_in"));
        var deadline = b.WholeNumber("deadline", 0, long.MaxValue);
        var exactOut = b.Has("amount_out");
        if (exactOut == b.Has("amount_in")) throw RequestBody.Invalid(Codes.InvalidRequest, "give either 'amount_in' and 'min_amount_out', or 'amount_out' and 'max_amount_in'");
        return exactOut
            ? new SwapOp(id, account, route, assetIn, b.Amount("max_amount_in"), b.Amount("amount_out"), Deadline: deadline)
            : new SwapOp(id, account, route, assetIn, b.Amount("amount_in"), MinOut: b.AmountOrNull("min_amount_out") ?? default, Deadline: deadline);
    }

    /// <summary>Runs one swap: what it did, or the code it was refused with.</summary>
    public static async Task<(OpFill? Fill, string? Code)> Run(LedgerClient ledger, SwapOp op)
    {
        // The path's assets from the pools' definitions (cached: they never change).
        var assetOut = op.AssetIn;
        foreach (var id in op.Route)
        {
            if (await ledger.FindPool(id) is not { } pool) return (null, Codes.PoolNotFound);
            if (assetOut != pool.AssetA && assetOut != pool.AssetB) return (null, Codes.AssetNotInPool);
            assetOut = assetOut == pool.AssetA ? pool.AssetB : pool.AssetA;
        }
        var (at, route) = op.Route.Length > 1 ? (RouteDesk.Coordinator(op.Route), op.Route) : (op.Route[0], null);
        var call = op.ExactOut
            ? new PoolCall(at, PoolCallKind.SwapExactOut, [new Leg(op.AssetIn, op.AmountIn)], assetOut, op.AmountOut, Deadline: op.Deadline, Route: route)
            : new PoolCall(at, PoolCallKind.SwapExactIn, [new Leg(op.AssetIn, op.AmountIn)], assetOut, MinOut: op.MinOut, Deadline: op.Deadline, Route: route);
        return await ledger.Ask(new CallPool(op.Account, op.Id, call)) switch
        {
            { Transaction: { Status: TransferStatus.Committed } t } => (Fill(t.Call!, t.Returned!, t.Fill), null),
            { Transaction: { } t } => (null, t.Code ?? Codes.Unavailable),
            var refused => (null, refused.Code),
        };
    }

    /// <summary>A swap's result: a route's as its coordinator filled it; a single pool's from what it returned.</summary>
    public static OpFill Fill(PoolCall call, Leg[] returned, OpFill? fill)
    {
        if (fill is not null) return fill;
        var r = PoolCallResult.Of(call, returned);
        return new OpFill([call.In[0].Asset, call.AssetOut!.Value], [r.AmountIn, r.AmountOut]);
    }

    /// <summary>api.md's swap result: what went in, what came out, and the amounts along the path (Uniswap's router order).</summary>
    public static SwapJson Json(OpFill fill) => new(fill.AmountIn.ToString(), fill.AmountOut.ToString(), [.. fill.Amounts!.Select(a => a.ToString())]);
}

/// <summary>
/// A swap along 1 to 4 pools (also a batch's <c>swap</c> operation): exact input (<c>amount_in</c>, <c>min_amount_out</c>)
/// or exact output (<c>amount_out</c>, <c>max_amount_in</c>); <c>deadline</c> in Unix milliseconds.
/// </summary>
public sealed record SwapBody(string Id, string Account, string[] Route, string AssetIn, string? AmountIn = null, string? MinAmountOut = null,
    string? AmountOut = null, string? MaxAmountIn = null, long? Deadline = null);

/// <summary>What a swap took and gave, and the amounts along its path (the input, then each hop's output).</summary>
public sealed record SwapJson(string AmountIn, string AmountOut, string[] Amounts);
