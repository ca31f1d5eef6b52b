using System.Diagnostics;
using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Bench;

/// <summary>
/// The bench is an instrument: this only checks that it runs and reports what it must (no timing is
/// asserted). Tiny sizes on the memory journal keep it to a few seconds.
/// </summary>
public class BenchSmokeTests
{
    /// <summary>Runs the bench on the memory journal with tiny sizes; returns its JSON.</summary>
    private static async Task<JsonElement> Bench(params string[] args) => (await BenchWithProgress(args)).Json;

    /// <summary>As <see cref="Bench"/>, and what it wrote to stderr (the progress of every phase).</summary>
    private static async Task<(JsonElement Json, string Progress)> BenchWithProgress(params string[] args)
    {
        var json = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.json");
        using var p = StartBench([.. new[] { "--journal", "memory", "--accounts", "50", "--seconds", "1", "--warmup", "0", "--in-flight", "16", "--json", json }.Concat(args)]);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.True(p.ExitCode == 0, await stderr + await stdout);
        var r = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement.Clone();
        File.Delete(json);
        return (r, await stderr);
    }

    private static Process StartBench(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { HostProcess.HostDll(), "bench" }.Concat(args)) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [Fact]
    public async Task Swaps_workload_runs_on_several_pools_with_conservation_checked()
    {
        var r = await Bench("--workload", "swaps", "--pools", "3");
        Assert.Equal(("swaps", 3), (r.GetProperty("workload").GetString(), r.GetProperty("pools").GetInt32()));
        Assert.True(r.GetProperty("conservation_ok").GetBoolean());
        Assert.True(r.GetProperty("committed").GetInt64() > 0);
        Assert.Equal(0, r.GetProperty("failed").GetInt64());
    }

    [Theory]
    [InlineData("routes")]
    [InlineData("mixed")]
    [InlineData("loans")]
    [InlineData("options")]
    [InlineData("perps")]
    [InlineData("votes")]
    [InlineData("channels")]
    public async Task Pool_and_market_workloads_run_with_conservation_checked(string workload)
    {
        var r = await Bench("--workload", workload, "--pools", "2");
        Assert.Equal(workload, r.GetProperty("workload").GetString());
        Assert.True(r.GetProperty("conservation_ok").GetBoolean());
        Assert.True(r.GetProperty("committed").GetInt64() > 0);
        Assert.Equal(0, r.GetProperty("failed").GetInt64());
    }

    [Fact]
    public async Task Atomic_batches_run_in_process_and_over_HTTP_with_conservation_checked()
    {
        var r = await Bench("--workload", "atomic", "--batch-size", "4");
        Assert.Equal("atomic", r.GetProperty("workload").GetString());
        Assert.True(r.GetProperty("conservation_ok").GetBoolean());
        Assert.True(r.GetProperty("committed").GetInt64() > 0);
        Assert.Equal(0, r.GetProperty("failed").GetInt64());

        await using var host = new HostProcess();
        await host.Start();
        var http = await Bench("--workload", "atomic", "--batch-size", "4", "--url", $"http://127.0.0.1:{host.Port}", "--key", HostProcess.AdminKey,
            "--accounts", "20", "--in-flight", "4");
        Assert.True(http.GetProperty("conservation_ok").GetBoolean());
        Assert.True(http.GetProperty("committed").GetInt64() > 0);
        Assert.Equal(0, http.GetProperty("failed").GetInt64());
        // Each committed batch is four transfers, all committed in the ledger: the host's audit still sums to zero.
        await host.AssertBalanced();
    }

    [Fact]
    public async Task Swaps_and_routes_run_over_HTTP_with_conservation_checked()
    {
        await using var host = new HostProcess();
        await host.Start();
        foreach (var workload in new[] { "swaps", "routes" })
        {
            var r = await Bench("--workload", workload, "--pools", "2", "--url", $"http://127.0.0.1:{host.Port}", "--key", HostProcess.AdminKey,
                "--accounts", "20", "--in-flight", "4");
            Assert.Equal(workload, r.GetProperty("workload").GetString());
            Assert.True(r.GetProperty("conservation_ok").GetBoolean());
            Assert.True(r.GetProperty("committed").GetInt64() > 0);
            Assert.Equal(0, r.GetProperty("failed").GetInt64());
        }
        await host.AssertBalanced();
    }

    private static readonly string[] HopFields = ["same_node_round_trip_us", "other_node_round_trip_us", "other_node_round_trips_per_s"];

    [Fact]
    public async Task The_hop_workload_measures_a_round_trip_between_two_nodes()
    {
        var r = await Bench("--workload", "hop");
        // Figures only (no timing is asserted): both round trips measured, and round trips to the other node carried.
        Assert.All(HopFields, field => Assert.True(r.GetProperty(field).GetDouble() > 0, field));
    }

    [Fact]
    public async Task On_a_throwaway_PostgreSQL_each_phase_runs_on_its_own_database_and_the_ledgers_rows_are_counted()
    {
        var r = await Bench("--workload", "transfers", "--journal", "postgres", "--pg", "auto");
        Assert.Equal("postgres", r.GetProperty("journal").GetString());
        Assert.True(r.GetProperty("conservation_ok").GetBoolean());
        Assert.True(r.GetProperty("committed").GetInt64() > 0);
        Assert.True(r.GetProperty("platform_ceiling_tps").GetDouble() > 0);
        // Counted in the ledger phase's own database (it was once looked for in the server's default one).
        Assert.True(r.GetProperty("journal_rows_per_transfer").GetDouble() > 0);
    }

    [Fact]
    public async Task Bench_runs_every_phase_and_writes_the_figures_with_conservation_checked()
    {
        var (r, progress) = await BenchWithProgress("--workload", "transfers-zipf");
        // Each phase ran in a process of its own (started as `bench --only PHASE`, which says so in its header).
        Assert.Contains("the ceiling phase only", progress);
        Assert.Contains("the ledger phase only", progress);
        foreach (var field in new[] { "workload", "accounts", "pools", "seconds", "in_flight", "journal", "committed", "rejected", "failed", "tps",
                     "latency_ms", "sequential_baseline_tps", "platform_ceiling_tps", "conservation_ok", "machine" })
            Assert.True(r.TryGetProperty(field, out _), $"missing {field}");
        Assert.Equal("transfers-zipf", r.GetProperty("workload").GetString());
        Assert.True(r.GetProperty("conservation_ok").GetBoolean());
        Assert.True(r.GetProperty("committed").GetInt64() > 0);
        Assert.True(r.GetProperty("platform_ceiling_tps").GetDouble() > 0);
        Assert.True(r.GetProperty("platform_ceiling_p99_ms").GetDouble() > 0);
        Assert.True(r.GetProperty("sequential_baseline_tps").GetDouble() > 0);
        foreach (var p99 in new[] { "p50", "p90", "p99", "max" }) Assert.True(r.GetProperty("latency_ms").TryGetProperty(p99, out _));
        Assert.True(r.GetProperty("machine").GetProperty("cores").GetInt32() > 0);
    }

    [Fact]
    public async Task An_unknown_phase_is_refused_with_the_usage_and_nothing_runs()
    {
        using var p = StartBench("--journal", "memory", "--only", "everything");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("--only takes ledger, ceiling or baseline", await stderr);
        Assert.Contains("usage: Ledger.Host bench", await stderr);
        Assert.Equal("", stdout);
    }
}
