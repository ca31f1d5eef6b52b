using Ledger.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Ledger.Tests.Gateway;

/// <summary><c>Ledger.Host verify</c>: passes on a healthy journal, fails on a tampered one.</summary>
public class VerifyTests
{
    private static readonly string[] Route = ["vw"];

    [Fact]
    public async Task Verify_passes_on_a_healthy_journal_and_fails_on_a_tampered_one()
    {
        await using var host = new HostProcess();
        await host.Start();
        await host.Seed("V", "v-bank", ("alice", "100000"), ("bob", "0"));
        await host.Seed("W", "w-bank", ("alice", "100000"));
        Assert.Equal(201, (await host.Post("/v1/pools", new { id = "vw", asset_a = "V", asset_b = "W", fee_bps = 30 })).Status);
        Assert.Equal(200, (await host.Post("/v1/pools/vw/deposits", new { id = "d1", account = "alice", amount_a_desired = "50000", amount_b_desired = "50000" })).Status);
        Assert.Equal(200, (await host.Post("/v1/swaps", new { id = "s1", account = "alice", route = Route, asset_in = "V", amount_in = "100" })).Status);
        for (var i = 0; i < 5; i++)
            Assert.Equal(200, (await host.Post("/v1/transfers", new { id = "t" + i, from = "alice", to = "bob", asset = "V", amount = "10" })).Status);
        // A call series on W: written, expired, priced, partly redeemed; the rest still owed to its holders.
        var expiry = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 4_000;
        Assert.Equal(201, (await host.Post("/v1/options", new { id = "c1", underlying = "W", strike_asset = "V", kind = "call", strike = "1", expiry, dispute_ms = 0 })).Status);
        Assert.Equal(200, (await host.Post("/v1/options/c1/mint", new { id = "m1", account = "alice", amount = "1000" })).Status);
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < expiry) await Task.Delay(100);
        Assert.Equal(200, (await host.Put("/v1/options/c1/expiry_price", new { price = "3" })).Status);
        Assert.Equal(200, (await host.Post("/v1/options/c1/redeem", new { id = "r1", account = "alice", amount = "333" })).Status);
        // A perpetual market on W margined in V with a vault and an open position.
        Assert.Equal(200, (await host.Put("/v1/oracle/prices/V", new { price = "1" })).Status);
        Assert.Equal(200, (await host.Put("/v1/oracle/prices/W", new { price = "2" })).Status);
        Assert.Equal(201, (await host.Post("/v1/perps", new
        {
            id = "wp",
            underlying = "W",
            margin_asset = "V",
            skew_scale = "100000",
            max_funding_velocity = "0.1",
            initial_margin_ratio = "0.1",
            maintenance_margin_ratio = "0.05",
            liquidation_reward_ratio = "0.01",
            taker_fee_bps = 5,
        })).Status);
        Assert.Equal(200, (await host.Post("/v1/perps/wp/vault/deposit", new { id = "pv", account = "alice", amount = "10000" })).Status);
        Assert.Equal(200, (await host.Post("/v1/perps/wp/margin/deposit", new { id = "pm", account = "alice", amount = "1000" })).Status);
        Assert.Equal(200, (await host.Post("/v1/perps/wp/orders", new { id = "po", account = "alice", size_delta = "-500" })).Status);
        // A payment channel holding alice's deposit.
        Assert.Equal(201, (await host.Post("/v1/channels", new { id = "ch", asset = "V", a = "alice", b = "bob", a_key = new string('a', 64), b_key = new string('b', 64), challenge_ms = 1_000 })).Status);
        Assert.Equal(200, (await host.Post("/v1/channels/ch/deposit", new { id = "cd", account = "alice", amount = "500" })).Status);
        await host.Stop();

        var healthy = await HostProcess.Verify(host.DataDir);
        Assert.True(healthy.Exit == 0, healthy.Output);
        Assert.Contains("verify: ok", healthy.Output, StringComparison.Ordinal);
        Assert.Contains("1 option series, 1 perps, 1 channels replayed", healthy.Output, StringComparison.Ordinal);

        // Tampering: bob's first credit (one alice has seen acknowledged) disappears from the journal. (Removing the
        // newest one would only look like a credit still on its way: its acknowledgement may not be written yet.)
        using (var db = new SqliteConnection($"Data Source={Path.Combine(host.DataDir, "ledger.db")};Pooling=false"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "DELETE FROM event_journal WHERE persistence_id = 'account-bob' AND sequence_nr = 2";
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }
        var tampered = await HostProcess.Verify(host.DataDir);
        Assert.True(tampered.Exit == 1, tampered.Output);
        Assert.Contains("VIOLATION asset V", tampered.Output, StringComparison.Ordinal);
    }
}
