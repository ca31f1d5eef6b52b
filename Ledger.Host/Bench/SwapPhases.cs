using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Akka.Actor;
using Ledger.Actors.Pools;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Host.Bench;

/// <summary>
/// The workloads on pools. <c>swaps</c>: every operation is an exact-input swap of a random account on one of K
/// pools (both ways at random); with K = 1 every swap goes through the one hottest key there is. <c>routes</c>:
/// every operation is a two-hop route through two distinct pools (A→B on one, B→A on the other), one saga
/// locking both. <c>mixed</c>: half transfers between random accounts, half swaps.
/// </summary>
public static class SwapPhases
{
    public const string AssetB = "BENCH2";
    public const string LiquidityProvider = "bench-lp";
    /// <summary>Each pool's reserves: deep enough that a swap of <see cref="SwapAmount"/> barely moves the price.</summary>
    public const ulong PoolDepth = 1_000_000_000_000_000;
    public const ulong SwapAmount = 1_000;
    private static readonly PoolSettings PoolLimits = new();

    public static PoolId PoolOf(int k) => new("bench-pool-" + k.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static PoolCall Swap(int pool, bool aToB) => new(PoolOf(pool), PoolCallKind.SwapExactIn,
        [new Leg(new(aToB ? Phases.Asset : AssetB), SwapAmount)], new AssetId(aToB ? AssetB : Phases.Asset));

    /// <summary>
    /// A two-hop route, sent to its coordinator as <c>POST /v1/swaps</c> does: in on pool <paramref name="first"/>, back to
    /// the input asset on pool <paramref name="second"/>.
    /// </summary>
    private static PoolCall Route(int first, int second, bool aFirst)
    {
        PoolId[] route = [PoolOf(first), PoolOf(second)];
        var asset = new AssetId(aFirst ? Phases.Asset : AssetB);
        return new PoolCall(RouteDesk.Coordinator(route), PoolCallKind.SwapExactIn, [new Leg(asset, SwapAmount)], asset, Route: route);
    }

    private static (int, int) TwoPools(Random random, int pools)
    {
        var first = random.Next(pools);
        var second = random.Next(pools - 1);
        return (first, second >= first ? second + 1 : second);
    }

    public static async Task<(LoadResult Load, bool ConservationOk)> Ledger(BenchOptions o, LedgerRegions regions, Workload workload)
    {
        await Phases.Fund(regions, o.Accounts, Phases.Asset);
        await Phases.Fund(regions, o.Accounts, AssetB);
        var lp = new AccountId(LiquidityProvider);
        await regions.Accounts.Ask<object>(new OpenAccount(lp, "bench"), Phases.AskTimeout);
        foreach (var asset in new[] { Phases.Asset, AssetB })
            await regions.Accounts.Ask<object>(new SubmitTransfers(new(Phases.Issuer),
                [new TransferRequest(new("lp-fund-" + asset), lp, new(asset), (ulong)o.Pools * PoolDepth, false, null)]), Phases.AskTimeout);
        for (var k = 0; k < o.Pools; k++)
        {
            await regions.Pools.Ask<object>(new CreatePool(PoolOf(k), new(Phases.Asset), new(AssetB), 30), Phases.AskTimeout);
            var deposit = new PoolCall(PoolOf(k), PoolCallKind.Deposit, [new Leg(new(Phases.Asset), PoolDepth), new Leg(new(AssetB), PoolDepth)]);
            if (await regions.Accounts.Ask<object>(new CallPool(lp, new("lp-" + k), deposit), Phases.AskTimeout)
                is not TransferOutcome { Transaction.Status: TransferStatus.Committed })
                throw new InvalidOperationException($"funding pool {k} failed");
        }

        var ids = Enumerable.Range(0, o.Accounts).Select(i => new AccountId(Phases.AccountId(i))).ToArray();
        long seq = 0;
        var load = await LoadRunner.Run("ledger", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            var id = new TxId("s" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture));
            var account = ids[random.Next(ids.Length)];
            object reply;
            if (o.Workload == "routes")
            {
                var (first, second) = TwoPools(random, o.Pools);
                reply = await regions.Accounts.Ask<object>(new CallPool(account, id, Route(first, second, random.Next(2) == 0)), Phases.AskTimeout);
                return reply is TransferOutcome { Transaction.Status: TransferStatus.Committed } ? OpResult.One : OpResult.Refused;
            }
            if (o.Workload == "mixed" && random.Next(2) == 0)
            {
                var (from, to) = workload.Next(random);
                reply = await regions.Accounts.Ask<object>(new SubmitTransfers(ids[from], [new TransferRequest(id, ids[to], new(Phases.Asset), 1, false, null)]), Phases.AskTimeout);
                return reply is TransferResults { Results: [{ Transaction.Status: TransferStatus.Committed }] } ? OpResult.One : OpResult.Refused;
            }
            reply = await regions.Accounts.Ask<object>(new CallPool(account, id, Swap(random.Next(o.Pools), random.Next(2) == 0)), Phases.AskTimeout);
            return reply is TransferOutcome { Transaction.Status: TransferStatus.Committed } ? OpResult.One : OpResult.Refused;
        });
        if (o.Workload == "routes") Phases.ReportSagaSteps();
        return (load, await Phases.HoldingsConserved(regions, [.. ids, lp, new(Phases.Issuer)],
            Enumerable.Range(0, o.Pools).Select(k => (regions.Pools, (object)new GetPoolHoldings(PoolOf(k))))));
    }

    /// <summary>
    /// <c>swaps</c> and <c>routes</c> over HTTP (<c>--url</c>): pools, liquidity and accounts made through the API, then
    /// <c>POST /v1/swaps</c> (a route: two pools, A→B on one and B→A on the other). Conservation: per asset, the accounts'
    /// posted balances (the issuer's negative supply included) and the pools' reserves sum to zero.
    /// </summary>
    public static async Task<(LoadResult Load, bool ConservationOk)> Http(BenchOptions o)
    {
        using var http = Phases.Gateway(o);
        var run = Guid.NewGuid().ToString("N")[..6];
        var (ids, issuer, assets) = await Phases.HttpAccounts(http, o, run, 2);
        var lp = "lp-" + run;
        (await http.PostAsJsonAsync("/v1/accounts", new { id = lp, owner = "bench" })).EnsureSuccessStatusCode();
        var depth = PoolDepth.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var lpFunding = ((UInt128)o.Pools * PoolDepth).ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var asset in assets)
        {
            var fund = new { type = "transfer", id = "lp-fund-" + asset, from = issuer, to = lp, asset, amount = lpFunding };
            (await http.PostAsJsonAsync("/v1/batches", new { operations = new[] { fund } })).EnsureSuccessStatusCode();
        }
        var pools = Enumerable.Range(0, o.Pools).Select(k => $"p{run}-{k}").ToArray();
        foreach (var pool in pools)
        {
            (await http.PostAsJsonAsync("/v1/pools", new { id = pool, asset_a = assets[0], asset_b = assets[1], fee_bps = 30 })).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync($"/v1/pools/{pool}/deposits", new
            {
                id = "d-" + pool,
                account = lp,
                amount_a_desired = depth,
                amount_b_desired = depth,
                amount_a_min = "0",
                amount_b_min = "0"
            })).EnsureSuccessStatusCode();
        }

        long seq = 0;
        var load = await LoadRunner.Run("http", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            string[] route;
            if (o.Workload == "routes")
            {
                var (first, second) = TwoPools(random, pools.Length);
                route = [pools[first], pools[second]];
            }
            else route = [pools[random.Next(pools.Length)]];
            using var response = await http.PostAsJsonAsync("/v1/swaps", new
            {
                id = "s" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture),
                account = ids[random.Next(ids.Length)],
                route,
                asset_in = assets[random.Next(2)],
                amount_in = SwapAmount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                min_amount_out = "0",
            });
            return response.IsSuccessStatusCode ? OpResult.One : (int)response.StatusCode is >= 400 and < 500 ? OpResult.Refused : new OpResult(0, 0, 1);
        });

        var sums = await Phases.HttpSums(http, ids.Append(lp).Append(issuer), assets);
        foreach (var pool in pools)
        {
            var view = await http.GetFromJsonAsync<JsonElement>("/v1/pools/" + pool);
            sums[assets[0]] += Int128.Parse(view.GetProperty("reserve_a").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            sums[assets[1]] += Int128.Parse(view.GetProperty("reserve_b").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        }
        return (load, sums.Values.All(v => v == 0));
    }

    /// <summary>
    /// The same operations through the contracts alone, one thread, in memory: a swap as trader debit, pool
    /// decision, trader credit; a route as the whole saga protocol (holds, locks, plan, unlocks, resolution);
    /// a transfer as debit, credit, acknowledgement.
    /// </summary>
    public static double SequentialBaseline(BenchOptions o, Workload workload)
    {
        var accounts = Phases.FundedStates(o.Accounts, Phases.Asset, AssetB);
        var pools = Enumerable.Range(0, o.Pools).Select(k =>
        {
            var p = new PoolState { Id = PoolOf(k) };
            PoolContract.Apply(p, new PoolCreated(new(Phases.Asset), new(AssetB), 30, 0));
            PoolContract.Apply(p, PoolContract.Decide(p, new(LiquidityProvider), new("lp"), new PoolCall(p.Id, PoolCallKind.Deposit,
                [new Leg(new(Phases.Asset), PoolDepth), new Leg(new(AssetB), PoolDepth)]), 0));
            return p;
        }).ToArray();
        var random = new Random(1);
        var clock = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(Math.Min(o.Seconds, 5));
        long n = 0;
        while (clock.Elapsed < limit)
        {
            for (var i = 0; i < 1_000; i++, n++)
            {
                var trader = accounts[random.Next(accounts.Length)];
                var id = new TxId("s" + n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (o.Workload == "routes")
                {
                    var (first, second) = TwoPools(random, o.Pools);
                    RouteThroughContracts(trader, pools[first], pools[second], id, Route(first, second, random.Next(2) == 0));
                }
                else if (o.Workload == "mixed" && random.Next(2) == 0)
                {
                    var (from, to) = workload.Next(random);
                    TransferThroughContracts(accounts[from], accounts[to], id);
                    accounts[to].Evict(Phases.Limits.KeepSettled, accounts[to].SettledTotal);
                    accounts[from].Evict(Phases.Limits.KeepSettled, accounts[from].SettledTotal);
                }
                else SwapThroughContracts(trader, pools[random.Next(pools.Length)], id, random.Next(2) == 0);
                trader.Evict(Phases.Limits.KeepSettled, trader.SettledTotal);
            }
            foreach (var pool in pools) pool.Answers.Evict(PoolLimits.AnswersKeep);
        }
        return n / clock.Elapsed.TotalSeconds;
    }

    private static void SwapThroughContracts(AccountState trader, PoolState pool, TxId id, bool aToB)
    {
        var call = Swap(0, aToB) with { Pool = pool.Id };
        var d = AccountContract.CallPool(trader, id, call, 0);
        foreach (var e in d.Events) AccountContract.Apply(trader, e);
        if (d.Events is not [PoolCallSent]) return;
        var decided = PoolContract.Decide(pool, trader.Id, id, call, 0);
        PoolContract.Apply(pool, decided);
        foreach (var e in AccountContract.Answered(trader, id, new CallAnswer(decided.Out, decided.Code), 0)) AccountContract.Apply(trader, e);
    }

    private static void TransferThroughContracts(AccountState payer, AccountState payee, TxId id)
    {
        var d = AccountContract.StartTransfer(payer, new TransferRequest(id, payee.Id, new(Phases.Asset), 1, false, null), 0);
        foreach (var e in d.Events) AccountContract.Apply(payer, e);
        var (credit, result, _) = AccountContract.Receive(payee, payer.Id, AccountContract.Owed(payer.Outgoing[id]), 0);
        foreach (var e in credit) AccountContract.Apply(payee, e);
        foreach (var e in AccountContract.Acknowledge(payer, result!, 0)) AccountContract.Apply(payer, e);
    }

    /// <summary>A route as its coordinator runs it, one per batch: the trader pays, the other pool is locked, the coordinator decides, the other applies.</summary>
    private static void RouteThroughContracts(AccountState trader, PoolState first, PoolState second, TxId id, PoolCall call)
    {
        var d = AccountContract.CallPool(trader, id, call, 0);
        foreach (var e in d.Events) AccountContract.Apply(trader, e);
        if (d.Events is not [PoolCallSent]) return;
        var (coordinator, other) = first.Id == call.Pool ? (first, second) : (second, first);
        var key = RouteDesk.BatchKey(coordinator.Id, id.Value);
        PoolContract.Apply(other, PoolContract.Lock(other, key, 1, 0).Lock!);
        var (answers, decided) = RouteDesk.Decide(key, coordinator, [new RouteRequest(trader.Id, id, call)],
            new Dictionary<PoolId, PoolReserves?> { [other.Id] = PoolContract.Reserves(other) }, 0);
        PoolContract.Apply(coordinator, answers[0]);
        PoolContract.Apply(coordinator, decided);
        PoolContract.Apply(other, PoolContract.Unlock(other, key, true, decided.Remote[0].Hops, 0)!);
        PoolContract.Apply(coordinator, new RouteBatchUnlocked(key, other.Id, 0));
        foreach (var e in AccountContract.Answered(trader, id, answers[0].Answer, 0))
            AccountContract.Apply(trader, e);
    }
}
