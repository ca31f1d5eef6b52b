using System.Collections.Concurrent;
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
    public async Task Routes_cut_short_by_kill_minus_9_move_both_pools_or_neither_and_are_answered_once()
    {
        await using var first = new HostProcess();
        await first.Start();
        var traders = Enumerable.Range(0, 16).Select(i => "trader" + i).ToArray();
        await first.Seed("X", "bank-x", [("lp", "5000000"), .. traders.Select(t => (t, "1000000"))]);
        await first.Seed("Y", "bank-y", ("lp", "20000000"));
        await first.Seed("Z", "bank-z", ("lp", "10000000"));
        await first.PostUntilKnown("/v1/pools", new { id = "xy", asset_a = "X", asset_b = "Y", fee_bps = 30 });
        await first.PostUntilKnown("/v1/pools", new { id = "yz", asset_a = "Y", asset_b = "Z", fee_bps = 30 });
        await first.PostUntilKnown("/v1/pools/xy/deposits", new { id = "d1", account = "lp", amount_a_desired = "5000000", amount_b_desired = "10000000" });
        await first.PostUntilKnown("/v1/pools/yz/deposits", new { id = "d2", account = "lp", amount_a_desired = "5000000", amount_b_desired = "10000000" });
        var reserves = await Reserves(first);

        // Every trader routes X→Y→Z through both pools, one route at a time, until the kill: xy coordinates the batches, yz
        // is locked by them, and each releases its lock or decision to the other as soon as it is queued for the journal.
        object Route(string trader, int i) => new { id = $"r{i}", account = trader, route = new[] { "xy", "yz" }, asset_in = "X", amount_in = "100", min_amount_out = "1" };
        var heard = new ConcurrentDictionary<(string, int), string>();
        var sent = new int[traders.Length];
        var clients = traders.Select((trader, c) => Task.Run(async () =>
        {
            for (var i = 0; ; i++)
            {
                sent[c] = i + 1;
                try
                {
                    var (status, body) = await first.Post("/v1/swaps", Route(trader, i));
                    if (status == 200) heard[(trader, i)] = body.GetRawText();
                }
                catch (HttpRequestException)
                {
                    return; // the node is gone
                }
            }
        })).ToArray();
        var loaded = DateTime.UtcNow.AddSeconds(120);
        while (heard.Count < 300)
        {
            Assert.True(DateTime.UtcNow < loaded, "the routes did not get going");
            await Task.Delay(20);
        }
        first.Kill();
        await Task.WhenAll(clients);

        await using var second = new HostProcess(first.DataDir);
        await second.Start();
        // Every route a trader sent is asked again with its id: one heard before the kill is answered the same, and one
        // not heard goes through now, once.
        var answers = await Task.WhenAll(traders.Select(async (trader, c) =>
        {
            var moved = new List<JsonElement>();
            for (var i = 0; i < sent[c]; i++)
            {
                var (_, body) = await second.PostUntilKnown("/v1/swaps", Route(trader, i));
                if (heard.TryGetValue((trader, i), out var before)) Assert.Equal(before, body.GetRawText());
                moved.Add(body.GetProperty("amounts"));
            }
            return (trader, moved);
        }));
        static UInt128 Sum(IEnumerable<JsonElement> amounts, int hop) => amounts.Aggregate(UInt128.Zero, (sum, a) => sum + UInt128.Parse(a[hop].GetString()!));
        var all = answers.SelectMany(a => a.moved).ToArray();
        // Both pools moved by exactly the hops of every route, and each trader by its own routes' input and output.
        var after = await Reserves(second);
        Assert.Equal((reserves.Xy.A + Sum(all, 0), reserves.Xy.B - Sum(all, 1), reserves.Yz.A + Sum(all, 1), reserves.Yz.B - Sum(all, 2)),
            (after.Xy.A, after.Xy.B, after.Yz.A, after.Yz.B));
        foreach (var (trader, moved) in answers)
            Assert.Equal(((1_000_000 - Sum(moved, 0)).ToString(), Sum(moved, 2).ToString()),
                (S(await second.Balance(trader, "X"), "posted"), S(await second.Balance(trader, "Z"), "posted")));
        await second.AssertBalanced();
    }

    private static async Task<((UInt128 A, UInt128 B) Xy, (UInt128 A, UInt128 B) Yz)> Reserves(HostProcess host)
    {
        async Task<(UInt128, UInt128)> Of(string pool)
        {
            var (_, body) = await host.GetUntilKnown("/v1/pools/" + pool);
            return (UInt128.Parse(S(body, "reserve_a")), UInt128.Parse(S(body, "reserve_b")));
        }
        return (await Of("xy"), await Of("yz"));
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
