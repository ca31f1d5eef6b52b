using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Ledger.Actors.Accounts;
using Ledger.Actors.Hosting;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Host.Bench;

/// <summary>The three things a run measures: the ledger, the platform under it, and the logic alone.</summary>
public static class Phases
{
    public const string Asset = "BENCH";
    public const string Issuer = "bench-issuer";
    public const ulong Funding = 1_000_000_000_000;
    internal static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    public static string AccountId(int i) => "acct-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // ---- the ledger, in process -------------------------------------------------------------------------

    public static async Task<(LoadResult Load, bool ConservationOk, long? Rows)> Ledger(BenchOptions o, string dataDir, LedgerRegions regions, Workload workload)
    {
        await Fund(regions, o.Accounts);
        var rowsBefore = await AccountRows(o, dataDir);
        var ids = Enumerable.Range(0, o.Accounts).Select(i => new AccountId(AccountId(i))).ToArray();
        long seq = 0;
        var load = await LoadRunner.Run("ledger", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            if (o.Workload == "atomic")
            {
                var batch = AtomicBatch(o, workload, random, "b" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    (i, from, to) => new TransferOp(i, ids[from], ids[to], new(Asset), 1));
                var outcome = await regions.Sagas.Ask<object>(new StartSaga(new(batch[0].Account, batch[0].Id), batch), AskTimeout);
                return outcome is SagaOutcome { Committed: true } ? OpResult.One : OpResult.Refused;
            }
            var (from, to) = workload.Next(random);
            var id = new TxId("b" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture));
            var reply = await regions.Accounts.Ask<object>(new SubmitTransfers(ids[from], [new TransferRequest(id, ids[to], new(Asset), 1, false, null)]), AskTimeout);
            return reply is TransferResults { Results: [{ Transaction.Status: TransferStatus.Committed }] } ? OpResult.One : OpResult.Refused;
        });
        if (o.Workload == "atomic") ReportSagaSteps();
        var conserved = await Conserved(regions, ids);
        return (load, conserved, await AccountRows(o, dataDir) - rowsBefore);
    }

    /// <summary>Where a saga's time went in this run (mean per step, warm-up included), and the journal's write latency.</summary>
    public static void ReportSagaSteps()
    {
        foreach (var (name, count, meanMs) in LedgerMetrics.Breakdown())
            Console.Error.WriteLine($"  {name,-18} {count,10:N0} × {meanMs,9:N2} ms");
    }

    /// <summary>The transfers of one atomic batch: <see cref="BenchOptions.BatchSize"/> of them between random accounts, ids <c>{prefix}-{k}</c>.</summary>
    private static T[] AtomicBatch<T>(BenchOptions o, Workload workload, Random random, string prefix, Func<TxId, int, int, T> transfer)
    {
        var batch = new T[o.BatchSize];
        for (var k = 0; k < batch.Length; k++)
        {
            var (from, to) = workload.Next(random);
            batch[k] = transfer(new TxId(prefix + "-" + k.ToString(System.Globalization.CultureInfo.InvariantCulture)), from, to);
        }
        return batch;
    }

    /// <summary>A venue call of the workloads' setup, which must commit (seeding a vault, a pool, a margin).</summary>
    public static async Task VenueCallCommitted(LedgerRegions regions, AccountId account, string id, VenueCall call)
    {
        if (await regions.Accounts.Ask<object>(new CallVenue(account, new(id), call), AskTimeout)
            is not TransferOutcome { Transaction.Status: TransferStatus.Committed })
            throw new InvalidOperationException($"{account}/{id} failed");
    }

    /// <summary>Creates the asset and the accounts and gives every account the same funding (one batch per 1,000).</summary>
    public static async Task Fund(LedgerRegions regions, int accounts, string asset = Asset)
    {
        await regions.Assets.Ask<object>(new CreateAsset(new(asset), 0, new(Issuer)), AskTimeout);
        await ForEachAccount(accounts, i => regions.Accounts.Ask<object>(new OpenAccount(new(AccountId(i)), "bench"), AskTimeout));
        for (var start = 0; start < accounts; start += 1_000)
        {
            var items = Enumerable.Range(start, Math.Min(1_000, accounts - start))
                .Select(i => new TransferRequest(new("fund-" + asset + "-" + i), new(AccountId(i)), new(asset), Funding, false, null)).ToArray();
            await regions.Accounts.Ask<object>(new SubmitTransfers(new(Issuer), items), AskTimeout);
        }
    }

    /// <summary>Runs <paramref name="action"/> for every account index, at most 256 at a time.</summary>
    private static async Task ForEachAccount(int accounts, Func<int, Task> action)
    {
        using var gate = new SemaphoreSlim(256);
        await Task.WhenAll(Enumerable.Range(0, accounts).Select(async i =>
        {
            await gate.WaitAsync();
            try { await action(i); }
            finally { gate.Release(); }
        }));
    }

    /// <summary>The sum of every posted balance, the issuer's included, is zero, and nothing is left reserved.</summary>
    private static async Task<bool> Conserved(LedgerRegions regions, AccountId[] ids)
    {
        Int128 sum = 0;
        var reserved = false;
        foreach (var chunk in ids.Append(new AccountId(Issuer)).Chunk(500))
            foreach (var view in await Task.WhenAll(chunk.Select(id => regions.Accounts.Ask<AccountView>(new GetAccount(id), AskTimeout))))
                foreach (var b in view.Balances.Where(b => b.Asset.Value == Asset))
                {
                    sum += b.Posted;
                    reserved |= !b.PendingOut.IsZero || !b.PendingIn.IsZero;
                }
        return sum == 0 && !reserved;
    }

    /// <summary>
    /// Per asset, the accounts and the venues (pools, markets: each asked its holdings) together hold zero, the issuer
    /// negative, and nothing is left in flight.
    /// </summary>
    public static async Task<bool> HoldingsConserved(LedgerRegions regions, AccountId[] accounts, IEnumerable<(IActorRef Region, object Question)> venues)
    {
        var holdings = new List<Holdings>();
        foreach (var chunk in accounts.Chunk(500))
            holdings.AddRange(await Task.WhenAll(chunk.Select(a => regions.Accounts.Ask<Holdings>(new GetHoldings(a), AskTimeout))));
        foreach (var (region, question) in venues) holdings.Add(await region.Ask<Holdings>(question, AskTimeout));
        var sums = new Dictionary<AssetId, Int128>();
        foreach (var h in holdings.SelectMany(h => h.Items)) sums[h.Asset] = sums.GetValueOrDefault(h.Asset) + h.Held + (Int128)h.InFlight.Value;
        return sums.Values.All(v => v == 0) && holdings.SelectMany(h => h.Items).All(h => h.InFlight.IsZero);
    }

    /// <summary>Journal rows written by accounts so far (SQLite and PostgreSQL), to report rows per transfer.</summary>
    private static async Task<long?> AccountRows(BenchOptions o, string dataDir)
    {
        if (o.Journal == "memory") return null;
        await using System.Data.Common.DbConnection c = o.Journal == "postgres"
            ? new Npgsql.NpgsqlConnection(o.Pg)
            : new Microsoft.Data.Sqlite.SqliteConnection(LedgerNode.SqliteConnectionString(new LedgerNodeOptions { DataDir = dataDir }));
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM event_journal WHERE persistence_id LIKE 'account-%'";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }


    // ---- the platform ceiling: the same transfers through bare persistent actors, one tiny event per side ---

    public static async Task<LoadResult> Ceiling(BenchOptions o, ActorSystem system, Workload workload)
    {
        IActorRef region = ActorRefs.Nobody;
        region = ClusterSharding.Get(system).Start("bench-ceiling", id => Props.Create(() => new CeilingActor(id, region)),
            ClusterShardingSettings.Create(system), new EntityMessageExtractor(100));
        // Start (recover) every entity first, as the ledger's accounts are started by funding.
        await ForEachAccount(o.Accounts, i => region.Ask<CeilingDone>(new CeilingPing(AccountId(i)), AskTimeout));
        return await LoadRunner.Run("ceiling", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            var (from, to) = workload.Next(random);
            await region.Ask<CeilingDone>(new CeilingDebit(AccountId(from), AccountId(to)), AskTimeout);
            return OpResult.One;
        });
    }

    private sealed record CeilingDebit(string From, string To) : IEntityMessage
    {
        public string EntityId => From;
    }

    private sealed record CeilingCredit(string To, IActorRef ReplyTo) : IEntityMessage
    {
        public string EntityId => To;
    }

    private sealed record CeilingPing(string Id) : IEntityMessage
    {
        public string EntityId => Id;
    }

    private sealed record CeilingDone;

    /// <summary>No logic: persist 8 bytes, pass on; persist 8 bytes, answer.</summary>
    private sealed class CeilingActor : ReceivePersistentActor
    {
        private static readonly byte[] Tiny = new byte[8];

        public CeilingActor(string id, IActorRef region)
        {
            PersistenceId = "ceiling-" + id;
            Command<CeilingDebit>(m =>
            {
                var replyTo = Sender;
                PersistAsync(Tiny, _ => region.Tell(new CeilingCredit(m.To, replyTo)));
            });
            Command<CeilingCredit>(m => PersistAsync(Tiny, _ => m.ReplyTo.Tell(new CeilingDone())));
            Command<CeilingPing>(_ => Sender.Tell(new CeilingDone()));
            Recover<byte[]>(_ => { });
        }

        public override string PersistenceId { get; }
    }

    // ---- the sequential baseline: the same transfers through the contracts alone, one thread, in memory ---

    /// <summary>The actors' memory limits, which the sequential baselines keep too.</summary>
    internal static readonly AccountSettings Limits = new();

    /// <summary>For the sequential baselines: <paramref name="accounts"/> open accounts in memory, each funded in every asset given.</summary>
    public static AccountState[] FundedStates(int accounts, params string[] assets)
    {
        var states = Enumerable.Range(0, accounts).Select(i => new AccountState { Id = new(AccountId(i)), HistoryKeep = Limits.HistoryKeep }).ToArray();
        foreach (var s in states)
        {
            AccountContract.Apply(s, new AccountOpened("bench", 0));
            foreach (var asset in assets) AccountContract.Apply(s, new TransferCredited(new(Issuer), new("fund-" + asset), new(asset), Funding, false, null, 0));
        }
        return states;
    }

    public static double SequentialBaseline(BenchOptions o, Workload workload)
    {
        var states = FundedStates(o.Accounts, Asset);
        var asset = new AssetId(Asset);
        var random = new Random(1);
        var clock = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(Math.Min(o.Seconds, 5));
        long n = 0;
        while (clock.Elapsed < limit)
        {
            for (var k = 0; k < 1_000; k++, n++)
            {
                var (from, to) = workload.Next(random);
                var payer = states[from];
                var payee = states[to];
                var id = new TxId("s" + n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var d = AccountContract.StartTransfer(payer, new TransferRequest(id, payee.Id, asset, 1, false, null), n);
                foreach (var e in d.Events) AccountContract.Apply(payer, e);
                var (credit, result, _) = AccountContract.Receive(payee, payer.Id, AccountContract.Owed(payer.Outgoing[id]), n);
                foreach (var e in credit) AccountContract.Apply(payee, e);
                foreach (var e in AccountContract.Acknowledge(payer, result!, n)) AccountContract.Apply(payer, e);
                // As the actors do once a write is durable: settled records leave memory.
                payer.Evict(Limits.KeepSettled, long.MaxValue);
                payee.Evict(Limits.KeepSettled, long.MaxValue);
            }
        }
        return n / clock.Elapsed.TotalSeconds;
    }

    // ---- recovery: how long until accounts answer again after a restart ----------------------------------

    /// <summary>
    /// Writes history into every account and a long one into one hot account, restarts the node on the same
    /// journal, and times how long the accounts take to answer again (each recovers from its latest snapshot
    /// plus the events after it).
    /// </summary>
    public static async Task<RecoveryResult> Recovery(BenchOptions o, Func<ActorSystem> start)
    {
        var hot = new AccountId("hot");
        var system = start();
        var regions = await Ready(system);
        await Fund(regions, o.Accounts);
        await regions.Accounts.Ask<object>(new OpenAccount(hot, "bench"), AskTimeout);
        var workload = new Workload("transfers", o.Accounts);
        long seq = 0;
        var historyFrom = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Every account gets some history; then the hot account receives --hot-events transfers.
        await LoadRunner.Run("history", o.InFlight, TimeSpan.Zero, TimeSpan.FromSeconds(Math.Min(o.Seconds, 10)), async random =>
        {
            var (from, to) = workload.Next(random);
            var id = new TxId("r" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture));
            await regions.Accounts.Ask<object>(new SubmitTransfers(new(AccountId(from)), [new TransferRequest(id, new(AccountId(to)), new(Asset), 1, false, null)]), AskTimeout);
            return OpResult.One;
        });
        long hotTransfers = 0;
        var hotFrom = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var clock = Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(o.InFlight))
        {
            var tasks = new List<Task>();
            for (var i = 0; i < o.HotEvents; i += 100)
            {
                await gate.WaitAsync();
                var batch = i;
                var from = new AccountId(AccountId(batch / 100 % o.Accounts));
                var items = Enumerable.Range(batch, Math.Min(100, o.HotEvents - batch))
                    .Select(k => new TransferRequest(new("h" + k.ToString(System.Globalization.CultureInfo.InvariantCulture)), hot, new(Asset), 1, false, null)).ToArray();
                tasks.Add(Task.Run(async () =>
                {
                    try
                    {
                        var r = await regions.Accounts.Ask<TransferResults>(new SubmitTransfers(from, items), AskTimeout);
                        Interlocked.Add(ref hotTransfers, r.Results.Count(x => x.Transaction?.Status == TransferStatus.Committed));
                    }
                    finally { gate.Release(); }
                }));
                if (clock.Elapsed.TotalSeconds > 1 && i % 100_000 == 0) Console.Error.Write($"\r  hot account: {hotTransfers:N0} transfers   ");
            }
            await Task.WhenAll(tasks);
        }
        Console.Error.WriteLine($"\r  hot account: {hotTransfers:N0} transfers in {clock.Elapsed.TotalSeconds:N0} s");
        var hotTo = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.Delay(TimeSpan.FromSeconds(3)); // deferred acknowledgements reach the journal
        await system.Terminate();

        system = start();
        regions = await Ready(system);
        clock.Restart();
        await regions.Accounts.Ask<AccountView>(new GetAccount(hot), TimeSpan.FromMinutes(5));
        var hotSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        await ForEachAccount(o.Accounts, i => regions.Accounts.Ask<AccountView>(new GetAccount(new(AccountId(i))), AskTimeout));
        var allSeconds = clock.Elapsed.TotalSeconds;
        var reads = await BalancesAt(regions, hot, hotFrom, hotTo, hotTransfers);
        var spread = await BalancesAtAcross(regions, o.Accounts, historyFrom, hotTo);
        await system.Terminate();
        return new(allSeconds, hotSeconds, hotTransfers, reads, spread);
    }

    /// <summary>
    /// Reads the hot account's balance at 1,000 instants spread over the time its transfers arrived, one after another,
    /// and times each. It only received, one unit a transfer: the balance never falls from one instant to the next,
    /// and ends at every transfer it received.
    /// </summary>
    private static async Task<double[]> BalancesAt(LedgerRegions regions, AccountId hot, long from, long to, long received)
    {
        const int Reads = 1_000;
        var millis = new double[Reads];
        Int128 last = 0;
        for (var k = 0; k <= Reads; k++)
        {
            var at = k == Reads ? to + 1 : from + (to - from) * k / Reads;
            var clock = Stopwatch.StartNew();
            var view = await regions.Accounts.Ask<BalancesAtView>(new GetBalancesAt(hot, at), AskTimeout);
            if (k < Reads) millis[k] = clock.Elapsed.TotalMilliseconds;
            var held = view.Balances.FirstOrDefault(b => b.Asset == new AssetId(Asset))?.Posted ?? 0;
            if (held < last || (k == Reads && held != received))
                throw new InvalidOperationException($"the hot account's balance at {at} reads {held} after {last} (received {received})");
            last = held;
        }
        Array.Sort(millis);
        return millis;
    }

    /// <summary>Times 1,000 reads of balances at an instant, each of another account at another instant of their history.</summary>
    private static async Task<double[]> BalancesAtAcross(LedgerRegions regions, int accounts, long from, long to)
    {
        const int Reads = 1_000;
        var millis = new double[Reads];
        for (var k = 0; k < Reads; k++)
        {
            var clock = Stopwatch.StartNew();
            await regions.Accounts.Ask<BalancesAtView>(new GetBalancesAt(new(AccountId(k * 7_919 % accounts)), from + (to - from) * k / Reads), AskTimeout);
            millis[k] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(millis);
        return millis;
    }

    /// <summary>Waits until the node is an Up member, then starts the regions.</summary>
    public static async Task<LedgerRegions> Ready(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        while (cluster.SelfMember.Status != Akka.Cluster.MemberStatus.Up) await Task.Delay(50);
        return LedgerSharding.Start(system, 100, TimeProvider.System, new AccountSettings());
    }

    // ---- over HTTP: a running gateway -----------------------------------------------------------------------

    /// <summary>The gateway the bench drives, with the admin key (<c>--key</c> or <c>$LEDGER_ADMIN_KEY</c>) if there is one.</summary>
    public static HttpClient Gateway(BenchOptions o)
    {
        var http = new HttpClient { BaseAddress = new Uri(o.Url!), Timeout = TimeSpan.FromSeconds(60) };
        if ((o.Key ?? Environment.GetEnvironmentVariable("LEDGER_ADMIN_KEY")) is { Length: > 0 } key)
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>
    /// Over HTTP, for one run (<paramref name="run"/> makes its ids unique): <paramref name="assets"/> assets of one issuer,
    /// <see cref="BenchOptions.Accounts"/> accounts, each funded with <see cref="Funding"/> of every asset.
    /// </summary>
    public static async Task<(string[] Ids, string Issuer, string[] Assets)> HttpAccounts(HttpClient http, BenchOptions o, string run, int assets)
    {
        var issuer = "bi-" + run;
        string[] names = [.. Enumerable.Range(0, assets).Select(k => $"B{run}{(char)('a' + k)}")];
        var ids = Enumerable.Range(0, o.Accounts).Select(i => $"a{run}-{i}").ToArray();
        foreach (var asset in names) (await http.PostAsJsonAsync("/v1/assets", new { id = asset, decimals = 0, issuer })).EnsureSuccessStatusCode();
        foreach (var chunk in ids.Chunk(64))
            await Task.WhenAll(chunk.Select(async a => (await http.PostAsJsonAsync("/v1/accounts", new { id = a, owner = "bench" })).EnsureSuccessStatusCode()));
        foreach (var asset in names)
            foreach (var chunk in ids.Chunk(1_000))
                (await http.PostAsJsonAsync("/v1/batches", new
                {
                    operations = chunk.Select(a => new
                    {
                        type = "transfer",
                        id = $"fund-{asset}-{a}",
                        from = issuer,
                        to = a,
                        asset,
                        amount = Funding.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    })
                })).EnsureSuccessStatusCode();
        return (ids, issuer, names);
    }

    /// <summary>Per asset, the posted balances of <paramref name="accounts"/> over HTTP.</summary>
    public static async Task<Dictionary<string, Int128>> HttpSums(HttpClient http, IEnumerable<string> accounts, string[] assets)
    {
        var sums = assets.ToDictionary(a => a, _ => (Int128)0);
        foreach (var chunk in accounts.Chunk(64))
            foreach (var doc in await Task.WhenAll(chunk.Select(a => http.GetFromJsonAsync<JsonElement>("/v1/accounts/" + a))))
                foreach (var asset in assets)
                    if (doc.GetProperty("balances").TryGetProperty(asset, out var b))
                        sums[asset] += Int128.Parse(b.GetProperty("posted").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        return sums;
    }

    public static async Task<(LoadResult Load, bool ConservationOk)> Http(BenchOptions o, Workload workload)
    {
        using var http = Gateway(o);
        var (ids, issuer, assets) = await HttpAccounts(http, o, Guid.NewGuid().ToString("N")[..6], 1);
        var asset = assets[0];

        long seq = 0;
        var load = await LoadRunner.Run("http", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            if (o.Workload == "atomic")
            {
                var batch = AtomicBatch(o, workload, random, "h" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    (id, from, to) => new { type = "transfer", id = id.Value, from = ids[from], to = ids[to], asset, amount = "1" });
                using var answer = await http.PostAsJsonAsync("/v1/batches", new { atomic = true, operations = batch });
                if (!answer.IsSuccessStatusCode) return new OpResult(0, 0, 1);
                var results = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray();
                return results.All(r => r.GetProperty("status").GetString() == "committed") ? OpResult.One : OpResult.Refused;
            }
            var ops = new object[o.Batch];
            for (var k = 0; k < o.Batch; k++)
            {
                var (from, to) = workload.Next(random);
                ops[k] = new { type = "transfer", id = "h" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture), from = ids[from], to = ids[to], asset, amount = "1" };
            }
            using var response = await http.PostAsJsonAsync("/v1/batches", new { operations = ops });
            if (!response.IsSuccessStatusCode) return new OpResult(0, 0, o.Batch);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            var committed = body.GetProperty("results").EnumerateArray().Count(r => r.GetProperty("status").GetString() == "committed");
            return new OpResult(committed, o.Batch - committed, 0);
        });

        return (load, (await HttpSums(http, ids.Append(issuer), assets))[asset] == 0);
    }
}

/// <summary>What the recovery workload measured; the read times (the hot account's, and across accounts) sorted ascending.</summary>
public sealed record RecoveryResult(double AllAccountsSeconds, double HotAccountSeconds, long HotTransfers, double[] BalanceReadMillis, double[] SpreadReadMillis)
{
    public static double Percentile(double[] sorted, double p) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];
}
