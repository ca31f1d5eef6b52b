using System.Globalization;

namespace Ledger.Host.Bench;

/// <summary>The bench's command line (see <see cref="Help"/>).</summary>
public sealed record BenchOptions
{
    public string Workload { get; init; } = "transfers";
    public int Accounts { get; init; } = 10_000;
    public int Pools { get; init; } = 1;
    public int Seconds { get; init; } = 20;
    public int WarmupSeconds { get; init; } = 3;
    public int InFlight { get; init; } = 1_000;
    public string Journal { get; init; } = "sqlite";
    /// <summary>PostgreSQL connection string, or <c>auto</c> to start a throwaway server.</summary>
    public string? Pg { get; init; }
    /// <summary>Drive a running gateway over HTTP instead of an in-process node.</summary>
    public string? Url { get; init; }
    public int Batch { get; init; } = 1;
    /// <summary>Transfers per all-or-nothing batch of the <c>atomic</c> workload.</summary>
    public int BatchSize { get; init; } = 10;
    /// <summary>With <see cref="Url"/>: the key sent as <c>Authorization: Bearer</c> (the gateway's admin key, to create the bench's assets).</summary>
    public string? Key { get; init; }
    public string? Json { get; init; }
    public string? Chart { get; init; }
    public int[] SweepAccounts { get; init; } = [];
    public int[] SweepPools { get; init; } = [];
    public int HotEvents { get; init; } = 1_000_000;
    /// <summary>Off-ledger payments per channel of the <c>channels</c> workload.</summary>
    public int Payments { get; init; } = 100;
    /// <summary>Read the change feed beside the load and report its lag and rate (transfers, atomic).</summary>
    public bool Feed { get; init; }
    public string? DataDir { get; init; }
    /// <summary>Run only one phase: <c>ledger</c>, <c>ceiling</c> or <c>baseline</c> (for profiling).</summary>
    public string? Only { get; init; }

