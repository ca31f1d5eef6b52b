using System.Globalization;
using System.Numerics;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Perps;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>Perpetual futures (api.md 1.1, "Perpetual futures"): markets, the vault, margin, orders, liquidations, views.</summary>
public static class PerpsApi
{
    public static void MapPerps(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/perps", async (HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var body = await RequestBody.ReadAsync(request);
            var id = new PerpId(body.Id("id"));
            var (underlying, margin) = (new AssetId(body.Id("underlying")), new AssetId(body.Id("margin_asset")));
            var skewScale = body.Amount("skew_scale");
            var velocity = Wad(body, "max_funding_velocity", allowZero: true);
            var (initial, maintenance, reward) = (Ratio(body, "initial_margin_ratio"), Ratio(body, "maintenance_margin_ratio"), Ratio(body, "liquidation_reward_ratio"));
            if (maintenance > initial) throw RequestBody.Invalid(Codes.InvalidRequest, "maintenance_margin_ratio is above initial_margin_ratio");
            var fee = (int)body.WholeNumber("taker_fee_bps", 0, Fixed.Bps, required: true)!.Value;
            if (skewScale.IsZero) throw RequestBody.Invalid(Codes.InvalidRequest, "skew_scale is positive");
            if (underlying == margin) throw RequestBody.Invalid(Codes.InvalidRequest, "underlying and margin_asset are the same asset");
            if (await ledger.FindAsset(underlying) is not { } u || await ledger.FindAsset(margin) is not { } m) return Problems.Rejection(Codes.AssetNotFound);
            var created = await ledger.Ask(new CreatePerp(id, new PerpParameters(underlying, margin, u.Decimals, m.Decimals, skewScale, velocity, initial, maintenance, reward, fee)));
            if (created.IsRejected) return Problems.Rejection(created.Rejection, $"perpetual market '{id}' exists with another definition");
            return Results.Json(Market(created.Reply), statusCode: created.Reply.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }).Accepting<CreatePerpBody>().Produces<PerpJson>(StatusCodes.Status201Created).Produces<PerpJson>().WithName("createPerp");

        v1.MapGet("/perps/{id}", async (string id, LedgerClient ledger) =>
            await ledger.Find(new GetPerp(new PerpId(RequestBody.PathId(id, "perp")))) is { } p ? Results.Json(Market(p)) : Problems.NotFound(Codes.PerpNotFound))
            .Produces<PerpJson>().WithName("getPerp");

        v1.MapGet("/perps/{id}/positions/{account}", async (string id, string account, HttpContext context, Auth auth, LedgerClient ledger) =>
        {
            var trader = new AccountId(RequestBody.PathId(account, "account"));
            await auth.RequireAccount(context, trader);
            return await ledger.Find(new GetPerpPosition(new PerpId(RequestBody.PathId(id, "perp")), trader)) is { } p
                ? Results.Json(new PerpPositionJson(p.Size.ToString(CultureInfo.InvariantCulture), Fixed.FormatWad(p.EntryPrice.Value), p.Margin.ToString(),
                    p.Pnl.ToString(CultureInfo.InvariantCulture), p.Funding.ToString(CultureInfo.InvariantCulture), p.Equity.ToString(CultureInfo.InvariantCulture),
                    p.LiquidationPrice is { } l ? Fixed.FormatWad(l.Value) : null))
                : Problems.NotFound(Codes.PerpNotFound);
        }).Produces<PerpPositionJson>().WithName("getPerpPosition");

