using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// A desk runs a lending market and a farm end to end over HTTP on a real host: suppliers earn, borrowers borrow
/// up to the LLTV and not a unit more, a price drop makes a position liquidatable and the liquidator receives
/// exactly the collateral the bonus promises, stakers are paid in proportion to stake, and the audit sums to zero.
/// </summary>
public class LendingGatewayTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    private static UInt128 U(string digits) => UInt128.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);

    private async Task<string> Posted(string account, string asset) =>
        await _host.Balance(_p + account, _p + asset) is { ValueKind: JsonValueKind.Object } b ? S(b, "posted") : "0";

    private async Task<(int Status, JsonElement Body)> Op(string market, string operation, string id, string account, string amount) =>
        await _host.Post($"/v1/markets/{market}/{operation}", new { id, account = _p + account, amount });

    [Fact]
    public async Task A_market_lends_up_to_the_lltv_earns_interest_and_liquidates_with_exactly_the_bonus()
    {
        // USD (2 decimals) lent against ETH (2 decimals): 1 ETH = 2,000 USD, LLTV 80 %, bonus 5 %.
        await _host.Seed(_p + "USD", _p + "fed", (_p + "supplier", "10000000"), (_p + "liquidator", "500000"));
        await _host.Seed(_p + "ETH", _p + "miner", (_p + "borrower", "100"));
        Assert.Equal(200, (await _host.Put($"/v1/oracle/prices/{_p}USD", new { price = "1" })).Status);
        Assert.Equal(200, (await _host.Put($"/v1/oracle/prices/{_p}ETH", new { price = "2000" })).Status);
        var market = _p + "m";
        var created = await _host.Post("/v1/markets", new
        {
            id = market,
            loan_asset = _p + "USD",
            collateral_asset = _p + "ETH",
            lltv_bps = 8000,
            rate = new { base_bps = 0, slope1_bps = 400, slope2_bps = 30000, kink_bps = 8000 },
            reserve_factor_bps = 1000,
            liquidation_bonus_bps = 500,
        });
        Assert.Equal(201, created.Status);

        Assert.Equal(200, (await Op(market, "supply", "s1", "supplier", "10000000")).Status);
        Assert.Equal(200, (await Op(market, "supply_collateral", "c1", "borrower", "100")).Status);
        // 1 ETH at 2,000 and 80 %: 1,600.00 USD of borrowing, not a cent more.
        var tooMuch = await Op(market, "borrow", "b1", "borrower", "160001");
        Assert.Equal((422, "unhealthy_position"), (tooMuch.Status, S(tooMuch.Body, "code")));
        Assert.Equal(200, (await Op(market, "borrow", "b2", "borrower", "160000")).Status);
        Assert.Equal("160000", await Posted("borrower", "USD"));
        var withdrawCollateral = await Op(market, "withdraw_collateral", "w1", "borrower", "1");
        Assert.Equal((422, "unhealthy_position"), (withdrawCollateral.Status, S(withdrawCollateral.Body, "code")));
        var position = (await _host.Get($"/v1/markets/{market}/positions/{_p}borrower")).Body;
        // The debt is what was borrowed plus the interest of the last milliseconds, rounded up.
        Assert.InRange(U(S(position, "borrowed")), (UInt128)160_000, (UInt128)160_010);
        Assert.Equal("100", S(position, "collateral"));
        Assert.StartsWith("0.99", S(position, "health_factor"));

        // Interest accrues: the market reports a rate and the supplier's claim grows past what it supplied.
        var state = (await _host.Get("/v1/markets/" + market)).Body;
        Assert.True(state.GetProperty("borrow_rate_bps").GetInt32() > 0);
        await Task.Delay(200);
        var supplier = (await _host.Get($"/v1/markets/{market}/positions/{_p}supplier")).Body;
        Assert.True(U(S(supplier, "supplied")) >= 10_000_000);

        // At the limit any interest makes the position liquidatable; repaying 100.00 makes it healthy again, and a
        // healthy position cannot be liquidated. After ETH falls to 1,800 it can, and the liquidator gets
        // 1,000.00 · 1.05 / 1,800 = 0.58 ETH (58 units, rounded down).
        Assert.Equal(200, (await Op(market, "repay", "r0", "borrower", "10000")).Status);
        var early = await _host.Post($"/v1/markets/{market}/liquidate", new { id = "l0", liquidator = _p + "liquidator", borrower = _p + "borrower", repay_amount = "100000" });
        Assert.Equal((422, "healthy_position"), (early.Status, S(early.Body, "code")));
        Assert.Equal(200, (await _host.Put($"/v1/oracle/prices/{_p}ETH", new { price = "1800" })).Status);
        var liquidation = await _host.Post($"/v1/markets/{market}/liquidate", new { id = "l1", liquidator = _p + "liquidator", borrower = _p + "borrower", repay_amount = "100000" });
        Assert.Equal(200, liquidation.Status);
        Assert.Equal(("58", "400000"), (await Posted("liquidator", "ETH"), await Posted("liquidator", "USD")));
        Assert.Equal("liquidate", S((await _host.Get($"/v1/accounts/{_p}liquidator/transactions/l1")).Body, "type"));
        Assert.Equal("42", S((await _host.Get($"/v1/markets/{market}/positions/{_p}borrower")).Body, "collateral"));

        // Repaying more than the debt repays the debt and gives the rest back.
        await _host.Post("/v1/transfers", new { id = "top-up", from = _p + "fed", to = _p + "borrower", asset = _p + "USD", amount = "100000" });
        Assert.Equal(200, (await Op(market, "repay", "r1", "borrower", "160000")).Status);
        Assert.Equal("0", S((await _host.Get($"/v1/markets/{market}/positions/{_p}borrower")).Body, "borrowed"));
        Assert.True(U(await Posted("borrower", "USD")) > 0);
        await AssertSumsToZero("USD", "ETH");
    }

    [Fact]
    public async Task A_farm_pays_stakers_in_proportion_to_their_stake()
    {
        await _host.Seed(_p + "LP", _p + "lp-bank", (_p + "small", "1000"), (_p + "large", "3000"));
        await _host.Seed(_p + "GOV", _p + "dao", (_p + "treasury", "400000"));
        var farm = _p + "f";
        Assert.Equal(201, (await _host.Post("/v1/farms", new { id = farm, stake_asset = _p + "LP", reward_asset = _p + "GOV", duration_s = 2 })).Status);
        Assert.Equal(200, (await _host.Post($"/v1/farms/{farm}/stake", new { id = "s1", account = _p + "small", amount = "1000" })).Status);
        Assert.Equal(200, (await _host.Post($"/v1/farms/{farm}/stake", new { id = "s2", account = _p + "large", amount = "3000" })).Status);
        Assert.Equal(200, (await _host.Post($"/v1/farms/{farm}/rewards", new { id = "r1", account = _p + "treasury", amount = "400000" })).Status);
        await Task.Delay(2_300);

        Assert.Equal(200, (await _host.Post($"/v1/farms/{farm}/claim", new { id = "c1", account = _p + "small" })).Status);
        Assert.Equal(200, (await _host.Post($"/v1/farms/{farm}/claim", new { id = "c2", account = _p + "large" })).Status);
        var (small, large) = (U(await Posted("small", "GOV")), U(await Posted("large", "GOV")));
        // Both staked for the whole period: the 400,000 split 1:3, less rounding.
        Assert.InRange(small, (UInt128)99_990, (UInt128)100_000);
        Assert.InRange(large, (UInt128)299_970, (UInt128)300_000);
        var unstake = await _host.Post($"/v1/farms/{farm}/unstake", new { id = "u1", account = _p + "large", amount = "3001" });
        Assert.Equal((422, "insufficient_funds"), (unstake.Status, S(unstake.Body, "code")));
        Assert.Equal(200, (await _host.Post($"/v1/farms/{farm}/unstake", new { id = "u2", account = _p + "large", amount = "3000" })).Status);
        Assert.Equal("3000", await Posted("large", "LP"));
        Assert.Equal("0", S((await _host.Get($"/v1/farms/{farm}/positions/{_p}large")).Body, "earned"));
        await AssertSumsToZero("LP", "GOV");
    }

    private async Task AssertSumsToZero(params string[] assets)
    {
        var audit = (await _host.Get("/v1/audit/supply")).Body.GetProperty("assets");
        Assert.All(assets, a => Assert.Equal(("0", "0"), (S(audit.GetProperty(_p + a), "sum"), S(audit.GetProperty(_p + a), "in_flight"))));
    }
}
