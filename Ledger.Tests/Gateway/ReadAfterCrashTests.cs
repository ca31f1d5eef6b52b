using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// What a client was told before a kill -9 is what every read says right after the restart: balances, pending amounts
/// and transactions, read at once (not after a redelivery has had time to run). Each test ends with the refused or
/// released operation as the last thing before the kill, so the payer's own record of its outcome — which rides along
/// with a later write — is not yet in its journal when the process dies.
/// </summary>
public class ReadAfterCrashTests
{
    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    private static readonly string[] Xy = ["xy"];
    private static readonly string[] XyThenYz = ["xy", "yz"];

    /// <summary>Every account's balances, the named transactions and the other resources' bodies, in a fixed order.</summary>
    private static async Task<List<string>> ReadAll(HostProcess host, IEnumerable<string> accounts, IEnumerable<(string Account, string Tx)> transactions,
        IEnumerable<string>? resources = null)
    {
        var reads = new List<string>();
        foreach (var a in accounts)
        {
            var (status, body) = await host.Get("/v1/accounts/" + a);
            Assert.Equal(200, status);
            reads.Add(a + " " + body.GetProperty("balances").GetRawText());
        }
        foreach (var (account, tx) in transactions)
        {
            var (status, body) = await host.Get($"/v1/accounts/{account}/transactions/{tx}");
            Assert.Equal(200, status);
            reads.Add($"{account}/{tx} {S(body, "status")} {(body.TryGetProperty("code", out var c) ? c.GetString() : "")}");
        }
        foreach (var path in resources ?? [])
        {
            var (status, body) = await host.Get(path);
            Assert.Equal(200, status);
            reads.Add(path + " " + body.GetRawText());
        }
        return reads;
    }

    private static async Task<List<string>> AfterKill(HostProcess first, IReadOnlyList<string> accounts, IReadOnlyList<(string, string)> transactions,
        IReadOnlyList<string>? resources = null)
    {
        first.Kill();
        await using var second = new HostProcess(first.DataDir);
        await second.Start();
        var after = await ReadAll(second, accounts, transactions, resources);
        await second.AssertBalanced();
        return after;
    }

    [Fact]
    public async Task A_refused_transfer_reads_the_same_right_after_kill_minus_9()
    {
        await using var first = new HostProcess();
        await first.Start();
        var accounts = Enumerable.Range(0, 20).Select(i => "acct" + i).ToList();
        await first.Seed("USD", "bank", [.. accounts.Select(a => (a, "1000"))]);
        // A few hundred transfers at once, between every pair.
        var moves = Enumerable.Range(0, 300).Select(i => first.Post("/v1/transfers",
            new { id = "m" + i, from = accounts[i % 20], to = accounts[(i * 7 + 3) % 20], asset = "USD", amount = (1 + i % 5).ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        Assert.All(await Task.WhenAll(moves), r => Assert.Equal(200, r.Status));
        var refused = await first.Post("/v1/transfers", new { id = "lost", from = "acct0", to = "nobody", asset = "USD", amount = "10" });
        Assert.Equal((422, "account_not_found"), (refused.Status, S(refused.Body, "code")));
        var transactions = new List<(string, string)> { ("acct0", "lost"), ("acct0", "m0") };
        var before = await ReadAll(first, [.. accounts, "bank"], transactions);

        Assert.Equal(before, await AfterKill(first, [.. accounts, "bank"], transactions));
    }

    [Fact]
    public async Task A_refused_swap_and_an_aborted_route_read_the_same_right_after_kill_minus_9()
    {
        await using var first = new HostProcess();
        await first.Start();
        await first.Seed("X", "bank-x", ("lp", "5000000"), ("trader", "1000"));
        await first.Seed("Y", "bank-y", ("lp", "20000000"), ("trader", "0"));
        await first.Seed("Z", "bank-z", ("lp", "10000000"));
        Assert.Equal(201, (await first.Post("/v1/pools", new { id = "xy", asset_a = "X", asset_b = "Y", fee_bps = 30 })).Status);
        Assert.Equal(201, (await first.Post("/v1/pools", new { id = "yz", asset_a = "Y", asset_b = "Z", fee_bps = 30 })).Status);
        Assert.Equal(200, (await first.Post("/v1/pools/xy/deposits", new { id = "d1", account = "lp", amount_a_desired = "5000000", amount_b_desired = "10000000" })).Status);
        Assert.Equal(200, (await first.Post("/v1/pools/yz/deposits", new { id = "d2", account = "lp", amount_a_desired = "5000000", amount_b_desired = "10000000" })).Status);
        var swap = await first.Post("/v1/swaps", new { id = "s1", account = "trader", route = Xy, asset_in = "X", amount_in = "100", min_amount_out = "100" });
        Assert.Equal(200, swap.Status);
        var route = await first.Post("/v1/swaps", new { id = "r1", account = "trader", route = XyThenYz, asset_in = "X", amount_in = "100", min_amount_out = "1000000" });
        Assert.Equal((422, "slippage_exceeded"), (route.Status, S(route.Body, "code")));
        var refused = await first.Post("/v1/swaps", new { id = "s2", account = "trader", route = Xy, asset_in = "X", amount_in = "100", min_amount_out = "1000000" });
        Assert.Equal((422, "slippage_exceeded"), (refused.Status, S(refused.Body, "code")));
        string[] accounts = ["trader", "lp"];
        var transactions = new List<(string, string)> { ("trader", "s1"), ("trader", "s2"), ("trader", "r1") };
        string[] pools = ["/v1/pools/xy", "/v1/pools/yz"];
        var before = await ReadAll(first, accounts, transactions, pools);

        Assert.Equal(before, await AfterKill(first, accounts, transactions, pools));
    }

    [Fact]
    public async Task A_voided_and_an_expired_reservation_read_the_same_right_after_kill_minus_9()
    {
        await using var first = new HostProcess();
        await first.Start();
        await first.Seed("USD", "bank", ("payer", "1000"), ("payee", "0"));
        var expiring = await first.Post("/v1/transfers", new { id = "p1", from = "payer", to = "payee", asset = "USD", amount = "70", pending = true, timeout_ms = 1 });
        Assert.Equal(200, expiring.Status);
        var reserved = await first.Post("/v1/transfers", new { id = "p2", from = "payer", to = "payee", asset = "USD", amount = "30", pending = true });
        Assert.Equal("pending", S(reserved.Body, "status"));
        // The first one expires by itself; its outcome is read back before the kill.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (S((await first.Get("/v1/accounts/payer/transactions/p1")).Body, "status") != "expired")
        {
            Assert.True(DateTime.UtcNow < deadline, "the reservation did not expire");
            await Task.Delay(50);
        }
        var voided = await first.Post("/v1/transfers/p2/void", new { from = "payer" });
        Assert.Equal("voided", S(voided.Body, "status"));
        var late = await first.Post("/v1/transfers/p2/post", new { from = "payer" });
        Assert.Equal((422, "already_voided"), (late.Status, S(late.Body, "code")));
        string[] accounts = ["payer", "payee"];
        var transactions = new List<(string, string)> { ("payer", "p1"), ("payer", "p2") };
        var before = await ReadAll(first, accounts, transactions);

        Assert.Equal(before, await AfterKill(first, accounts, transactions));
    }
}
