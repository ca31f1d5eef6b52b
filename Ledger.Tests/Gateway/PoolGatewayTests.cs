using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>End to end over HTTP: a pool is created, funded, traded against and drained exactly as Uniswap v2 would.</summary>
public class PoolGatewayTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    private static UInt128 U(string digits) => UInt128.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);

    private async Task<string> Posted(string account, string asset) =>
        await _host.Balance(_p + account, asset) is { ValueKind: JsonValueKind.Object } b ? S(b, "posted") : "0";

    /// <summary>Assets X and Y; "lp" holds 5e18 X and 10e18 Y, "trader" holds 2e18 X; pool "pool" (30 bps) funded by lp.</summary>
    private async Task<string> FundedPool()
    {
        await _host.Seed(_p + "X", _p + "bank-x", (_p + "lp", "5000000000000000000"), (_p + "trader", "2000000000000000000"));
        await _host.Seed(_p + "Y", _p + "bank-y", (_p + "lp", "10000000000000000000"), (_p + "trader", "0"));
        var pool = _p + "pool";
        var created = await _host.Post("/v1/pools", new { id = pool, asset_a = _p + "X", asset_b = _p + "Y", fee_bps = 30 });
        Assert.Equal(201, created.Status);
        Assert.Equal("lp." + pool, S(created.Body, "lp_asset"));
        var deposit = await _host.Post($"/v1/pools/{pool}/deposits",
            new { id = "d1", account = _p + "lp", amount_a_desired = "5000000000000000000", amount_b_desired = "10000000000000000000" });
        Assert.Equal(200, deposit.Status);
        // sqrt(5e18 · 10e18) = 7071067811865475244; 1,000 of it locked forever.
        Assert.Equal("7071067811865474244", S(deposit.Body, "shares"));
        return pool;
    }

    [Fact]
    public async Task Swap_is_priced_as_uniswap_v2_and_moves_exactly_the_amounts_it_reports()
    {
        var pool = await FundedPool();
        var quote = await _host.Get($"/v1/pools/{pool}/quote?asset_in={_p}X&amount_in=1000000000000000000");
        Assert.Equal("1662497915624478906", S(quote.Body, "amount_out"));

        var swap = new { id = "s1", account = _p + "trader", route = new[] { pool }, asset_in = _p + "X", amount_in = "1000000000000000000", min_amount_out = "1662497915624478906" };
        var (status, body) = await _host.Post("/v1/swaps", swap);
        Assert.Equal(200, status);
        Assert.Equal(("1000000000000000000", "1662497915624478906"), (S(body, "amount_in"), S(body, "amount_out")));
        Assert.Equal(2, body.GetProperty("amounts").GetArrayLength());

        Assert.Equal(("1000000000000000000", "1662497915624478906"), (await Posted("trader", _p + "X"), await Posted("trader", _p + "Y")));
        var state = (await _host.Get("/v1/pools/" + pool)).Body;
        Assert.Equal(("6000000000000000000", "8337502084375521094"), (S(state, "reserve_a"), S(state, "reserve_b")));

        // The same request again is the same outcome, not a second swap; another body under the id conflicts.
        var again = await _host.Post("/v1/swaps", swap);
        Assert.Equal((200, "1662497915624478906"), (again.Status, S(again.Body, "amount_out")));
        Assert.Equal("1000000000000000000", await Posted("trader", _p + "X"));
        var conflict = await _host.Post("/v1/swaps", swap with { amount_in = "5" });
        Assert.Equal((409, "id_conflict"), (conflict.Status, S(conflict.Body, "code")));

        var tx = await _host.Get($"/v1/accounts/{_p}trader/transactions/s1");
        Assert.Equal(("swap", "committed"), (S(tx.Body, "type"), S(tx.Body, "status")));
        Assert.Equal(2, tx.Body.GetProperty("legs").GetArrayLength());
        await AssertAuditBalances();
    }

    [Fact]
    public async Task Refused_swaps_change_nothing_and_say_why()
    {
        var pool = await FundedPool();
        var before = (await _host.Get("/v1/pools/" + pool)).Body.GetRawText();
        async Task Refused(object swap, int status, string code)
        {
            var r = await _host.Post("/v1/swaps", swap);
            Assert.Equal((status, code), (r.Status, S(r.Body, "code")));
        }
        var route = new[] { pool };
        await Refused(new { id = "s1", account = _p + "trader", route, asset_in = _p + "X", amount_in = "1000000000000000000", min_amount_out = "1662497915624478907" }, 422, "slippage_exceeded");
        await Refused(new { id = "s2", account = _p + "trader", route, asset_in = _p + "X", amount_in = "1000000000000000000", deadline = 1 }, 422, "deadline_passed");
        await Refused(new { id = "s3", account = _p + "trader", route, asset_in = _p + "X", amount_in = "3000000000000000000" }, 422, "insufficient_funds");
        await Refused(new { id = "s4", account = _p + "trader", route = new[] { _p + "nope" }, asset_in = _p + "X", amount_in = "1" }, 422, "pool_not_found");
        await Refused(new { id = "s5", account = _p + "trader", route, asset_in = _p + "X", amount_in = 1 }, 400, "invalid_amount");
        await Refused(new { id = "s6", account = _p + "trader", route, asset_in = _p + "X", amount_in = "1", amount_out = "1" }, 400, "invalid_request");
        Assert.Equal(before, (await _host.Get("/v1/pools/" + pool)).Body.GetRawText());
        Assert.Equal(("2000000000000000000", "0"), (await Posted("trader", _p + "X"), await Posted("trader", _p + "Y")));
        var tx = await _host.Get($"/v1/accounts/{_p}trader/transactions/s1");
        Assert.Equal(("rejected", "slippage_exceeded"), (S(tx.Body, "status"), S(tx.Body, "code")));
    }

    [Fact]
    public async Task Exact_output_swap_pays_the_least_input_and_shares_are_an_asset_that_withdraws_pro_rata()
    {
        var pool = await FundedPool();
        var swap = await _host.Post("/v1/swaps", new { id = "x1", account = _p + "trader", route = new[] { pool }, asset_in = _p + "X", amount_out = "1662497915624478906", max_amount_in = "2000000000000000000" });
        Assert.Equal(200, swap.Status);
        Assert.Equal("1662497915624478906", S(swap.Body, "amount_out"));
        var paid = U(S(swap.Body, "amount_in"));
        Assert.InRange(paid, (UInt128)999_999_999_999_999_999, (UInt128)1_000_000_000_000_000_000);
        Assert.Equal((2_000_000_000_000_000_000 - paid).ToString(), await Posted("trader", _p + "X"));

        var lp = "lp." + pool;
        Assert.Equal("7071067811865474244", await Posted("lp", lp));
        var asset = await _host.Get("/v1/assets/" + lp);
        Assert.Equal((200, "7071067811865474244"), (asset.Status, S(asset.Body, "supply")));
        var half = await _host.Post("/v1/transfers", new { id = "give", from = _p + "lp", to = _p + "trader", asset = lp, amount = "3535533905932737122" });
        Assert.Equal(200, half.Status);

        var state = (await _host.Get("/v1/pools/" + pool)).Body;
        var withdraw = await _host.Post($"/v1/pools/{pool}/withdrawals", new { id = "w1", account = _p + "trader", shares = "3535533905932737122" });
        Assert.Equal(200, withdraw.Status);
        var (ra, rb, total) = (U(S(state, "reserve_a")), U(S(state, "reserve_b")), U(S(state, "total_shares")));
        Assert.Equal((3535533905932737122 * ra / total).ToString(), S(withdraw.Body, "amount_a"));
        Assert.Equal((3535533905932737122 * rb / total).ToString(), S(withdraw.Body, "amount_b"));
        Assert.Equal("0", await Posted("trader", lp));
        await AssertAuditBalances();
    }

    /// <summary>FundedPool, plus "pool2" = Y/Z funded by "lp2" with 1e18 of each.</summary>
    private async Task<(string Pool1, string Pool2)> TwoPools()
    {
        var pool1 = await FundedPool();
        await _host.Seed(_p + "Y", _p + "bank-y", (_p + "lp2", "1000000000000000000"));
        await _host.Seed(_p + "Z", _p + "bank-z", (_p + "lp2", "1000000000000000000"));
        var pool2 = _p + "pool2";
        Assert.Equal(201, (await _host.Post("/v1/pools", new { id = pool2, asset_a = _p + "Y", asset_b = _p + "Z", fee_bps = 30 })).Status);
        var deposit = await _host.Post($"/v1/pools/{pool2}/deposits",
            new { id = "d2", account = _p + "lp2", amount_a_desired = "1000000000000000000", amount_b_desired = "1000000000000000000" });
        Assert.Equal(200, deposit.Status);
        return (pool1, pool2);
    }

    private static UInt128 Out(UInt128 amountIn, UInt128 reserveIn, UInt128 reserveOut) =>
        (UInt128)((System.Numerics.BigInteger)amountIn * 9970 * reserveOut / ((System.Numerics.BigInteger)reserveIn * 10000 + (System.Numerics.BigInteger)amountIn * 9970));

    [Fact]
    public async Task A_two_hop_route_is_one_transaction_and_a_last_hop_below_its_minimum_leaves_everything_as_it_was()
    {
        var (pool1, pool2) = await TwoPools();
        var y = Out(100_000_000_000_000_000, 5_000_000_000_000_000_000, 10_000_000_000_000_000_000);
        var z = Out(y, 1_000_000_000_000_000_000, 1_000_000_000_000_000_000);
        var route = new[] { pool1, pool2 };
        var before = ((await _host.Get("/v1/pools/" + pool1)).Body.GetRawText(), (await _host.Get("/v1/pools/" + pool2)).Body.GetRawText());

        var missed = await _host.Post("/v1/swaps", new { id = "r0", account = _p + "trader", route, asset_in = _p + "X", amount_in = "100000000000000000", min_amount_out = (z + 1).ToString() });
        Assert.Equal((422, "slippage_exceeded"), (missed.Status, S(missed.Body, "code")));
        Assert.Equal(before, ((await _host.Get("/v1/pools/" + pool1)).Body.GetRawText(), (await _host.Get("/v1/pools/" + pool2)).Body.GetRawText()));
        Assert.Equal(("2000000000000000000", "0", "0"), (await Posted("trader", _p + "X"), await Posted("trader", _p + "Y"), await Posted("trader", _p + "Z")));
        var trader = (await _host.Get($"/v1/accounts/{_p}trader")).Body.GetProperty("balances").GetProperty(_p + "X");
        Assert.Equal("0", S(trader, "pending_out"));

        var swap = await _host.Post("/v1/swaps", new { id = "r1", account = _p + "trader", route, asset_in = _p + "X", amount_in = "100000000000000000", min_amount_out = z.ToString() });
        Assert.Equal(200, swap.Status);
        Assert.Equal(("100000000000000000", z.ToString()), (S(swap.Body, "amount_in"), S(swap.Body, "amount_out")));
        Assert.Equal(["100000000000000000", y.ToString(), z.ToString()], swap.Body.GetProperty("amounts").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(("1900000000000000000", "0", z.ToString()), (await Posted("trader", _p + "X"), await Posted("trader", _p + "Y"), await Posted("trader", _p + "Z")));
        var p2 = (await _host.Get("/v1/pools/" + pool2)).Body;
        Assert.Equal(((1_000_000_000_000_000_000 + y).ToString(), (1_000_000_000_000_000_000 - z).ToString()), (S(p2, "reserve_a"), S(p2, "reserve_b")));

        var tx = await _host.Get($"/v1/accounts/{_p}trader/transactions/r1");
        Assert.Equal(("swap", "committed", 2), (S(tx.Body, "type"), S(tx.Body, "status"), tx.Body.GetProperty("result").GetProperty("route").GetArrayLength()));
        var again = await _host.Post("/v1/swaps", new { id = "r1", account = _p + "trader", route, asset_in = _p + "X", amount_in = "100000000000000000", min_amount_out = z.ToString() });
        Assert.Equal((200, z.ToString()), (again.Status, S(again.Body, "amount_out")));
        Assert.Equal("1900000000000000000", await Posted("trader", _p + "X"));
        await AssertSumsToZero(_p + "X", _p + "Y", _p + "Z");
    }

    [Fact]
    public async Task An_atomic_batch_with_one_bad_operation_changes_nothing_and_a_good_one_commits_every_operation()
    {
        var (pool1, pool2) = await TwoPools();
        var swap = new { type = "swap", id = "a2", account = _p + "trader", route = new[] { pool1, pool2 }, asset_in = _p + "X", amount_in = "1000" };
        var bad = await _host.Post("/v1/batches", new
        {
            atomic = true,
            operations = new object[]
            {
                new { type = "transfer", id = "a1", from = _p + "trader", to = _p + "lp", asset = _p + "X", amount = "5" },
                swap,
                new { type = "transfer", id = "a3", from = _p + "lp2", to = _p + "trader", asset = _p + "Z", amount = "1" },
            },
        });
        Assert.Equal(200, bad.Status);
        Assert.Equal([("rejected", "linked_operation_failed"), ("rejected", "linked_operation_failed"), ("rejected", "insufficient_funds")],
            bad.Body.GetProperty("results").EnumerateArray().Select(r => (S(r, "status"), S(r, "code"))));
        Assert.Equal(("2000000000000000000", "0"), (await Posted("trader", _p + "X"), await Posted("trader", _p + "Z")));

        var good = await _host.Post("/v1/batches", new
        {
            atomic = true,
            operations = new object[]
            {
                new { type = "transfer", id = "b1", from = _p + "trader", to = _p + "lp", asset = _p + "X", amount = "5" },
                swap with { id = "b2" },
            },
        });
        var results = good.Body.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(["committed", "committed"], results.Select(r => S(r, "status")));
        var z = S(results[1].GetProperty("result"), "amount_out");
        Assert.Equal(("1999999999999998995", z), (await Posted("trader", _p + "X"), await Posted("trader", _p + "Z")));

        // Swaps also run in non-atomic batches, each on its own.
        var loose = await _host.Post("/v1/batches", new { atomic = false, operations = new object[] { swap with { id = "c1" }, swap with { id = "c2", amount_in = "99999999999999999999" } } });
        Assert.Equal([("committed", null), ("rejected", "insufficient_funds")],
            loose.Body.GetProperty("results").EnumerateArray().Select(r => (S(r, "status"), r.TryGetProperty("code", out var c) ? c.GetString() : null)));
        await AssertSumsToZero(_p + "X", _p + "Y", _p + "Z");
    }

    private async Task AssertSumsToZero(params string[] assets)
    {
        var audit = (await _host.Get("/v1/audit/supply")).Body.GetProperty("assets");
        Assert.All(assets, a => Assert.Equal(("0", "0"), (S(audit.GetProperty(a), "sum"), S(audit.GetProperty(a), "in_flight"))));
    }

    /// <summary>Every asset of this test sums to zero over accounts and pools, and supply is what was minted.</summary>
    private async Task AssertAuditBalances()
    {
        var (status, audit) = await _host.Get("/v1/audit/supply");
        Assert.Equal(200, status);
        var assets = audit.GetProperty("assets");
        Assert.Equal(("0", "7000000000000000000"), (S(assets.GetProperty(_p + "X"), "sum"), S(assets.GetProperty(_p + "X"), "supply")));
        Assert.Equal(("0", "10000000000000000000"), (S(assets.GetProperty(_p + "Y"), "sum"), S(assets.GetProperty(_p + "Y"), "supply")));
        var shares = assets.GetProperty("lp." + _p + "pool");
        Assert.Equal("0", S(shares, "sum"));
        Assert.Equal("0", S(shares, "in_flight"));
        Assert.NotEqual("0", S(shares, "supply"));
    }
}
