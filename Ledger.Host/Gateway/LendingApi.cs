using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>The oracle and isolated lending markets (api.md): prices, markets, the six position operations, liquidation, positions.</summary>
public static class LendingApi
{
    /// <summary>Each position operation's path segment, and its name in the OpenAPI document (a generated client's method).</summary>
    private static readonly Dictionary<string, (MarketCallKind Kind, string OperationId)> Operations = new()
    {
        ["supply"] = (MarketCallKind.Supply, "supplyToMarket"),
        ["withdraw"] = (MarketCallKind.Withdraw, "withdrawFromMarket"),
        ["supply_collateral"] = (MarketCallKind.SupplyCollateral, "supplyCollateral"),
        ["withdraw_collateral"] = (MarketCallKind.WithdrawCollateral, "withdrawCollateral"),
        ["borrow"] = (MarketCallKind.Borrow, "borrow"),
        ["repay"] = (MarketCallKind.Repay, "repay"),
    };

    public static void MapLending(this IEndpointRouteBuilder v1)
    {
        v1.MapPut("/oracle/prices/{asset}", async (string asset, HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var id = new AssetId(RequestBody.PathId(asset, "asset"));
            var body = await RequestBody.ReadAsync(request);
            if (!Fixed.TryParseWad(body.Text("price", 64), out var price) || price.IsZero)
                throw RequestBody.Invalid(Codes.InvalidAmount, "'price' is a positive decimal string with up to 18 places");
            if (await ledger.FindAsset(id) is null) return Problems.Rejection(Codes.AssetNotFound);
            var read = await ledger.Ask(new SetPrice(id, price));
            return Results.Json(new OraclePriceJson(id.Value, Fixed.FormatWad(price.Value), read.Version));
        }).Accepting<PriceBody>().Produces<OraclePriceJson>().WithName("setPrice");

        v1.MapPost("/markets", async (HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var body = await RequestBody.ReadAsync(request);
            var id = new MarketId(body.Id("id"));
            var (loan, collateral) = (new AssetId(body.Id("loan_asset")), new AssetId(body.Id("collateral_asset")));
            if (loan == collateral) throw RequestBody.Invalid(Codes.InvalidRequest, "'loan_asset' and 'collateral_asset' must differ");
            var lltv = (int)body.WholeNumber("lltv_bps", 1, Fixed.Bps - 1, required: true)!.Value;
            var r = body.Nested("rate").Allow<RateModelJson>();
            var rate = new RateModel((int)r.WholeNumber("base_bps", 0, 1_000_000, true)!.Value, (int)r.WholeNumber("slope1_bps", 0, 1_000_000, true)!.Value,
                (int)r.WholeNumber("slope2_bps", 0, 1_000_000, true)!.Value, (int)r.WholeNumber("kink_bps", 1, Fixed.Bps - 1, true)!.Value);
            if (rate.Invalid() is { } why) throw RequestBody.Invalid(Codes.InvalidRequest, why);
            var reserveFactor = (int)(body.WholeNumber("reserve_factor_bps", 0, Fixed.Bps) ?? 0);
            var bonus = (int)(body.WholeNumber("liquidation_bonus_bps", 0, MarketContract.BonusBpsMax) ?? 0);
            if (await ledger.FindAsset(loan) is not { } loanAsset || await ledger.FindAsset(collateral) is not { } collateralAsset)
                return Problems.Rejection(Codes.AssetNotFound);
            var created = await ledger.Ask(new CreateMarket(id, loan, collateral, loanAsset.Decimals, collateralAsset.Decimals, lltv, rate, reserveFactor, bonus));
            if (created.IsRejected) return Problems.Rejection(created.Rejection, $"market '{id}' exists with another definition");
            return Results.Json(Market(created.Reply), statusCode: created.Reply.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }).Accepting<CreateMarketBody>().Produces<MarketJson>(StatusCodes.Status201Created).Produces<MarketJson>().WithName("createMarket");

        v1.MapGet("/markets/{id}", async (string id, LedgerClient ledger) =>
            await ledger.Find(new GetMarket(new MarketId(RequestBody.PathId(id, "market")))) is { } m
                ? Results.Json(Market(m))
                : Problems.NotFound(Codes.MarketNotFound)).Produces<MarketJson>().WithName("getMarket");

        v1.MapGet("/markets/{id}/positions/{account}", async (string id, string account, HttpContext context, Auth auth, LedgerClient ledger) =>
        {
            var holder = new AccountId(RequestBody.PathId(account, "account"));
            await auth.RequireAccount(context, holder);
            return await ledger.Find(new GetMarketPosition(new MarketId(RequestBody.PathId(id, "market")), holder)) is { } p
                ? Results.Json(new MarketPositionJson(p.Supplied.ToString(), p.Borrowed.ToString(), p.Collateral.ToString(),
                    p.HealthFactor is { } h ? Fixed.FormatWad(h.Value) : null))
                : Problems.NotFound(Codes.MarketNotFound);
        }).Produces<MarketPositionJson>().WithName("getMarketPosition");

        // One named path per operation, so that the OpenAPI document (and a client generated from it) names each.
        foreach (var (operation, (_, operationId)) in Operations)
            v1.MapPost("/markets/{id}/" + operation, (string id, HttpRequest request, Auth auth, LedgerClient ledger) => Call(id, operation, request, auth, ledger))
                .Accepting<VenueCallBody>().Produces<TransactionJson>().WithName(operationId);
        v1.MapPost("/markets/{id}/liquidate", (string id, HttpRequest request, Auth auth, LedgerClient ledger) => Call(id, "liquidate", request, auth, ledger))
            .Accepting<LiquidateBorrowerBody>().Produces<TransactionJson>().WithName("liquidateBorrower");
    }

    private static MarketJson Market(MarketView m) => new(m.Id.Value, m.LoanAsset.Value, m.CollateralAsset.Value, m.LltvBps,
        new RateModelJson(m.Rate.BaseBps, m.Rate.Slope1Bps, m.Rate.Slope2Bps, m.Rate.KinkBps), m.ReserveFactorBps, m.LiquidationBonusBps,
        m.TotalSupplied.ToString(), m.TotalBorrowed.ToString(), m.Cash.ToString(), m.Collateral.ToString(), m.Reserves.ToString(),
        m.UtilizationBps, m.BorrowRateBps, m.SupplyRateBps);

    private static async Task<IResult> Call(string id, string operation, HttpRequest request, Auth auth, LedgerClient ledger)
    {
        var market = new MarketId(RequestBody.PathId(id, "market"));
        var liquidate = operation == "liquidate";
        var body = await RequestBody.ReadAsync(request);
        var tx = new TxId(body.Id("id"));
        var account = new AccountId(body.Id(liquidate ? "liquidator" : "account"));
        var amount = body.Amount(liquidate ? "repay_amount" : "amount");
        var borrower = liquidate ? new AccountId(body.Id("borrower")) : (AccountId?)null;
        await auth.RequireInitiator(request.HttpContext, account);
        if (await ledger.Find(new GetMarket(market)) is not { } m) return Problems.Rejection(Codes.MarketNotFound);
        var kind = liquidate ? MarketCallKind.Liquidate : Operations[operation].Kind;
        Leg[] @in = kind switch
        {
            MarketCallKind.Supply or MarketCallKind.Repay or MarketCallKind.Liquidate => [new Leg(m.LoanAsset, amount)],
            MarketCallKind.SupplyCollateral => [new Leg(m.CollateralAsset, amount)],
            _ => [],
        };
        return VenuesApi.Outcome(await ledger.Ask(new CallVenue(account, tx, new MarketCall(market, kind, @in, amount, borrower))));
    }
}

/// <summary>A price: the value of one whole token in the common quote unit, a decimal with up to 18 places.</summary>
public sealed record PriceBody(string Price);

/// <summary>The price as set, and the oracle's version after it.</summary>
public sealed record OraclePriceJson(string Asset, string Price, long Version);

/// <summary>The borrow rate: <c>base + slope1·U/kink</c> up to the kink, then <c>slope2</c> above it (per year, in basis points).</summary>
public sealed record RateModelJson(int BaseBps, int Slope1Bps, int Slope2Bps, int KinkBps);

/// <summary>An isolated market of one loan and one collateral asset.</summary>
public sealed record CreateMarketBody(string Id, string LoanAsset, string CollateralAsset, int LltvBps, RateModelJson Rate, int ReserveFactorBps = 0,
    int LiquidationBonusBps = 0);

public sealed record MarketJson(string Id, string LoanAsset, string CollateralAsset, int LltvBps, RateModelJson Rate, int ReserveFactorBps,
    int LiquidationBonusBps, string TotalSupplied, string TotalBorrowed, string Cash, string TotalCollateral, string Reserves, int UtilizationBps,
    int BorrowRateBps, int SupplyRateBps);

/// <summary>An account's position; <c>health_factor</c> is a decimal, null without debt.</summary>
public sealed record MarketPositionJson(string Supplied, string Borrowed, string Collateral, string? HealthFactor);

/// <summary>An operation of one account with an amount at a venue: a market's position operations, a farm's, an option's, a perp's vault and margin, a channel's deposit.</summary>
public sealed record VenueCallBody(string Id, string Account, string Amount);

/// <summary>The liquidator repays up to <c>repay_amount</c> of the borrower's debt and receives its collateral with the bonus.</summary>
public sealed record LiquidateBorrowerBody(string Id, string Liquidator, string Borrower, string RepayAmount);
