using System.Numerics;
using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// A put written, traded in a pool and settled, end to end over HTTP on a real host: a writer locks 3,000 USDC for 10 puts
/// on WETH at 300, gives the pool half of them, a buyer buys puts with USDC, the expiry price is set at 200, the buyer
/// redeems what it bought for exactly the payout, the writer settles for 2,000 less what its own tokens redeemed, and every
/// asset sums to zero. The refusals api.md names come back with their codes.
/// </summary>
public class OptionsGatewayTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";
    private static readonly BigInteger Eth = BigInteger.Pow(10, 18);

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    private static BigInteger B(string digits) => BigInteger.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);

    private async Task<BigInteger> Posted(string account, string asset) =>
        await _host.Balance(_p + account, asset) is { ValueKind: JsonValueKind.Object } b ? B(S(b, "posted")) : 0;

    private async Task<(int Status, JsonElement Body)> Op(string series, string operation, string id, string account, BigInteger? amount = null) =>
        amount is { } a
            ? await _host.Post($"/v1/options/{series}/{operation}", new { id, account = _p + account, amount = a.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            : await _host.Post($"/v1/options/{series}/{operation}", new { id, account = _p + account });

    [Fact]
    public async Task A_put_is_written_traded_in_a_pool_redeemed_by_its_buyer_and_settled_by_its_writer()
    {
        var (usdc, weth) = (_p + "USDC", _p + "WETH");
        await _host.PostUntilKnown("/v1/assets", new { id = usdc, decimals = 6, issuer = _p + "circle" });
        await _host.PostUntilKnown("/v1/assets", new { id = weth, decimals = 18, issuer = _p + "weth-bank" });
        foreach (var (account, amount) in new[] { ("writer", "5000000000"), ("buyer", "500000000") })
        {
            await _host.PostUntilKnown("/v1/accounts", new { id = _p + account, owner = _p + account });
            await _host.PostUntilKnown("/v1/transfers", new { id = "mint-" + account, from = _p + "circle", to = _p + account, asset = usdc, amount });
        }
        var series = _p + "put";
        // Room for the steps before expiry and for the two prices within the dispute window, on a loaded CI machine too.
        var expiry = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 15_000;
        const long dispute = 4_000;
        var definition = new { id = series, underlying = weth, strike_asset = usdc, kind = "put", strike = "300", expiry, dispute_ms = dispute };

        // Bad definitions change nothing.
        foreach (var bad in new object[]
        {
            definition with { strike = "0" }, definition with { strike = "-1" }, definition with { kind = "straddle" },
            definition with { expiry = expiry - 60_000 }, definition with { dispute_ms = 31L * 24 * 3600 * 1000 },
        })
            Assert.Equal(400, (await _host.Post("/v1/options", bad)).Status);
        Assert.Equal(404, (await _host.Get("/v1/options/" + series)).Status);
        var created = await _host.Post("/v1/options", definition);
        Assert.Equal(201, created.Status);
        Assert.Equal(("opt." + series, "300", "0"), (S(created.Body, "token"), S(created.Body, "strike"), S(created.Body, "open_interest")));
        Assert.Equal(18, (await _host.Get("/v1/assets/opt." + series)).Body.GetProperty("decimals").GetInt32());

        // 10 puts lock 3,000 USDC; the writer gives the pool 5 puts and 1,000 USDC, the buyer buys puts for 100 USDC.
        Assert.Equal(200, (await Op(series, "mint", "m1", "writer", 10 * Eth)).Status);
        Assert.Equal(2_000_000_000, await Posted("writer", usdc));
        var tooMuch = await Op(series, "burn", "b0", "writer", 11 * Eth);
        Assert.Equal((422, "insufficient_funds"), (tooMuch.Status, S(tooMuch.Body, "code")));
        var pool = _p + "putpool";
        Assert.Equal(201, (await _host.Post("/v1/pools", new { id = pool, asset_a = "opt." + series, asset_b = usdc, fee_bps = 30 })).Status);
        var deposit = await _host.Post($"/v1/pools/{pool}/deposits",
            new { id = "d1", account = _p + "writer", amount_a_desired = (5 * Eth).ToString(), amount_b_desired = "1000000000", amount_a_min = "0", amount_b_min = "0" });
        Assert.Equal(200, deposit.Status);
        var swap = await _host.Post("/v1/swaps", new { id = "buy", account = _p + "buyer", route = new[] { pool }, asset_in = usdc, amount_in = "100000000", min_amount_out = "1" });
        Assert.Equal(200, swap.Status);
        var bought = await Posted("buyer", "opt." + series);
        Assert.Equal(B(S(swap.Body, "amount_out")), bought);
        Assert.True(bought > 0);

        // Too early for the price, for redeeming and for settling.
        var early = await _host.Put($"/v1/options/{series}/expiry_price", new { price = "200" });
        Assert.Equal((422, "option_not_expired"), (early.Status, S(early.Body, "code")));
        var beyond = await Op(series, "redeem", "r-1", "buyer", bought + 1);
        Assert.Equal((422, "insufficient_funds"), (beyond.Status, S(beyond.Body, "code")));
        var earlyRedeem = await Op(series, "redeem", "r0", "buyer", bought);
        Assert.Equal((422, "price_not_final"), (earlyRedeem.Status, S(earlyRedeem.Body, "code")));
        Assert.Equal(bought, await Posted("buyer", "opt." + series));

        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < expiry) await Task.Delay(100);
        var late = await Op(series, "mint", "m2", "writer", Eth);
        Assert.Equal((422, "option_expired"), (late.Status, S(late.Body, "code")));
        Assert.Equal(200, (await _host.Put($"/v1/options/{series}/expiry_price", new { price = "250" })).Status);
        Assert.Equal(200, (await _host.Put($"/v1/options/{series}/expiry_price", new { price = "200" })).Status);
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < expiry + dispute) await Task.Delay(100);
        var final = await _host.Put($"/v1/options/{series}/expiry_price", new { price = "100" });
        Assert.Equal((422, "price_final"), (final.Status, S(final.Body, "code")));
        Assert.True((await _host.Get("/v1/options/" + series)).Body.GetProperty("price_final").GetBoolean());

        // The buyer redeems: (300 − 200) USDC per put, rounded down to the USDC unit.
        var usdcBefore = await Posted("buyer", usdc);
        Assert.Equal(200, (await Op(series, "redeem", "r1", "buyer", bought)).Status);
        Assert.Equal(bought * 100 * 1_000_000 / Eth, await Posted("buyer", usdc) - usdcBefore);
        // The writer redeems the puts it still holds and settles: 3,000 less the 1,000 its 10 puts owe.
        var held = await Posted("writer", "opt." + series);
        var writerBefore = await Posted("writer", usdc);
        Assert.Equal(200, (await Op(series, "redeem", "r2", "writer", held)).Status);
        Assert.Equal(200, (await Op(series, "settle", "s1", "writer")).Status);
        Assert.Equal(held * 100 * 1_000_000 / Eth + 2_000_000_000, await Posted("writer", usdc) - writerBefore);
        var twice = await Op(series, "settle", "s2", "writer");
        Assert.Equal((422, "already_settled"), (twice.Status, S(twice.Body, "code")));
        var position = (await _host.Get($"/v1/options/{series}/positions/{_p}writer")).Body;
        Assert.Equal(("0", true), (S(position, "collateral"), position.GetProperty("settled").GetBoolean()));
        Assert.Equal(404, (await _host.Get("/v1/options/" + _p + "nothing")).Status);

        // Settled, the writer's short is no position: once it has sent away all it holds (USDC, pool shares), it closes.
        var balances = (await _host.Get($"/v1/accounts/{_p}writer")).Body.GetProperty("balances").EnumerateObject()
            .Where(b => S(b.Value, "posted") != "0").ToList();
        foreach (var b in balances)
            await _host.PostUntilKnown("/v1/transfers", new { id = "out-" + b.Name, from = _p + "writer", to = _p + "buyer", asset = b.Name, amount = S(b.Value, "posted") });
        Assert.Equal(200, (await _host.Post($"/v1/accounts/{_p}writer/close", new { id = "close" })).Status);

        var audit = (await _host.Get("/v1/audit/supply")).Body.GetProperty("assets");
        foreach (var asset in new[] { usdc, "opt." + series })
            Assert.Equal(("0", "0"), (S(audit.GetProperty(asset), "sum"), S(audit.GetProperty(asset), "in_flight")));
    }
}
