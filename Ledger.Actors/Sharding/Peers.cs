using Akka.Actor;

namespace Ledger.Actors.Sharding;

/// <summary>
/// The shard regions (or proxies) entities send to. Regions refer to each other, so this is filled in as they
/// start and read by an entity each time it sends — never captured earlier, so no entity can hold a region that
/// did not exist yet when it started.
/// </summary>
public sealed class Peers
{
    public IActorRef Accounts { get; set; } = ActorRefs.Nobody;
    public IActorRef Pools { get; set; } = ActorRefs.Nobody;
    public IActorRef Sagas { get; set; } = ActorRefs.Nobody;
    public IActorRef Wakers { get; set; } = ActorRefs.Nobody;
    public IActorRef Markets { get; set; } = ActorRefs.Nobody;
    public IActorRef Farms { get; set; } = ActorRefs.Nobody;
    public IActorRef Options { get; set; } = ActorRefs.Nobody;
    public IActorRef Perps { get; set; } = ActorRefs.Nobody;
    public IActorRef Governors { get; set; } = ActorRefs.Nobody;
    public IActorRef Channels { get; set; } = ActorRefs.Nobody;
    public IActorRef Oracle { get; set; } = ActorRefs.Nobody;
    /// <summary>This node's <see cref="Sagas.SagaCensus"/> (none in test worlds that start no census: their accounts close without asking).</summary>
    public IActorRef SagaCensus { get; set; } = ActorRefs.Nobody;
}