    public const string Help = """
        usage: Ledger.Host bench [options]
          --workload transfers|transfers-zipf   uniform transfers, or hot accounts (Zipf s = 1.1)
          --workload swaps      exact-input swaps of random accounts on --pools K pools (K = 1: one hot pool)
          --workload routes     two-hop routes (a saga locking two of the K ≥ 2 pools) of random accounts
          --workload mixed      half transfers between random accounts, half swaps on the K pools
          --workload atomic     all-or-nothing batches of --batch-size N transfers between random accounts (one saga each)
          --workload loans      supply, collateral, borrow, repay, liquidations and price moves on --pools K lending markets
          --workload options    mints, purchases in the pool and burns on --pools K call series; then every holder redeems
          --workload perps      orders, margin, liquidation attempts and price moves on --pools K perpetual futures markets
          --workload votes      every account votes on one proposal after another of one governor (the hot key)
          --workload channels   channel lives (open, deposits, --payments N off-ledger payments, cooperative close, payouts), after
                                the off-ledger rate of proofs signed and verified by the client helper
          --feed                with transfers or atomic: read the change feed beside the load; report its lag and items/s
          --payments N          off-ledger payments per channel of the channels workload (default 100)
          --workload hop        the cost of a hop between two nodes (round trip and throughput, loopback TCP)
          --workload recovery   restart time of --accounts accounts and of one account with --hot-events transfers
          --hot-events N        for recovery (default 1000000)
          --batch-size N        transfers per atomic batch (default 10, at most 8190)
          --accounts N          accounts (default 10000)
          --seconds S           measured duration (default 20), after --warmup S (default 3)
          --in-flight N         transactions (or HTTP requests) in flight (default 1000)
          --journal sqlite|postgres|memory      (default sqlite, durable)
          --pg CONNSTRING|auto  PostgreSQL for --journal postgres; auto starts a throwaway server
          --url URL             drive a running gateway over HTTP: transfers with --batch N operations per request, atomic, swaps, routes
          --key KEY             with --url: the gateway's admin key (default: $LEDGER_ADMIN_KEY)
          --json FILE           write the results as JSON
          --sweep accounts=10,100,1000          one run per value; with --chart FILE, a PNG of tps against accounts
          --sweep pools=1,10,100                one run per pool count (swaps, routes, mixed); the chart is against pools
          --data DIR            data directory for the in-process node (default: a new temporary one)
          --only PHASE          run only ledger, ceiling or baseline (to profile one of them)
        """;

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--workload" => o with { Workload = Value() },
                "--accounts" => o with { Accounts = Int() },
                "--pools" => o with { Pools = Int() },
                "--seconds" => o with { Seconds = Int() },
                "--warmup" => o with { WarmupSeconds = Int() },
                "--in-flight" => o with { InFlight = Int() },
                "--journal" => o with { Journal = Value() },
                "--pg" => o with { Pg = Value() },
                "--url" => o with { Url = Value() },
                "--batch" => o with { Batch = Int() },
                "--batch-size" => o with { BatchSize = Int() },
                "--key" => o with { Key = Value() },
                "--json" => o with { Json = Value() },
                "--chart" => o with { Chart = Value() },
                "--data" => o with { DataDir = Value() },
                "--only" => o with { Only = Value() },
                "--hot-events" => o with { HotEvents = Int() },
                "--payments" => o with { Payments = Int() },
                "--feed" => o with { Feed = true },
                "--sweep" => Sweep(o, Value()),
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        if (o.Workload is not ("transfers" or "transfers-zipf" or "swaps" or "routes" or "mixed" or "atomic" or "loans" or "options" or "perps" or "votes" or "channels" or "hop" or "recovery")) throw new ArgumentException($"unknown workload '{o.Workload}'");
        if (o.Journal is not ("sqlite" or "postgres" or "memory")) throw new ArgumentException($"unknown journal '{o.Journal}'");
        if (o.Journal == "postgres" && o.Pg is null) throw new ArgumentException("--journal postgres needs --pg CONNSTRING or --pg auto");
        if (o.Workload is "mixed" or "loans" or "options" or "perps" or "votes" or "channels" && o.Url is not null) throw new ArgumentException($"--workload {o.Workload} runs in process (no --url yet)");
        if (o.Pools < 1 || o.SweepPools.Any(k => k < 1)) throw new ArgumentException("out of range: pools ≥ 1");
        if (o.Workload == "routes" && (o.SweepPools.Length > 0 ? o.SweepPools.Any(k => k < 2) : o.Pools < 2)) throw new ArgumentException("--workload routes needs pools ≥ 2 (a route crosses two)");
        if (o.SweepPools.Length > 0 && !o.UsesPools) throw new ArgumentException("--sweep pools applies to swaps, routes and mixed");
        if (o.Only is not (null or "ledger" or "ceiling" or "baseline")) throw new ArgumentException($"--only takes ledger, ceiling or baseline, not '{o.Only}'");
        if (o.Accounts < 2 || o.InFlight < 1 || o.Seconds < 1 || o.Batch is < 1 or > 8_190 || o.BatchSize is < 1 or > 8_190 || o.Payments < 0)
            throw new ArgumentException("out of range: accounts ≥ 2, in-flight ≥ 1, seconds ≥ 1, batch and batch size 1–8190, payments ≥ 0");
        return o;
    }

    /// <summary>
    /// The command line for one run of these options (no sweep: a sweep is run one value at a time), as
    /// <see cref="Parse"/> reads it; how the bench hands a phase to a process of its own.
    /// </summary>
    public IEnumerable<string> ToArgs()
    {
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        string[] always = ["--workload", Workload, "--accounts", I(Accounts), "--pools", I(Pools), "--seconds", I(Seconds),
            "--warmup", I(WarmupSeconds), "--in-flight", I(InFlight), "--journal", Journal, "--batch", I(Batch), "--batch-size", I(BatchSize), "--hot-events", I(HotEvents), "--payments", I(Payments)];
        (string Name, string? Value)[] optional = [("--pg", Pg), ("--url", Url), ("--key", Key), ("--json", Json), ("--chart", Chart), ("--data", DataDir), ("--only", Only)];
        return always.Concat(optional.Where(p => p.Value is not null).SelectMany(p => new[] { p.Name, p.Value! })).Concat(Feed ? ["--feed"] : []);
    }

    /// <summary>Whether the workload trades on pools (and so runs <see cref="SwapPhases"/>).</summary>
    public bool UsesPools => Workload is "swaps" or "routes" or "mixed" or "loans" or "options" or "perps";

    private static BenchOptions Sweep(BenchOptions o, string spec)
    {
        var (name, values) = spec.IndexOf('=', StringComparison.Ordinal) is var eq and > 0 ? (spec[..eq], spec[(eq + 1)..]) : ("", "");
        int[] list = [.. values.Split(',').Select(v => int.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture))];
        return name switch
        {
            "accounts" => o with { SweepAccounts = list },
            "pools" => o with { SweepPools = list },
            _ => throw new ArgumentException("--sweep takes accounts=N,N,… or pools=K,K,…"),
        };
    }
}
