using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;

namespace Ledger.Tests.MultiNode;

/// <summary>
/// Pools, traders and sagas spread over a real three-node cluster sharing one journal. Two-hop routes run from
/// every node at once, as sagas (in atomic batches of one) and through their coordinator pool; with every saga's vote
/// in and no decision written yet (the sagas pause there), and the coordinators' batches holding their locks
/// undecided (a failpoint), one node is hard-stopped. Its sagas restart on the survivors by themselves (the owing
/// index), long before any lock expires; batches of a stopped coordinator are given up when their locks expire and
/// their routes run again; and every route ends fully committed or fully voided, with no hold or lock left and every
/// asset summing to zero.
/// </summary>
public sealed class SagaClusterSpecs : IAsyncLifetime
{
    private const int Traders = 12;
    /// <summary>Pairs of pools (X/Y then Y/Z); trader i routes through pair i mod Pairs, so sagas of different pairs run in parallel.</summary>
    private const int Pairs = 6;
    private static PoolId First(int pair) => new($"p{pair}a");

    private static PoolId Second(int pair) => new($"p{pair}b");

    /// <summary>The pairs of the routes through a coordinator (q{k}a coordinates, q{k}b is locked); trader d{i} uses pair i mod Pairs.</summary>
    private static PoolId DeskFirst(int pair) => new($"q{pair}a");

    private static PoolId DeskSecond(int pair) => new($"q{pair}b");

    private static volatile bool _holdBatches = true;

    private static IEnumerable<PoolId> AllPools => Enumerable.Range(0, Pairs).SelectMany(k => new[] { First(k), Second(k), DeskFirst(k), DeskSecond(k) });
    private static readonly AssetId X = new("X"), Y = new("Y"), Z = new("Z");
    private TestCluster _cluster = null!;

    private List<(ActorSystem System, LedgerRegions Regions)> Nodes => _cluster.Nodes;

    public async Task InitializeAsync()
    {
        var sagaSettings = new SagaSettings
        {
            RetryAfter = TimeSpan.FromMilliseconds(300),
            // Far beyond the test: a saga of the stopped node that decides was started again by the survivors, not by a
            // participant whose lock expired.
            LockTimeout = TimeSpan.FromSeconds(120),
            PauseBeforeDecision = TimeSpan.FromSeconds(2),
        };
        var accountSettings = new AccountSettings { RedeliverAfter = TimeSpan.FromMilliseconds(300) };
        var poolSettings = new PoolSettings
        {
            RouteRetryAfter = TimeSpan.FromMilliseconds(300),
            AskSagaEvery = TimeSpan.FromMilliseconds(300),
            RouteLockTimeout = TimeSpan.FromSeconds(5),
            HoldRouteDecisions = () => _holdBatches,
        };
        _cluster = await TestCluster.Start(system => LedgerSharding.Start(system, 30, TimeProvider.System, accountSettings, poolSettings, sagaSettings));

        var r = Nodes[0].Regions;
        foreach (var asset in new[] { X, Y, Z }) Assert.IsType<AssetView>(await Ask(r.Assets, new CreateAsset(asset, 0, new("bank"))));
        await Mint(0, X, "lp", 2 * Pairs * 1_000_000UL);
        await Mint(1, Y, "lp", 2 * Pairs * 2_000_000UL);
        await Mint(2, Z, "lp", 2 * Pairs * 1_000_000UL);
        foreach (var (pool, a, b) in Enumerable.Range(0, Pairs).SelectMany(k => new[] { (First(k), X, Y), (Second(k), Y, Z), (DeskFirst(k), X, Y), (DeskSecond(k), Y, Z) }))
        {
            Assert.IsType<PoolView>(await Ask(r.Pools, new CreatePool(pool, a, b, 30)));
            var deposit = Assert.IsType<TransferOutcome>(await Ask(r.Accounts,
                new CallPool(new("lp"), new("d-" + pool), new PoolCall(pool, PoolCallKind.Deposit, [new Leg(a, 1_000_000), new Leg(b, 1_000_000)]))));
            Assert.Equal(TransferStatus.Committed, deposit.Transaction!.Status);
        }
        for (var i = 0; i < Traders; i++)
        {
            Assert.IsType<AccountView>(await Ask(Nodes[i % 3].Regions.Accounts, new OpenAccount(new($"t{i}"), "owner")));
            await Mint(i % 3, X, $"t{i}", 1_000);
            await Mint(i % 3, X, $"d{i}", 1_000);
        }
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static SagaOp[] RouteOf(int i) => [new SwapOp(new("r"), new($"t{i}"), [First(i % Pairs), Second(i % Pairs)], X, 1_000)];

    /// <summary>Trader d{i}'s route X→Y→Z as <c>POST /v1/swaps</c> sends it: to the coordinator, q{k}a.</summary>
    private static CallPool DeskRouteOf(int i) =>
        new(new($"d{i}"), new("r"), new PoolCall(DeskFirst(i % Pairs), PoolCallKind.SwapExactIn, [new Leg(X, 1_000)], Z, Route: [DeskFirst(i % Pairs), DeskSecond(i % Pairs)]));

    [Fact]
    public async Task A_node_stopped_while_sagas_await_their_decision_leaves_every_route_committed_or_voided_and_nothing_held()
    {
        // Every trader routes X→Y→Z through both pools, asked on the three nodes in turn; none answers yet.
        for (var i = 0; i < Traders; i++)
        {
            Nodes[i % 3].Regions.Sagas.Tell(new StartSaga(new(new($"t{i}"), new("r")), RouteOf(i)));
            Nodes[i % 3].Regions.Accounts.Tell(DeskRouteOf(i));
        }
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await HeldCount() < Pairs / 2 || await DeskLocked() < Pairs / 2)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("no trader holds its input for a saga, or no batch holds its lock");
            await Task.Delay(50);
        }

