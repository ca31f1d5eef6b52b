using Akka.Actor;
using Akka.Cluster.Sharding;
using Ledger.Actors.Accounts;
using Ledger.Actors.Assets;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Security;
using Ledger.Actors.Venues;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Sharding;

/// <summary>Routes every <see cref="IEntityMessage"/> to its entity by id.</summary>
public sealed class EntityMessageExtractor(int shards) : HashCodeMessageExtractor(shards)
{
    public override string? EntityId(object message) => (message as IEntityMessage)?.EntityId;
}

/// <summary>The typed handles the gateway (and the entities) talk to: one shard region or proxy per entity kind.</summary>
public sealed record LedgerRegions(IActorRef Accounts, IActorRef Assets, IActorRef Pools, IActorRef Sagas, IActorRef Markets, IActorRef Farms,
    IActorRef Oracle, IActorRef Keys, IActorRef Options, IActorRef Perps, IActorRef Governors, IActorRef Channels);

public static class LedgerSharding
{
    public const string LedgerRole = "ledger";
    public const string AccountType = "account";
    public const string AssetType = "asset";
    public const string PoolType = "pool";
    public const string SagaType = "saga";
    public const string MarketType = "market";
    public const string FarmType = "farm";
    public const string OptionType = "option";
    public const string PerpType = "perp";
    public const string GovernorType = "governor";
    public const string ChannelType = "channel";
    public const string OracleType = "oracle";
    public const string KeysType = "keys";
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
                sharding.StartProxy(SagaType, LedgerRole, extractor),
                sharding.StartProxy(MarketType, LedgerRole, extractor),
                sharding.StartProxy(FarmType, LedgerRole, extractor),
                sharding.StartProxy(OracleType, LedgerRole, extractor),
                sharding.StartProxy(KeysType, LedgerRole, extractor),
                sharding.StartProxy(OptionType, LedgerRole, extractor),
                sharding.StartProxy(PerpType, LedgerRole, extractor),
                sharding.StartProxy(GovernorType, LedgerRole, extractor),
                sharding.StartProxy(ChannelType, LedgerRole, extractor));

        var settings = ClusterShardingSettings.Create(system).WithRole(LedgerRole);
        var peers = new Peers();
        var venueSettings = new VenueSettings();
        peers.SagaCensus = system.ActorOf(SagaCensus.Props(system), "saga-census");
        peers.Pools = sharding.Start(PoolType, id => PoolActor.Props(id, peers.Sagas, peers.Pools, time, poolSettings ?? new PoolSettings()), settings, extractor);
        peers.Accounts = sharding.Start(AccountType, id => AccountActor.Props(id, peers, time, accountSettings), settings, extractor);
        peers.Oracle = sharding.Start(OracleType, _ => OracleActor.Props(time), settings, extractor);
        peers.Markets = sharding.Start(MarketType, id => MarketActor.Props(id, peers.Oracle, time, venueSettings), settings, extractor);
        peers.Farms = sharding.Start(FarmType, id => FarmActor.Props(id, time, venueSettings), settings, extractor);
        peers.Options = sharding.Start(OptionType, id => OptionActor.Props(id, time, venueSettings), settings, extractor);
        peers.Perps = sharding.Start(PerpType, id => PerpActor.Props(id, peers.Oracle, time, venueSettings), settings, extractor);
        peers.Governors = sharding.Start(GovernorType, id => GovernorActor.Props(id, peers, time, venueSettings), settings, extractor);
        peers.Channels = sharding.Start(ChannelType, id => ChannelActor.Props(id, peers, time, venueSettings), settings, extractor);
        // Wakers must restart by themselves after a crash or a move. Sagas too, but a saga lives for one request: the
        // owing index lists it while unfinished, in the rows it writes anyway (OwingResumer), where remembering it
        // would cost two more durable writes on the way to its start and its stop.
        peers.Wakers = sharding.Start(WakerType, id => AccountWaker.Props(id, peers.Accounts), settings.WithRememberEntities(true), extractor);
        sagaSettings ??= new SagaSettings();
        var admission = system.ActorOf(SagaAdmission.Props(sagaSettings.MaxLocking, sagaSettings.AdmissionQueueMax), "saga-admission");
        peers.Sagas = sharding.Start(SagaType, id => SagaActor.Props(id, peers.Accounts, peers.Pools, admission, time, sagaSettings),
            settings, extractor);
        var assets = sharding.Start(AssetType, id => AssetActor.Props(id, peers.Accounts, time), settings, extractor);
        var keys = sharding.Start(KeysType, _ => KeyStoreActor.Props(time), settings, extractor);
        return new LedgerRegions(peers.Accounts, assets, peers.Pools, peers.Sagas, peers.Markets, peers.Farms, peers.Oracle, keys, peers.Options, peers.Perps,
            peers.Governors, peers.Channels);
    }
}

/// <summary>The stop message of passivation for persistent entities: lets a write in flight finish first.</summary>
public sealed class StopEntity : INoSerializationVerificationNeeded
{
    public static readonly StopEntity Instance = new();
}
