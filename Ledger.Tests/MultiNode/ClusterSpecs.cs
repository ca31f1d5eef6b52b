using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Ledger.Actors.Accounts;
using Ledger.Actors.Hosting;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;

namespace Ledger.Tests.MultiNode;

/// <summary>
/// Three ActorSystems in this process form a real cluster over loopback TCP and share one journal. Accounts
/// spread over all three; transfers cross nodes; then a node goes away and its accounts come back on the
/// others with their balances, conservation holding throughout.
/// </summary>
public sealed class ClusterSpecs : IAsyncLifetime
{
    private const int Accounts = 24;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private readonly string _dataDir = Ports.TempDir("ledger-cluster");
    private readonly List<(ActorSystem System, LedgerRegions Regions)> _nodes = [];
    private readonly Dictionary<string, long> _expected = [];

    public async Task InitializeAsync()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => Ports.Free()).ToArray();
        foreach (var port in ports)
        {
            // The third node never runs coordinated shutdown on Terminate: terminating it is a crash, not a leave.
            var crashOnTerminate = port == ports[2] ? "akka.coordinated-shutdown.run-by-actor-system-terminate = off" : "";
            var system = LedgerNode.Start(new LedgerNodeOptions
            {
                DataDir = _dataDir,
                Port = port,
                Seeds = [$"127.0.0.1:{ports[0]}"],
                Shards = 30,
                ExtraHocon = """
                    akka.loglevel = WARNING
                    akka.cluster.split-brain-resolver.stable-after = 2s
                    akka.cluster.failure-detector.acceptable-heartbeat-pause = 2s
                    akka.cluster.min-nr-of-members = 3

                    """ + crashOnTerminate,
            });
            _nodes.Add((system, LedgerSharding.Start(system, 30, TimeProvider.System, new AccountSettings())));
        }
        await Until(() => _nodes.All(n => Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == 3), "three members up");

        var first = _nodes[0].Regions;
        Assert.IsType<AssetView>(await Ask(first.Assets, new CreateAsset(new("USD"), 2, new("bank"))));
        for (var i = 0; i < Accounts; i++)
        {
            Assert.IsType<AccountView>(await Ask(_nodes[i % 3].Regions.Accounts, new OpenAccount(new($"acc-{i}"), "owner")));
            await Transfer(i % 3, "bank", $"acc-{i}", 1_000, $"mint-{i}");
        }
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_nodes.Select(n => n.System.Terminate().WaitAsync(TimeSpan.FromSeconds(20))));
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Accounts_spread_over_nodes_and_a_node_that_leaves_hands_them_over_with_their_balances()
    {
        await HostedOnEveryNode();
        await CrossNodeTransfers(round: 1);
        await AssertBalancesEverywhere();

        var leaving = _nodes[2];
        await CoordinatedShutdown.Get(leaving.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        _nodes.RemoveAt(2);
        await Until(() => Cluster.Get(_nodes[0].System).State.Members.Count == 2, "the node is removed");

        await AssertBalancesEverywhere();
        await CrossNodeTransfers(round: 2);
        await AssertBalancesEverywhere();
    }

    [Fact]
    public async Task A_hard_stopped_node_is_downed_and_its_accounts_come_back_on_the_others()
    {
        await HostedOnEveryNode();
        await CrossNodeTransfers(round: 1);

        // No leaving, no hand-off: the node just vanishes, like a killed process.
        var crashed = _nodes[2];
        _nodes.RemoveAt(2);
        var crashedAddress = Cluster.Get(crashed.System).SelfAddress;
        await crashed.System.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(Cluster.Get(_nodes[0].System).State.Members, m => m.Address == crashedAddress);
        await Until(() => Cluster.Get(_nodes[0].System).State.Members.All(m => m.Address != crashedAddress), "the crashed node is downed and removed", seconds: 60);

        await AssertBalancesEverywhere();
        await CrossNodeTransfers(round: 2);
        await AssertBalancesEverywhere();
    }

    private async Task HostedOnEveryNode()
    {
        var stats = (ClusterShardingStats)await _nodes[0].Regions.Accounts.Ask(new GetClusterShardingStats(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(10));
        Assert.Equal(3, stats.Regions.Count(r => r.Value.Stats.Count > 0));
    }

    private async Task CrossNodeTransfers(int round)
    {
        var tasks = new List<Task>();
        for (var i = 0; i < Accounts; i++)
        {
            var from = $"acc-{i}";
            var to = $"acc-{(i * 7 + round) % Accounts}";
            if (from == to) continue;
            tasks.Add(Transfer(i % _nodes.Count, from, to, (ulong)(10 + i), $"r{round}-{i}"));
        }
        await Task.WhenAll(tasks);
    }

    private async Task Transfer(int node, string from, string to, ulong amount, string id)
    {
        var reply = await Ask(_nodes[node].Regions.Accounts, new SubmitTransfers(new(from), [new TransferRequest(new(id), new(to), new("USD"), amount, false, null)]));
        var outcome = Assert.IsType<TransferResults>(reply).Results[0];
        Assert.Equal(TransferStatus.Committed, outcome.Transaction!.Status);
        lock (_expected)
        {
            _expected[from] = _expected.GetValueOrDefault(from) - (long)amount;
            _expected[to] = _expected.GetValueOrDefault(to) + (long)amount;
        }
    }

    /// <summary>Every node reads every account; balances match the model and sum to zero.</summary>
    private async Task AssertBalancesEverywhere()
    {
        foreach (var (_, regions) in _nodes)
        {
            Int128 sum = 0;
            foreach (var (account, expected) in _expected)
            {
                var view = Assert.IsType<AccountView>(await Ask(regions.Accounts, new GetAccount(new(account))));
                var posted = view.Balances.Single(b => b.Asset.Value == "USD").Posted;
                Assert.Equal(expected, (long)posted);
                sum += posted;
            }
            Assert.Equal(0, sum);
        }
    }

    /// <summary>Asks, retrying while shards move (a timeout there means "not yet", not "no").</summary>
    private static async Task<object> Ask(IActorRef region, object message)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await region.Ask<object>(message, AskTimeout);
            }
            catch (AskTimeoutException) when (attempt < 10)
            {
            }
        }
    }

    private static async Task Until(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {seconds}s: {what}");
            await Task.Delay(200);
        }
    }
}