        // One named path per operation, so that the OpenAPI document (and a client generated from it) names each.
        foreach (var operation in new[] { "deposit", "withdraw" })
        {
            var deposit = operation == "deposit";
            v1.MapPost("/perps/{id}/vault/" + operation, (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
                Transfer(id, operation, PerpCallKind.VaultDeposit, PerpCallKind.VaultWithdraw, request, auth, ledger))
                .Accepting<VenueCallBody>().Produces<TransactionJson>().WithName(deposit ? "depositToVault" : "withdrawFromVault");
            v1.MapPost("/perps/{id}/margin/" + operation, (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
                Transfer(id, operation, PerpCallKind.MarginDeposit, PerpCallKind.MarginWithdraw, request, auth, ledger))
                .Accepting<VenueCallBody>().Produces<TransactionJson>().WithName(deposit ? "depositMargin" : "withdrawMargin");
        }

        v1.MapPost("/perps/{id}/orders", async (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var perp = new PerpId(RequestBody.PathId(id, "perp"));
            var body = await RequestBody.ReadAsync(request);
            var (tx, account) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
            await auth.RequireInitiator(request.HttpContext, account);
            if (!Int128.TryParse(body.Text("size_delta", 48), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var delta) || delta == Int128.MinValue)
                throw RequestBody.Invalid(Codes.InvalidAmount, "size_delta is a signed integer of base units");
            if (await ledger.Find(new GetPerp(perp)) is null) return Problems.Rejection(Codes.PerpNotFound);
            var size = new Amount((UInt128)Int128.Abs(delta));
            return VenuesApi.Outcome(await ledger.Ask(new CallVenue(account, tx, new PerpCall(perp, PerpCallKind.Order, [], size, delta))));
        }).Accepting<OrderBody>().Produces<TransactionJson>().WithName("placeOrder");

        v1.MapPost("/perps/{id}/liquidate", async (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var perp = new PerpId(RequestBody.PathId(id, "perp"));
            var body = await RequestBody.ReadAsync(request);
            var (tx, liquidator, trader) = (new TxId(body.Id("id")), new AccountId(body.Id("liquidator")), new AccountId(body.Id("account")));
            await auth.RequireInitiator(request.HttpContext, liquidator);
            if (await ledger.Find(new GetPerp(perp)) is null) return Problems.Rejection(Codes.PerpNotFound);
            return VenuesApi.Outcome(await ledger.Ask(new CallVenue(liquidator, tx, new PerpCall(perp, PerpCallKind.Liquidate, [], Amount.Zero, Target: trader))));
        }).Accepting<LiquidateTraderBody>().Produces<TransactionJson>().WithName("liquidateTrader");
    }

    private static async Task<IResult> Transfer(string id, string operation, PerpCallKind deposit, PerpCallKind withdraw, HttpRequest request, Auth auth, LedgerClient ledger)
    {
        var perp = new PerpId(RequestBody.PathId(id, "perp"));
        var kind = operation switch { "deposit" => deposit, "withdraw" => withdraw, _ => (PerpCallKind?)null };
        if (kind is null) return Problems.NotFound(Codes.NotFound);
        var body = await RequestBody.ReadAsync(request);
        var (tx, account) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
        await auth.RequireInitiator(request.HttpContext, account);
        var amount = body.Amount("amount");
        if (await ledger.Find(new GetPerp(perp)) is not { } p) return Problems.Rejection(Codes.PerpNotFound);
        Leg[] @in = kind == deposit ? [new Leg(p.Parameters.MarginAsset, amount)] : [];
        return VenuesApi.Outcome(await ledger.Ask(new CallVenue(account, tx, new PerpCall(perp, kind.Value, @in, amount))));
    }

    /// <summary>A decimal in (0, 1) with up to 18 places, as WAD.</summary>
    private static Amount Ratio(RequestBody body, string name)
    {
        var wad = Wad(body, name, allowZero: false);
        return wad.Value < (UInt128)Fixed.Wad ? wad : throw RequestBody.Invalid(Codes.InvalidRequest, $"{name} is a decimal between 0 and 1");
    }

    private static Amount Wad(RequestBody body, string name, bool allowZero) =>
        Fixed.TryParseWad(body.Text(name, 64), out var wad) && (allowZero || !wad.IsZero)
            ? wad
            : throw RequestBody.Invalid(Codes.InvalidRequest, $"{name} is a {(allowZero ? "non-negative" : "positive")} decimal with at most 18 places");

    private static string Signed(BigInteger wad) => wad.Sign < 0 ? "-" + Fixed.FormatWad(-wad) : Fixed.FormatWad(wad);

    private static PerpJson Market(PerpView p) => new(p.Id.Value, p.Parameters.Underlying.Value, p.Parameters.MarginAsset.Value, p.Parameters.SkewScale.ToString(),
        Fixed.FormatWad(p.Parameters.MaxFundingVelocity.Value), Fixed.FormatWad(p.Parameters.InitialMarginRatio.Value),
        Fixed.FormatWad(p.Parameters.MaintenanceMarginRatio.Value), Fixed.FormatWad(p.Parameters.LiquidationRewardRatio.Value), p.Parameters.TakerFeeBps,
        p.Skew.ToString(CultureInfo.InvariantCulture), p.LongOpenInterest.ToString(), p.ShortOpenInterest.ToString(), Signed(p.FundingRate),
        Signed(p.FundingVelocity), p.Vault.ToString(), p.Price is { } price ? Fixed.FormatWad(price.Value) : null);
}

/// <summary>
/// A perpetual market: <c>skew_scale</c> in base units of the underlying; the funding velocity (per day, per day) and the
/// ratios are decimals; the taker fee in basis points.
/// </summary>
public sealed record CreatePerpBody(string Id, string Underlying, string MarginAsset, string SkewScale, string MaxFundingVelocity, string InitialMarginRatio,
    string MaintenanceMarginRatio, string LiquidationRewardRatio, int TakerFeeBps);

/// <summary>A market; <c>price</c> is the oracle's (null while it has none), the signed values may carry a leading '-'.</summary>
public sealed record PerpJson(string Id, string Underlying, string MarginAsset, string SkewScale, string MaxFundingVelocity, string InitialMarginRatio,
    string MaintenanceMarginRatio, string LiquidationRewardRatio, int TakerFeeBps, string Skew, string LongOpenInterest, string ShortOpenInterest,
    string FundingRate, string FundingVelocity, string Vault, string? Price);

/// <summary>A trader's position; <c>size</c>, <c>pnl</c>, <c>funding</c> and <c>equity</c> are signed; no liquidation price without a position.</summary>
public sealed record PerpPositionJson(string Size, string EntryPrice, string Margin, string Pnl, string Funding, string Equity, string? LiquidationPrice);

/// <summary>An order: <c>size_delta</c> is signed, in base units of the underlying (negative sells).</summary>
public sealed record OrderBody(string Id, string Account, string SizeDelta);

/// <summary>The liquidator closes <c>account</c>'s position when its equity is below the maintenance margin.</summary>
public sealed record LiquidateTraderBody(string Id, string Liquidator, string Account);