        await _cluster.CrashThirdNode();
        _holdBatches = false;

        // Nobody asks yet: the stopped node's sagas start again on the survivors and decide by themselves.
        var restartBy = DateTime.UtcNow.AddSeconds(60);
        while (await HeldCount(strict: true) > 0)
            if (DateTime.UtcNow > restartBy) Assert.Fail("the stopped node's sagas did not start again by themselves; " + await Stuck());
            else await Task.Delay(200);

        // Retrying each route with its own id gets its one outcome; the sagas of the stopped node finished on the others.
        var outcomes = new SagaOutcome[Traders];
        for (var i = 0; i < Traders; i++)
            outcomes[i] = Assert.IsType<SagaOutcome>(await Ask(Nodes[i % 2].Regions.Sagas, new StartSaga(new(new($"t{i}"), new("r")), RouteOf(i)), attempts: 30));

        Int128 x = 0, z = 0;
        for (var i = 0; i < Traders; i++)
        {
            var balances = Assert.IsType<AccountView>(await Ask(Nodes[0].Regions.Accounts, new GetAccount(new($"t{i}")))).Balances;
            Assert.All(balances, b => Assert.Equal(Amount.Zero, b.PendingOut));
            var (heldX, heldZ) = (balances.Single(b => b.Asset == X).Posted, balances.SingleOrDefault(b => b.Asset == Z)?.Posted ?? 0);
            if (outcomes[i].Committed) Assert.Equal((0, (Int128)outcomes[i].Results[0].Fill!.AmountOut.Value), (heldX, heldZ));
            else Assert.Equal((1_000, 0), (heldX, heldZ));
            x += heldX;
            z += heldZ;
        }
        // The pools moved by exactly the committed routes, and every asset sums to zero over accounts and pools.
        var pools = (await Task.WhenAll(Enumerable.Range(0, Pairs).SelectMany(k => new[] { First(k), Second(k) })
            .Select(p => Ask(Nodes[1].Regions.Pools, new GetPool(p))))).Cast<PoolView>().ToArray();
        Assert.Equal(Pairs * 1_000_000 + Traders * 1_000 - x, pools.Where(p => p.AssetA == X).Aggregate((Int128)0, (sum, p) => sum + (Int128)p.ReserveA.Value));
        Assert.Equal(Pairs * 1_000_000 - z, pools.Where(p => p.AssetB == Z).Aggregate((Int128)0, (sum, p) => sum + (Int128)p.ReserveB.Value));
        // An account recovered on a survivor answers its holdings only once what it had in flight is answered again (the
        // recovery hold); until every participant of a decided saga has applied it, the sums may still differ.
        var settleBy = DateTime.UtcNow.AddSeconds(60);
        while (await Imbalance() is { Count: > 0 } imbalance)
            if (DateTime.UtcNow > settleBy) Assert.Fail("assets do not sum to zero: " + string.Join(", ", imbalance.Select(kv => $"{kv.Key}={kv.Value}")));
            else await Task.Delay(200);
        Assert.Contains(outcomes, o => o.Committed);

