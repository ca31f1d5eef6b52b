using Akka.Actor;
using Akka.Cluster.Sharding;
using Ledger.Actors.Accounts;
using Ledger.Actors.Assets;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Sharding;

/// <summary>Routes every <see cref="IEntityMessage"/> to its entity by id.</summary>
public sealed class EntityMessageExtractor(int shards) : HashCodeMessageExtractor(shards)
{
    public override string? EntityId(object message) => (message as IEntityMessage)?.EntityId;
}

/// <summary>The typed handles the gateway (and the entities) talk to: one shard region or proxy per entity kind.</summary>
public sealed record LedgerRegions(IActorRef Accounts, IActorRef Assets, IActorRef Pools, IActorRef Sagas);

public static class LedgerSharding
{
    public const string LedgerRole = "ledger";
    public const string AccountType = "account";
    public const string AssetType = "asset";
    public const string PoolType = "pool";
    public const string SagaType = "saga";
    public const string WakerType = "account-waker";

    /// <summary>
    /// Starts the regions: hosting entities on a node with the <c>ledger</c> role, as proxies elsewhere.
    /// The shard count must never change on a live cluster.
    /// </summary>
    public static LedgerRegions Start(ActorSystem system, int shards, TimeProvider time, AccountSettings accountSettings,
        PoolSettings? poolSettings = null, SagaSettings? sagaSettings = null)
    {
        var sharding = ClusterSharding.Get(system);
        var extractor = new EntityMessageExtractor(shards);
        var hosts = Akka.Cluster.Cluster.Get(system).SelfRoles.Contains(LedgerRole);
        if (!hosts)
            return new LedgerRegions(
                sharding.StartProxy(AccountType, LedgerRole, extractor),
                sharding.StartProxy(AssetType, LedgerRole, extractor),
                sharding.StartProxy(PoolType, LedgerRole, extractor),
                sharding.StartProxy(SagaType, LedgerRole, extractor));

        var settings = ClusterShardingSettings.Create(system).WithRole(LedgerRole);
        IActorRef accounts = ActorRefs.Nobody, pools = ActorRefs.Nobody, sagas = ActorRefs.Nobody, wakers = ActorRefs.Nobody;
        // The regions refer to each other; each factory reads the variables when an entity starts, after all are set.
        pools = sharding.Start(PoolType, id => PoolActor.Props(id, sagas, time, poolSettings ?? new PoolSettings()), settings, extractor);
        accounts = sharding.Start(AccountType, id => AccountActor.Props(id, accounts, pools, sagas, wakers, time, accountSettings), settings, extractor);
        // Wakers and sagas are the regions whose entities must restart by themselves after a crash or a move.
        wakers = sharding.Start(WakerType, id => AccountWaker.Props(id, accounts), settings.WithRememberEntities(true), extractor);
        sagas = sharding.Start(SagaType, id => SagaActor.Props(id, accounts, pools, time, sagaSettings ?? new SagaSettings()),
            settings.WithRememberEntities(true), extractor);
        var assets = sharding.Start(AssetType, id => AssetActor.Props(id, accounts, time), settings, extractor);
        return new LedgerRegions(accounts, assets, pools, sagas);
    }
}

/// <summary>The stop message of passivation for persistent entities: lets a write in flight finish first.</summary>
public sealed class StopEntity : INoSerializationVerificationNeeded
{
    public static readonly StopEntity Instance = new();
}
