using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>The oracle and isolated lending markets (api.md): prices, markets, the six position operations, liquidation, positions.</summary>
public static class LendingApi
{
    private static readonly Dictionary<string, MarketCallKind> Operations = new()
    {
        ["supply"] = MarketCallKind.Supply,
        ["withdraw"] = MarketCallKind.Withdraw,
        ["supply_collateral"] = MarketCallKind.SupplyCollateral,
        ["withdraw_collateral"] = MarketCallKind.WithdrawCollateral,
        ["borrow"] = MarketCallKind.Borrow,
        ["repay"] = MarketCallKind.Repay,
    };

    public static void MapLending(this IEndpointRouteBuilder v1)
    {
        v1.MapPut("/oracle/prices/{asset}", async (string asset, HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var id = new AssetId(RequestBody.PathId(asset, "asset"));
            var body = (await RequestBody.ReadAsync(request)).Allow("price");
            if (!Fixed.TryParseWad(body.Text("price", 64), out var price) || price.IsZero)
                throw RequestBody.Invalid(Codes.InvalidAmount, "'price' is a positive decimal string with up to 18 places");
            if (await ledger.FindAsset(id) is null) return Problems.Rejection(Codes.AssetNotFound);
            var read = await ledger.Ask(new SetPrice(id, price));
            return Results.Json(new { asset = id.Value, price = Fixed.FormatWad(price.Value), version = read.Version });
        });

        v1.MapPost("/markets", async (HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var body = (await RequestBody.ReadAsync(request)).Allow("id", "loan_asset", "collateral_asset", "lltv_bps", "rate", "reserve_factor_bps", "liquidation_bonus_bps");
            var id = new MarketId(body.Id("id"));
            var (loan, collateral) = (new AssetId(body.Id("loan_asset")), new AssetId(body.Id("collateral_asset")));
            if (loan == collateral) throw RequestBody.Invalid(Codes.InvalidRequest, "'loan_asset' and 'collateral_asset' must differ");
            var lltv = (int)body.WholeNumber("lltv_bps", 1, Fixed.Bps - 1, required: true)!.Value;
            var r = body.Nested("rate").Allow("base_bps", "slope1_bps", "slope2_bps", "kink_bps");
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
        });

        v1.MapGet("/markets/{id}", async (string id, LedgerClient ledger) =>
            await ledger.Find(new GetMarket(new MarketId(RequestBody.PathId(id, "market")))) is { } m
                ? Results.Json(Market(m))
                : Problems.NotFound(Codes.MarketNotFound));

        v1.MapGet("/markets/{id}/positions/{account}", async (string id, string account, HttpContext context, Auth auth, LedgerClient ledger) =>
        {
            var holder = new AccountId(RequestBody.PathId(account, "account"));
            await auth.RequireAccount(context, holder);
            return await ledger.Find(new GetMarketPosition(new MarketId(RequestBody.PathId(id, "market")), holder)) is { } p
                ? Results.Json(new
                {
                    supplied = p.Supplied.ToString(),
                    borrowed = p.Borrowed.ToString(),
                    collateral = p.Collateral.ToString(),
                    health_factor = p.HealthFactor is { } h ? Fixed.FormatWad(h.Value) : null,
                })
                : Problems.NotFound(Codes.MarketNotFound);
        });

        // One named path per operation, so that the OpenAPI document (and a client generated from it) names each.
        foreach (var operation in Operations.Keys.Append("liquidate"))
            v1.MapPost("/markets/{id}/" + operation, (string id, HttpRequest request, Auth auth, LedgerClient ledger) => Call(id, operation, request, auth, ledger));
    }

    private static object Market(MarketView m) => new
    {
        id = m.Id.Value,
        loan_asset = m.LoanAsset.Value,
        collateral_asset = m.CollateralAsset.Value,
        lltv_bps = m.LltvBps,
        rate = new { base_bps = m.Rate.BaseBps, slope1_bps = m.Rate.Slope1Bps, slope2_bps = m.Rate.Slope2Bps, kink_bps = m.Rate.KinkBps },
        reserve_factor_bps = m.ReserveFactorBps,
        liquidation_bonus_bps = m.LiquidationBonusBps,
        total_supplied = m.TotalSupplied.ToString(),
        total_borrowed = m.TotalBorrowed.ToString(),
        cash = m.Cash.ToString(),
        total_collateral = m.Collateral.ToString(),
        reserves = m.Reserves.ToString(),
        utilization_bps = m.UtilizationBps,
        borrow_rate_bps = m.BorrowRateBps,
        supply_rate_bps = m.SupplyRateBps,
    };

    private static async Task<IResult> Call(string id, string operation, HttpRequest request, Auth auth, LedgerClient ledger)
    {
        var market = new MarketId(RequestBody.PathId(id, "market"));
        var liquidate = operation == "liquidate";
        var body = (await RequestBody.ReadAsync(request)).Allow(liquidate ? ["id", "liquidator", "borrower", "repay_amount"] : ["id", "account", "amount"]);
        var tx = new TxId(body.Id("id"));
        var account = new AccountId(body.Id(liquidate ? "liquidator" : "account"));
        var amount = body.Amount(liquidate ? "repay_amount" : "amount");
        var borrower = liquidate ? new AccountId(body.Id("borrower")) : (AccountId?)null;
        await auth.RequireInitiator(request.HttpContext, account);
        if (await ledger.Find(new GetMarket(market)) is not { } m) return Problems.Rejection(Codes.MarketNotFound);
        var kind = liquidate ? MarketCallKind.Liquidate : Operations[operation];
        Leg[] @in = kind switch
        {
            MarketCallKind.Supply or MarketCallKind.Repay or MarketCallKind.Liquidate => [new Leg(m.LoanAsset, amount)],
            MarketCallKind.SupplyCollateral => [new Leg(m.CollateralAsset, amount)],
            _ => [],
        };
        return VenuesApi.Outcome(await ledger.Ask(new CallVenue(account, tx, new MarketCall(market, kind, @in, amount, borrower))));
    }
}
