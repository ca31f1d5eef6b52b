using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>The real host killed with SIGKILL and started again on the same data.</summary>
public class CrashTests
{
    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    [Fact]
    public async Task Same_id_after_kill_minus_9_returns_the_same_answer_and_nothing_is_lost()
    {
        await using var first = new HostProcess();
        await first.Start();
        await first.Seed("USD", "bank", ("alice", "1000"), ("bob", "0"));
        var transfer = new { id = "t1", from = "alice", to = "bob", asset = "USD", amount = "300" };
        var before = await first.Post("/v1/transfers", transfer);
        var reserve = await first.Post("/v1/transfers", new { id = "p1", from = "alice", to = "bob", asset = "USD", amount = "200", pending = true });
        Assert.Equal(("committed", "pending"), (S(before.Body, "status"), S(reserve.Body, "status")));

        first.Kill();

        await using var second = new HostProcess(first.DataDir);
        await second.Start();
        var after = await second.Post("/v1/transfers", transfer);
        Assert.Equal(before.Status, after.Status);
        Assert.Equal(before.Body.GetRawText(), after.Body.GetRawText());
        var alice = await second.Balance("alice", "USD");
        Assert.Equal(("700", "200", "500"), (S(alice, "posted"), S(alice, "pending_out"), S(alice, "available")));
        Assert.Equal("committed", S((await second.Post("/v1/transfers/p1/post", new { from = "alice" })).Body, "status"));
        Assert.Equal("500", S(await second.Balance("bob", "USD"), "posted"));
        Assert.Equal("1000", S((await second.Get("/v1/assets/USD")).Body, "supply"));
    }

    [Fact]
    public async Task Graceful_stop_exits_cleanly_and_a_restart_recovers_everything()
    {
        await using var first = new HostProcess();
        await first.Start();
        await first.Seed("EUR", "bank", ("carol", "42"));
        await first.Stop();
        Assert.Equal(0, first.ExitCode);

        await using var second = new HostProcess(first.DataDir);
        await second.Start();
        Assert.Equal("42", S(await second.Balance("carol", "EUR"), "posted"));
    }

    [Fact]
    public async Task A_reservation_expires_on_time_after_a_crash_even_if_nobody_touches_the_payer()
    {
        await using var first = new HostProcess();
        await first.Start();
        await first.Seed("USD", "bank", ("payer", "100"), ("payee", "0"));
        var reserve = await first.Post("/v1/transfers", new { id = "p1", from = "payer", to = "payee", asset = "USD", amount = "70", pending = true, timeout_ms = 4_000 });
        Assert.Equal("pending", S(reserve.Body, "status"));
        first.Kill();

        await using var second = new HostProcess(first.DataDir);
        await second.Start();
        // Only the payee is read: the payer must be woken by the ledger itself to expire the reservation.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (S(await second.Balance("payee", "USD"), "pending_in") != "0")
        {
            Assert.True(DateTime.UtcNow < deadline, "the reservation was not released after the restart");
            await Task.Delay(250);
        }
        Assert.Equal("expired", S((await second.Get("/v1/accounts/payer/transactions/p1")).Body, "status"));
    }

    [Fact]
    public async Task Transfers_cut_short_by_kill_minus_9_finish_by_themselves_after_the_restart()
    {
        await using var first = new HostProcess();
        // Payers' own records of outcomes wait for a later write for as long as they may, so that the refused transfer
        // below is certain to be still on its way in the payer's journal when the node dies.
        await first.Start("--Ledger:DeferredFlushAfterMs=600000");
        var accounts = Enumerable.Range(0, 100).Select(i => "w" + i).ToArray();
        await first.Seed("USD", "bank", [.. accounts.Select(a => (a, "100000")), ("quiet", "100")]);
        using var stop = new CancellationTokenSource();
        var committed = 0;
        // Transfers keep coming from 32 clients until the kill, so some may be cut short between the payer's and the payee's write.
        var clients = Enumerable.Range(0, 32).Select(c => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var transfer = new { id = $"c{c}-{i}", from = accounts[(c * 31 + i) % 100], to = accounts[(c * 17 + i * 7 + 1) % 100], asset = "USD", amount = "1" };
                try
                {
                    if ((await first.Post("/v1/transfers", transfer)).Status == 200) Interlocked.Increment(ref committed);
                }
                catch (HttpRequestException)
                {
                    return; // the node is gone
                }
            }
        })).ToArray();
        var loaded = DateTime.UtcNow.AddSeconds(120);
        while (Volatile.Read(ref committed) < 500)
        {
            Assert.True(DateTime.UtcNow < loaded, "the transfers did not get going");
            await Task.Delay(20);
        }
        var refused = await first.Post("/v1/transfers", new { id = "lost", from = "quiet", to = "nobody", asset = "USD", amount = "10" });
        Assert.Equal(422, refused.Status);
        first.Kill();
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        await using var second = new HostProcess(first.DataDir);
        await second.Start();
        // No client touches an account: the node itself starts those its journal lists as owing a step.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!second.Output.Contains("every account and saga woken has finished", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the accounts cut short did not finish by themselves:\n" + second.Output);
            await Task.Delay(100);
        }
        await second.Stop();
        var (exit, report) = await HostProcess.Verify(first.DataDir, "--settled");
        Assert.True(exit == 0, report);
    }
}
