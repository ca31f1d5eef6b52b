using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Ledger.Actors.Sharding;
using Prometheus;

namespace Ledger.Host.Gateway;

/// <summary>
/// For operators: <c>GET /v1/cluster</c> (members, roles, status, shards and entities per node and region), and the
/// shard gauges of <c>/metrics</c>, refreshed every ten seconds from this node's regions.
/// </summary>
public static class OperationsApi
{
    private static readonly TimeSpan StatsTimeout = TimeSpan.FromSeconds(5);

    public static void MapOperations(this IEndpointRouteBuilder v1)
    {
        v1.MapGet("/cluster", async (HttpContext context, ActorSystem system, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(context);
            var cluster = Cluster.Get(system);
            var state = cluster.State;
            var shards = new SortedDictionary<string, SortedDictionary<string, RegionShardsJson>>(StringComparer.Ordinal);
            foreach (var (name, region) in Regions(ledger.Regions))
            {
                if (await region.Ask<object>(new GetClusterShardingStats(StatsTimeout), StatsTimeout + TimeSpan.FromSeconds(1)) is not ClusterShardingStats stats) continue;
                foreach (var (address, regionStats) in stats.Regions)
                {
                    var node = address.ToString();
                    if (!shards.TryGetValue(node, out var byRegion)) shards[node] = byRegion = new(StringComparer.Ordinal);
                    byRegion[name] = new RegionShardsJson(regionStats.Stats.Count, regionStats.Stats.Values.Sum());
                }
            }
            return Results.Json(new ClusterJson(cluster.SelfAddress.ToString(), state.Leader?.ToString(),
                [.. state.Members.Select(m => new ClusterMemberJson(m.Address.ToString(), [.. m.Roles.OrderBy(r => r, StringComparer.Ordinal)],
                    m.Status.ToString().ToLowerInvariant(), !state.Unreachable.Contains(m)))],
                shards));
        }).Produces<ClusterJson>().WithName("getCluster");
    }

    public static IEnumerable<(string Name, IActorRef Region)> Regions(LedgerRegions r) =>
    [
        (LedgerSharding.AccountType, r.Accounts), (LedgerSharding.AssetType, r.Assets), (LedgerSharding.PoolType, r.Pools),
        (LedgerSharding.SagaType, r.Sagas), (LedgerSharding.MarketType, r.Markets), (LedgerSharding.FarmType, r.Farms), (LedgerSharding.OptionType, r.Options), (LedgerSharding.PerpType, r.Perps), (LedgerSharding.GovernorType, r.Governors),
        (LedgerSharding.ChannelType, r.Channels),
    ];
}

/// <summary>The cluster as this node sees it: members with their roles and status (as Akka names it), and shards per node and region.</summary>
public sealed record ClusterJson(string Self, string? Leader, ClusterMemberJson[] Members, SortedDictionary<string, SortedDictionary<string, RegionShardsJson>> Shards);

public sealed record ClusterMemberJson(string Address, string[] Roles, string Status, bool Reachable);

public sealed record RegionShardsJson(int Shards, int Entities);

/// <summary>Keeps the <c>ledger_shards</c> and <c>ledger_entities</c> gauges of this node's regions current.</summary>
public sealed class ShardGauges(LedgerClient ledger) : BackgroundService
{
    private static readonly Gauge Shards = Metrics.CreateGauge("ledger_shards", "Shards hosted on this node", "region");
    private static readonly Gauge Entities = Metrics.CreateGauge("ledger_entities", "Entities running on this node", "region");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        do
        {
            foreach (var (name, region) in OperationsApi.Regions(ledger.Regions))
            {
                try
                {
                    if (await region.Ask<object>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5), stoppingToken) is CurrentShardRegionState state)
                    {
                        Shards.WithLabels(name).Set(state.Shards.Count);
                        Entities.WithLabels(name).Set(state.Shards.Sum(s => s.EntityIds.Count));
                    }
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or OperationCanceledException)
                {
                    // A region busy handing shards over answers next time.
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
