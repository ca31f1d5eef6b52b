using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Microsoft.OpenApi;

namespace Ledger.Host.Gateway;

/// <summary>AMM pools (api.md): create, read, quote, deposit, withdraw. Swaps are in <see cref="SwapsApi"/>.</summary>
public static class PoolsApi
{
    public static void MapPools(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/pools", async (HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var body = await RequestBody.ReadAsync(request);
            var id = new PoolId(body.Id("id"));
            var (a, b) = (new AssetId(body.Id("asset_a")), new AssetId(body.Id("asset_b")));
            var fee = (int)(body.WholeNumber("fee_bps", 0, PoolContract.FeeBpsMax) ?? 30);
            if (a == b) throw RequestBody.Invalid(Codes.InvalidRequest, "'asset_a' and 'asset_b' must differ");
            if (await ledger.FindAsset(a) is null || await ledger.FindAsset(b) is null) return Problems.Rejection(Codes.AssetNotFound);
            var created = await ledger.Ask(new CreatePool(id, a, b, fee));
            if (created.IsRejected) return Problems.Rejection(created.Rejection, $"pool '{id}' exists with another definition");
            return Results.Json(Views.Pool(created.Reply), statusCode: created.Reply.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }).Accepting<CreatePoolBody>().Produces<PoolJson>(StatusCodes.Status201Created).Produces<PoolJson>().WithName("createPool");

        v1.MapGet("/pools/{id}", async (string id, LedgerClient ledger) =>
            await ledger.Find(new GetPool(new PoolId(RequestBody.PathId(id, "pool")))) is { } p
                ? Results.Json(Views.Pool(p))
                : Problems.NotFound(Codes.PoolNotFound)).Produces<PoolJson>().WithName("getPool");

        v1.MapGet("/pools/{id}/quote", async (string id, string? asset_in, string? amount_in, LedgerClient ledger) =>
        {
            var pool = new PoolId(RequestBody.PathId(id, "pool"));
            var assetIn = new AssetId(RequestBody.PathId(asset_in ?? "", "asset_in"));
            if (!Amount.TryParse(amount_in, out var amountIn)) throw RequestBody.Invalid(Codes.InvalidAmount, "'amount_in' must be a string of decimal digits below 2^128");
            var quote = await ledger.Ask(new QuoteSwap(pool, assetIn, amountIn));
            if (!quote.IsRejected) return Results.Json(new QuoteJson(quote.Reply.AmountOut.ToString()));
            return quote.Rejection == Codes.PoolNotFound ? Problems.NotFound(Codes.PoolNotFound) : Problems.Rejection(quote.Rejection);
        }).Produces<QuoteJson>().WithName("quote")
            .Query("asset_in", JsonSchemaType.String, required: true, "the asset put in")
            .Query("amount_in", JsonSchemaType.String, required: true, "the amount put in, base units");

        v1.MapPost("/pools/{id}/deposits", async (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var body = await RequestBody.ReadAsync(request);
            var (tx, account) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
            await auth.RequireInitiator(request.HttpContext, account);
            if (await ledger.FindPool(new PoolId(RequestBody.PathId(id, "pool"))) is not { } pool) return Problems.Rejection(Codes.PoolNotFound);
            var call = new PoolCall(pool.Id, PoolCallKind.Deposit,
                [new Leg(pool.AssetA, body.Amount("amount_a_desired")), new Leg(pool.AssetB, body.Amount("amount_b_desired"))],
                MinA: body.AmountOrNull("amount_a_min") ?? default, MinB: body.AmountOrNull("amount_b_min") ?? default);
            return await Call(ledger, account, tx, call, r => new DepositJson(r.AmountA.ToString(), r.AmountB.ToString(), r.Shares.ToString()));
        }).Accepting<DepositBody>().Produces<DepositJson>().WithName("depositToPool");

        v1.MapPost("/pools/{id}/withdrawals", async (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var body = await RequestBody.ReadAsync(request);
            var (tx, account) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
            await auth.RequireInitiator(request.HttpContext, account);
            if (await ledger.FindPool(new PoolId(RequestBody.PathId(id, "pool"))) is not { } pool) return Problems.Rejection(Codes.PoolNotFound);
            var call = new PoolCall(pool.Id, PoolCallKind.Withdraw, [new Leg(pool.Id.ShareAsset, body.Amount("shares"))],
                MinA: body.AmountOrNull("amount_a_min") ?? default, MinB: body.AmountOrNull("amount_b_min") ?? default);
            return await Call(ledger, account, tx, call, r => new WithdrawalJson(r.AmountA.ToString(), r.AmountB.ToString()));
        }).Accepting<WithdrawalBody>().Produces<WithdrawalJson>().WithName("withdrawFromPool");
    }

    /// <summary>Runs one pool call through the initiating account; a refusal is a problem with its code.</summary>
    public static async Task<IResult> Call(LedgerClient ledger, AccountId account, TxId id, PoolCall call, Func<PoolCallResult, object> view) =>
        await ledger.Ask(new CallPool(account, id, call)) switch
        {
            { Transaction: { Status: Contracts.Accounts.TransferStatus.Committed } t } => Results.Json(view(PoolCallResult.Of(t.Call!, t.Returned!))),
            { Transaction: { } t } => Problems.Rejection(t.Code ?? Codes.Unavailable),
            var refused => Problems.Rejection(refused.Code!),
        };
}

/// <summary>A pool of two assets; its shares are the asset <c>lp.&lt;id&gt;</c>. <c>fee_bps</c> 30 if omitted.</summary>
public sealed record CreatePoolBody(string Id, string AssetA, string AssetB, int FeeBps = 30);

/// <summary>What a swap of <c>amount_in</c> would give now (no state change).</summary>
public sealed record QuoteJson(string AmountOut);

/// <summary>Liquidity as Uniswap v2's router adds it: the amounts used follow the pool's ratio, not below the minimums.</summary>
public sealed record DepositBody(string Id, string Account, string AmountADesired, string AmountBDesired, string? AmountAMin = null, string? AmountBMin = null);

public sealed record DepositJson(string AmountA, string AmountB, string Shares);

/// <summary>Shares given back for a pro-rata part of the reserves, not below the minimums.</summary>
public sealed record WithdrawalBody(string Id, string Account, string Shares, string? AmountAMin = null, string? AmountBMin = null);

public sealed record WithdrawalJson(string AmountA, string AmountB);
