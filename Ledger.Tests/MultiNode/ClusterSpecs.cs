using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Ledger.Actors.Accounts;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
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
    private TestCluster _cluster = null!;
    private readonly Dictionary<string, long> _expected = [];

    private List<(ActorSystem System, LedgerRegions Regions)> Nodes => _cluster.Nodes;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.Start(system => LedgerSharding.Start(system, 30, TimeProvider.System, new AccountSettings()));
        var first = Nodes[0].Regions;
        Assert.IsType<AssetView>(await Ask(first.Assets, new CreateAsset(new("USD"), 2, new("bank"))));
        for (var i = 0; i < Accounts; i++)
        {
            Assert.IsType<AccountView>(await Ask(Nodes[i % 3].Regions.Accounts, new OpenAccount(new($"acc-{i}"), "owner")));
            await Transfer(i % 3, "bank", $"acc-{i}", 1_000, $"mint-{i}");
        }
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Accounts_spread_overNodes_and_a_node_that_leaves_hands_them_over_with_their_balances()
    {
        await HostedOnEveryNode();
        await CrossNodeTransfers(round: 1);
        await AssertBalancesEverywhere();

        var leaving = Nodes[2];
        await CoordinatedShutdown.Get(leaving.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        Nodes.RemoveAt(2);
        await Until(() => Cluster.Get(Nodes[0].System).State.Members.Count == 2, "the node is removed");

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
        await _cluster.CrashThirdNode();

        await AssertBalancesEverywhere();
        await CrossNodeTransfers(round: 2);
        await AssertBalancesEverywhere();
    }

    private async Task HostedOnEveryNode()
    {
        var stats = (ClusterShardingStats)await Nodes[0].Regions.Accounts.Ask(new GetClusterShardingStats(TimeSpan.FromSeconds(30)), TimeSpan.FromSeconds(60));
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
            tasks.Add(Transfer(i % Nodes.Count, from, to, (ulong)(10 + i), $"r{round}-{i}"));
        }
        await Task.WhenAll(tasks);
    }

    private async Task Transfer(int node, string from, string to, ulong amount, string id)
    {
        var reply = await Ask(Nodes[node].Regions.Accounts, new SubmitTransfers(new(from), [new TransferRequest(new(id), new(to), new("USD"), amount, false, null)]));
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
        foreach (var (_, regions) in Nodes)
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

    private static Task<object> Ask(IActorRef region, object message) => TestCluster.Ask(region, message);

    private static Task Until(Func<bool> condition, string what, int seconds = 60) => TestCluster.Until(condition, what, seconds);
}
