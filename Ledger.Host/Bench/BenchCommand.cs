using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Ledger.Actors.Hosting;

namespace Ledger.Host.Bench;

public sealed record LatencyMs(double P50, double P90, double P99, double Max);

public sealed record MachineInfo(int Cores, double MemoryGb);

/// <summary>One run's figures; the JSON shape the issue asks for (snake_case).</summary>
public sealed record BenchResult(
    string Workload, int Accounts, int Pools, int Seconds, int InFlight, string Journal, string? Url, int Batch,
    long Committed, long Rejected, long Failed, double Tps, LatencyMs LatencyMs,
    double SequentialBaselineTps, double? PlatformCeilingTps, double? PlatformCeilingP99Ms, double? RatioToCeiling, bool ConservationOk,
    double? JournalRowsPerTransfer,
    MachineInfo Machine, string Date);

/// <summary>
/// <c>Ledger.Host bench</c>: drives the ledger with a bounded number of transactions in flight, and in the same
/// run measures the sequential baseline (the contracts alone, one thread) and the platform ceiling (bare
/// persistent actors on the same journal). Prints progress and a summary; writes JSON and a chart.
/// </summary>
public static class BenchCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static async Task<int> Run(string[] args)
    {
        BenchOptions o;
        try
        {
            o = BenchOptions.Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            await Console.Error.WriteLineAsync(e.Message + Environment.NewLine + BenchOptions.Help);
            return 2;
        }
        using var pg = o.Journal == "postgres" && o.Pg == "auto" ? ThrowawayPostgres.Start() : null;
        if (pg is not null) o = o with { Pg = pg.ConnectionString };

        if (o.Workload == "recovery") return await RunRecovery(o);
        if (o.Workload == "hop") return await HopPhase.Run(o);

        var results = new List<BenchResult>();
        foreach (var accounts in o.SweepAccounts.Length > 0 ? o.SweepAccounts : [o.Accounts])
            foreach (var pools in o.SweepPools.Length > 0 ? o.SweepPools : [o.Pools])
                results.Add(await RunOne(o with { Accounts = accounts, Pools = pools }, pg));

        PrintSummary(results);
        if (o.Json is not null)
            await File.WriteAllTextAsync(o.Json, results.Count == 1 ? JsonSerializer.Serialize(results[0], Json) : JsonSerializer.Serialize(results, Json));
        if (o.Chart is not null) Chart.Render(results, o.Chart, overPools: o.SweepPools.Length > 0);
        return results.All(r => r.ConservationOk && r.Failed == 0) ? 0 : 1;
    }

    private static async Task<BenchResult> RunOne(BenchOptions o, ThrowawayPostgres? pg)
    {
        Console.Error.WriteLine($"bench: {o.Workload}, {o.Accounts:N0} accounts{(o.UsesPools ? $", {o.Pools:N0} pools" : "")}, {o.InFlight:N0} in flight, journal {o.Journal}{(o.Url is null ? "" : ", " + o.Url + ", batch " + o.Batch)}{(o.Only is null ? "" : $" — the {o.Only} phase only")}");
        var workload = new Workload(o.Workload, o.Accounts);
        var swaps = o.UsesPools;
        // Transfers alone have a bare-actor ceiling and a contracts-only baseline; an atomic batch has neither yet.
        var transfers = !swaps && o.Workload is not ("atomic" or "votes" or "channels");
        var baseline = o.Only is not (null or "baseline") || o.Workload is "atomic" or "options" or "perps" or "votes" or "channels" ? 0
            : o.Workload == "loans" ? LoanPhases.SequentialBaseline(o)
            : swaps ? SwapPhases.SequentialBaseline(o, workload)
            : Phases.SequentialBaseline(o, workload);
        if (baseline > 0) Console.Error.WriteLine($"  sequential baseline: {baseline:N0} tx/s");

        if (o.Url is null && o.Only is null)
        {
            // Each phase in a process of its own, so that neither inherits the other's heap or the collector's sizing.
            // The platform ceiling is measured for transfers (one tiny event per side); a pool call has no bare equivalent.
            var ceilingRun = transfers ? await InOwnProcess(o, pg, "ceiling") : null;
            var ledgerRun = await InOwnProcess(o, pg, "ledger");
            return ledgerRun with
            {
                SequentialBaselineTps = Math.Round(baseline),
                PlatformCeilingTps = ceilingRun?.PlatformCeilingTps,
                PlatformCeilingP99Ms = ceilingRun?.PlatformCeilingP99Ms,
                RatioToCeiling = ceilingRun?.PlatformCeilingTps is > 0 and var ceilingTps ? Math.Round(ledgerRun.Tps / ceilingTps, 3) : null,
            };
        }

        LoadResult load = new(0, 0, 0, 1, 0, 0, 0, 0);
        var conserved = true;
        long? rows = null;
        LoadResult? ceiling = null;
        if (o.Url is not null)
        {
            (load, conserved) = swaps ? await SwapPhases.Http(o) : await Phases.Http(o, workload);
        }
        else
        {
            // Each phase on a node of its own and an empty journal: the ledger run after the ceiling in one node found
            // the ceiling's million-odd rows in the journal's table and indexes and its 10,000 entities on the heap.
            if (o.Only is "ceiling" && transfers)
                ceiling = await OnOwnNode(o, pg, "ceiling", (node, system, _, _) => Phases.Ceiling(node, system, workload));
            if (o.Only is "ledger")
                (load, conserved, rows) = await OnOwnNode(o, pg, "ledger", async (node, system, regions, dataDir) =>
                    node.Workload == "loans" ? Without(await LoanPhases.Ledger(node, regions))
                    : node.Workload == "options" ? Without(await OptionPhases.Ledger(node, regions))
                    : node.Workload == "perps" ? Without(await PerpPhases.Ledger(node, regions))
                    : node.Workload == "votes" ? Without(await VotePhases.Ledger(node, regions))
                    : node.Workload == "channels" ? Without(await ChannelPhases.Ledger(node, regions))
                    : swaps ? Without(await SwapPhases.Ledger(node, regions, workload))
                    : await WithFeed(node, system, () => Phases.Ledger(node, dataDir, regions, workload)));
        }
        return new BenchResult(o.Workload, o.Accounts, o.Pools, o.Seconds, o.InFlight, o.Journal, o.Url, o.Batch,
            load.Committed, load.Rejected, load.Failed, Math.Round(load.Tps),
            new LatencyMs(Math.Round(load.P50Ms, 2), Math.Round(load.P90Ms, 2), Math.Round(load.P99Ms, 2), Math.Round(load.MaxMs, 2)),
            Math.Round(baseline), ceiling is { } c ? Math.Round(c.Tps) : null, ceiling is { } cp ? Math.Round(cp.P99Ms, 2) : null,
            null, conserved, rows is { } r && load.AllCommitted > 0 ? Math.Round((double)r / load.AllCommitted / (o.Workload == "atomic" ? o.BatchSize : 1), 2) : null,
            new MachineInfo(Environment.ProcessorCount, Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9, 1)),
            DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Runs one phase as <c>bench --only PHASE</c> in a child process of this same program and reads back its JSON.
    /// Its progress goes to this process's stderr; on a throwaway PostgreSQL it is given a fresh database.
    /// </summary>
    private static async Task<BenchResult> InOwnProcess(BenchOptions o, ThrowawayPostgres? pg, string phase)
    {
        var json = Path.Combine(Path.GetTempPath(), $"ledger-bench-{phase}-{Guid.NewGuid():N}.json");
        if (pg is not null) o = o with { Pg = await PhaseDatabase(pg, phase) };
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no path to this program");
        var psi = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(BenchCommand).Assembly.Location);
        psi.ArgumentList.Add("bench");
        foreach (var a in (o with { Only = phase, Json = json, Chart = null, Key = null }).ToArgs()) psi.ArgumentList.Add(a);
        using var child = Process.Start(psi) ?? throw new InvalidOperationException($"the {phase} phase did not start");
        try
        {
            await child.StandardOutput.ReadToEndAsync(); // its one-line summary; the parent prints the whole run's
            await child.WaitForExitAsync();
            if (!File.Exists(json)) throw new InvalidOperationException($"the {phase} phase exited with {child.ExitCode} and wrote no figures");
            return JsonSerializer.Deserialize<BenchResult>(await File.ReadAllTextAsync(json), Json)!;
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
            File.Delete(json);
        }
    }

    private static string Reads(double[] ms) =>
        $"p50 {RecoveryResult.Percentile(ms, 0.5):F2} ms, p99 {RecoveryResult.Percentile(ms, 0.99):F2} ms, max {ms[^1]:F2} ms";

    private static object ReadsJson(double[] ms) =>
        new { p50 = Math.Round(RecoveryResult.Percentile(ms, 0.5), 3), p99 = Math.Round(RecoveryResult.Percentile(ms, 0.99), 3), max = Math.Round(ms[^1], 3) };

    private static async Task<int> RunRecovery(BenchOptions o)
    {
        var dataDir = o.DataDir ?? Path.Combine(Path.GetTempPath(), "ledger-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var r = await Phases.Recovery(o, () => StartNode(o, dataDir));
            var (all, hot, hotTransfers) = (r.AllAccountsSeconds, r.HotAccountSeconds, r.HotTransfers);
            Console.WriteLine($"recovery, journal {o.Journal}: {o.Accounts:N0} accounts answered again after {all:F2} s; " +
                $"the hot account ({hotTransfers:N0} transfers) after {hot:F2} s; balances at an instant read in " +
                $"{Reads(r.BalanceReadMillis)} (the hot account), {Reads(r.SpreadReadMillis)} (across accounts)");
            if (o.Json is not null)
                await File.WriteAllTextAsync(o.Json, JsonSerializer.Serialize(new
                {
                    workload = "recovery",
                    journal = o.Journal,
                    accounts = o.Accounts,
                    all_accounts_seconds = Math.Round(all, 3),
                    hot_account_transfers = hotTransfers,
                    hot_account_seconds = Math.Round(hot, 3),
                    balances_at_ms = ReadsJson(r.BalanceReadMillis),
                    balances_at_across_accounts_ms = ReadsJson(r.SpreadReadMillis),
                    machine = new MachineInfo(Environment.ProcessorCount, Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9, 1)),
                    date = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                }, Json));
            return 0;
        }
        finally
        {
            if (o.DataDir is null) try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    private static (LoadResult, bool, long?) Without((LoadResult Load, bool Conserved) r) => (r.Load, r.Conserved, null);

    /// <summary>
    /// Runs one phase on a node started for it, with a fresh data directory (SQLite) or, on a throwaway PostgreSQL
    /// (<c>--pg auto</c>), a fresh database; a given <c>--data</c> directory or connection string is used as it is.
    /// The phase is handed the options that name its own journal.
    /// </summary>
    /// <summary>Runs a phase with a reader of the change feed beside it when <c>--feed</c> asks for one.</summary>
    private static async Task<T> WithFeed<T>(BenchOptions o, ActorSystem system, Func<Task<T>> phase)
    {
        if (!o.Feed) return await phase();
        var watch = FeedWatch.Start(system);
        var result = await phase();
        await watch.Report();
        return result;
    }

    private static async Task<T> OnOwnNode<T>(BenchOptions o, ThrowawayPostgres? pg, string phase,
        Func<BenchOptions, ActorSystem, Ledger.Actors.Sharding.LedgerRegions, string, Task<T>> run)
    {
        var dataDir = o.DataDir ?? Path.Combine(Path.GetTempPath(), $"ledger-bench-{phase}-" + Guid.NewGuid().ToString("N")[..8]);
        if (pg is not null) o = o with { Pg = await PhaseDatabase(pg, phase) };
        var system = StartNode(o, dataDir);
        try
        {
            return await run(o, system, await Phases.Ready(system), dataDir);
        }
        finally
        {
            await system.Terminate();
            if (o.DataDir is null) try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A fresh database on the throwaway PostgreSQL for one phase, so that no phase finds another's rows.</summary>
    private static Task<string> PhaseDatabase(ThrowawayPostgres pg, string phase) => pg.CreateDatabase($"bench_{phase}_{Guid.NewGuid():N}");

    private static ActorSystem StartNode(BenchOptions o, string dataDir) => LedgerNode.Start(new LedgerNodeOptions
    {
        SystemName = "bench",
        DataDir = dataDir,
        Journal = o.Journal,
        ConnectionString = o.Pg,
        ExtraHocon = "akka.loglevel = WARNING",
    });

    private static void PrintSummary(List<BenchResult> results)
    {
        Console.WriteLine();
        Console.WriteLine($"{"workload",-16}{"accounts",10}{"pools",7}{"journal",9}{"in-flight",10}{"tx/s",10}{"p50 ms",9}{"p99 ms",9}{"max ms",9}{"ceiling",10}{"ceil p99",9}{"ratio",7}{"baseline",11}{"rows/tx",8}{"rejected",10}{"failed",8}  conservation");
        foreach (var r in results)
            Console.WriteLine($"{r.Workload,-16}{r.Accounts,10:N0}{r.Pools,7:N0}{r.Journal,9}{r.InFlight,10:N0}{r.Tps,10:N0}{r.LatencyMs.P50,9:F1}{r.LatencyMs.P99,9:F1}{r.LatencyMs.Max,9:F1}{r.PlatformCeilingTps,10:N0}{r.PlatformCeilingP99Ms,9:F1}{r.RatioToCeiling,7:F2}{r.SequentialBaselineTps,11:N0}{r.JournalRowsPerTransfer,8:F2}{r.Rejected,10:N0}{r.Failed,8:N0}  {(r.ConservationOk ? "ok" : "VIOLATED")}");
    }
}
