using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// A perpetual futures market end to end over HTTP on a real host: bad definitions refused, a vault funded, a trader's
/// margin and a 2 ETH long, withdrawals and orders beyond the margin refused, the position's view, a price fall, a
/// healthy position not liquidatable and an unhealthy one liquidated with the keeper's reward, and the audit at zero.
/// </summary>
public class PerpsGatewayTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    [Fact]
    public async Task A_long_is_opened_on_margin_and_liquidated_after_a_fall()
    {
        var (eth, usd) = (_p + "ETH", _p + "USD");
        await _host.PostUntilKnown("/v1/assets", new { id = eth, decimals = 18, issuer = _p + "eth-bank" });
        await _host.PostUntilKnown("/v1/assets", new { id = usd, decimals = 6, issuer = _p + "fed" });
        foreach (var (account, amount) in new[] { ("lp", "1000000000"), ("trader", "500000000"), ("keeper", "0") })
        {
            await _host.PostUntilKnown("/v1/accounts", new { id = _p + account, owner = _p + account });
            if (amount != "0") await _host.PostUntilKnown("/v1/transfers", new { id = "mint-" + account, from = _p + "fed", to = _p + account, asset = usd, amount });
        }
        Assert.Equal(200, (await _host.Put($"/v1/oracle/prices/{eth}", new { price = "2000" })).Status);
        Assert.Equal(200, (await _host.Put($"/v1/oracle/prices/{usd}", new { price = "1" })).Status);
        var perp = _p + "perp";
        var definition = new
        {
            id = perp,
            underlying = eth,
            margin_asset = usd,
            skew_scale = "10000000000000000000",
            max_funding_velocity = "0.1",
            initial_margin_ratio = "0.1",
            maintenance_margin_ratio = "0.05",
            liquidation_reward_ratio = "0.01",
            taker_fee_bps = 5,
        };
        foreach (var bad in new object[]
        {
            definition with { initial_margin_ratio = "1" }, definition with { maintenance_margin_ratio = "0.2" },
            definition with { liquidation_reward_ratio = "0" }, definition with { skew_scale = "0" },
        })
            Assert.Equal(400, (await _host.Post("/v1/perps", bad)).Status);
        Assert.Equal(201, (await _host.Post("/v1/perps", definition)).Status);
        Assert.Equal(404, (await _host.Get("/v1/perps/" + _p + "none")).Status);
        var unknown = await _host.Post($"/v1/perps/{_p}none/orders", new { id = "x", account = _p + "trader", size_delta = "1" });
        Assert.Equal((422, "perp_not_found"), (unknown.Status, S(unknown.Body, "code")));

        Assert.Equal(200, (await _host.Post($"/v1/perps/{perp}/vault/deposit", new { id = "v1", account = _p + "lp", amount = "1000000000" })).Status);
        Assert.Equal(200, (await _host.Post($"/v1/perps/{perp}/margin/deposit", new { id = "m1", account = _p + "trader", amount = "500000000" })).Status);
        var zero = await _host.Post($"/v1/perps/{perp}/orders", new { id = "o0", account = _p + "trader", size_delta = "0" });
        Assert.Equal((422, "zero_amount"), (zero.Status, S(zero.Body, "code")));
        var tooBig = await _host.Post($"/v1/perps/{perp}/orders", new { id = "o1", account = _p + "trader", size_delta = "3000000000000000000" });
        Assert.Equal((422, "insufficient_margin"), (tooBig.Status, S(tooBig.Body, "code")));
        Assert.Equal(200, (await _host.Post($"/v1/perps/{perp}/orders", new { id = "o2", account = _p + "trader", size_delta = "2000000000000000000" })).Status);
        var withdraw = await _host.Post($"/v1/perps/{perp}/margin/withdraw", new { id = "w1", account = _p + "trader", amount = "200000000" });
        Assert.Equal((422, "insufficient_margin"), (withdraw.Status, S(withdraw.Body, "code")));

        var position = (await _host.Get($"/v1/perps/{perp}/positions/{_p}trader")).Body;
        // 498 USD of margin after the 2 USD fee; liquidatable where 498 + 2·(P − 2,000) = 0.1·P: P = 3,502 / 1.9.
        Assert.Equal(("2000000000000000000", "2000", "498000000"), (S(position, "size"), S(position, "entry_price"), S(position, "margin")));
        Assert.StartsWith("1843.15", S(position, "liquidation_price"), StringComparison.Ordinal);
        var market = (await _host.Get("/v1/perps/" + perp)).Body;
        Assert.Equal(("2000000000000000000", "2000000000000000000", "0.02"), (S(market, "skew"), S(market, "long_open_interest"), S(market, "funding_velocity")));

        var healthy = await _host.Post($"/v1/perps/{perp}/liquidate", new { id = "l0", liquidator = _p + "keeper", account = _p + "trader" });
        Assert.Equal((422, "healthy_position"), (healthy.Status, S(healthy.Body, "code")));
        Assert.Equal(200, (await _host.Put($"/v1/oracle/prices/{eth}", new { price = "1800" })).Status);
        var liquidated = await _host.Post($"/v1/perps/{perp}/liquidate", new { id = "l1", liquidator = _p + "keeper", account = _p + "trader" });
        Assert.Equal(200, liquidated.Status);
        // The keeper: 1 % of 2 · 1,800 = 36 USD (the funding of a few milliseconds is far below the equity left).
        Assert.Equal("36000000", S((await _host.Balance(_p + "keeper", usd)), "posted"));
        Assert.Equal("0", S((await _host.Get($"/v1/perps/{perp}/positions/{_p}trader")).Body, "size"));

        var audit = (await _host.Get("/v1/audit/supply")).Body.GetProperty("assets");
        Assert.Equal(("0", "0"), (S(audit.GetProperty(usd), "sum"), S(audit.GetProperty(usd), "in_flight")));
    }
}