        // The routes through a coordinator: each one outcome, all or nothing, and the desk pools moved by exactly the committed ones.
        Int128 deskX = 0, deskZ = 0;
        for (var i = 0; i < Traders; i++)
        {
            var outcome = Assert.IsType<TransferOutcome>(await Ask(Nodes[i % 2].Regions.Accounts, DeskRouteOf(i), attempts: 30)).Transaction!;
            var balances = Assert.IsType<AccountView>(await Ask(Nodes[0].Regions.Accounts, new GetAccount(new($"d{i}")))).Balances;
            var (heldX, heldZ) = (balances.Single(b => b.Asset == X).Posted, balances.SingleOrDefault(b => b.Asset == Z)?.Posted ?? 0);
            Assert.Equal(TransferStatus.Committed, outcome.Status);
            Assert.Equal((0, (Int128)outcome.Fill!.AmountOut.Value), (heldX, heldZ));
            (deskX, deskZ) = (deskX + 1_000, deskZ + heldZ);
        }
        var desk = (await Task.WhenAll(Enumerable.Range(0, Pairs).SelectMany(k => new[] { DeskFirst(k), DeskSecond(k) })
            .Select(p => Ask(Nodes[1].Regions.Pools, new GetPool(p))))).Cast<PoolView>().ToArray();
        Assert.Equal(Pairs * 1_000_000 + deskX, desk.Where(p => p.AssetA == X).Aggregate((Int128)0, (sum, p) => sum + (Int128)p.ReserveA.Value));
        Assert.All(desk, p => Assert.Null(p.LockedBy));
        var deskSettleBy = DateTime.UtcNow.AddSeconds(60);
        while (desk.Where(p => p.AssetB == Z).Aggregate((Int128)0, (sum, p) => sum + (Int128)p.ReserveB.Value) != Pairs * 1_000_000 - deskZ)
            if (DateTime.UtcNow > deskSettleBy) Assert.Fail("the locked pools did not apply the committed routes");
            else
            {
                await Task.Delay(200);
                desk = (await Task.WhenAll(Enumerable.Range(0, Pairs).Select(k => Ask(Nodes[1].Regions.Pools, new GetPool(DeskSecond(k)))))).Cast<PoolView>().ToArray();
            }
        while (await Imbalance() is { Count: > 0 } imbalance)
            if (DateTime.UtcNow > deskSettleBy) Assert.Fail("assets do not sum to zero: " + string.Join(", ", imbalance.Select(kv => $"{kv.Key}={kv.Value}")));
            else await Task.Delay(200);
    }

    /// <summary>How many of the locked pools of the coordinators' routes a batch holds.</summary>
    private async Task<int> DeskLocked()
    {
        var locked = 0;
        for (var k = 0; k < Pairs; k++)
            try
            {
                if (await Nodes[0].Regions.Pools.Ask<object>(new GetPool(DeskSecond(k)), TestCluster.AskTimeout) is PoolView { LockedBy: { } key } && RouteDesk.CoordinatorOf(key) is not null) locked++;
            }
            catch (AskTimeoutException)
            {
                // Not answered yet: asked again on the next poll.
            }
        return locked;
    }

    /// <summary>Per asset over every account and pool, holdings plus in flight, where that is not zero.</summary>
    private async Task<Dictionary<AssetId, Int128>> Imbalance()
    {
        var sums = new Dictionary<AssetId, Int128>();
        IEnumerable<object> holdings = [
            .. await Task.WhenAll(Enumerable.Range(0, Traders).SelectMany(i => new[] { $"t{i}", $"d{i}" }).Append("bank").Append("lp").Select(a => Ask(Nodes[0].Regions.Accounts, new GetHoldings(new(a))))),
            .. await Task.WhenAll(AllPools.Select(p => Ask(Nodes[0].Regions.Pools, new GetPoolHoldings(p))))];
        foreach (var h in holdings.Cast<Holdings>().SelectMany(h => h.Items)) sums[h.Asset] = sums.GetValueOrDefault(h.Asset) + h.Held + (Int128)h.InFlight.Value;
        return sums.Where(kv => kv.Value != 0).ToDictionary();
    }

    /// <summary>For a failure's message: each trader still holding (or not answering), and what the owing index lists.</summary>
    private async Task<string> Stuck()
    {
        var traders = new List<string>();
        for (var i = 0; i < Traders; i++)
            if (await TraderState(i) is { } state) traders.Add($"t{i}: {state}");
        var listed = await OwingIndex.Read(new LedgerNodeOptions { DataDir = _cluster.DataDir }, CancellationToken.None);
        return $"{string.Join(", ", traders)}; listed: {string.Join(", ", listed)}";
    }

    /// <summary>Traders holding for a saga; <paramref name="strict"/>: one not answering counts as holding.</summary>
    private async Task<int> HeldCount(bool strict = false)
    {
        var held = 0;
        for (var i = 0; i < Traders; i++)
            if (await TraderState(i) is { } state && (state == Holding || strict)) held++;
        return held;
    }

    private const string Holding = "holding";

    /// <summary>Null for a trader holding nothing; else <see cref="Holding"/>, "no view", or "no answer" (a busy machine: asked again on the next poll).</summary>
    private async Task<string?> TraderState(int i)
    {
        try
        {
            return await Nodes[0].Regions.Accounts.Ask<object>(new GetAccount(new($"t{i}")), TestCluster.AskTimeout) is not AccountView v ? "no view"
                : v.Balances.Any(b => !b.PendingOut.IsZero) ? Holding : null;
        }
        catch (AskTimeoutException)
        {
            return "no answer";
        }
    }

    private async Task Mint(int node, AssetId asset, string account, ulong amount)
    {
        await Ask(Nodes[node].Regions.Accounts, new OpenAccount(new(account), "owner"));
        var reply = await Ask(Nodes[node].Regions.Accounts, new SubmitTransfers(new("bank"), [new TransferRequest(new($"mint-{asset}-{account}"), new(account), asset, amount, false, null)]));
        Assert.Equal(TransferStatus.Committed, Assert.IsType<TransferResults>(reply).Results[0].Transaction!.Status);
    }

    private static Task<object> Ask(IActorRef region, object message, int attempts = 10) => TestCluster.Ask(region, message, attempts);
}
