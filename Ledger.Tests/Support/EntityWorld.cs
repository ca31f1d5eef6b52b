using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Sharding;

namespace Ledger.Tests.Support;

/// <summary>Every entity kind under an <see cref="EntityParent"/> in one actor system: the production props, no cluster.</summary>
public sealed class EntityWorld
{
    public IActorRef Accounts { get; }
    public IActorRef Pools { get; }
    public IActorRef Sagas { get; }

    public EntityWorld(ActorSystem system, TimeProvider time, AccountSettings accounts, PoolSettings pools, SagaSettings sagas)
    {
        var extractor = new EntityMessageExtractor(10);
        IActorRef accountsRef = ActorRefs.Nobody, poolsRef = ActorRefs.Nobody, sagasRef = ActorRefs.Nobody, wakersRef = ActorRefs.Nobody;
        Pools = poolsRef = system.ActorOf(Props.Create(() => new EntityParent((id, _) => PoolActor.Props(id, sagasRef, time, pools), extractor)), "pools");
        Accounts = accountsRef = system.ActorOf(Props.Create(() =>
            new EntityParent((id, parent) => AccountActor.Props(id, parent, poolsRef, sagasRef, wakersRef, time, accounts), extractor)), "accounts");
        Sagas = sagasRef = system.ActorOf(Props.Create(() =>
            new EntityParent((id, _) => SagaActor.Props(id, accountsRef, poolsRef, time, sagas), extractor)), "sagas");
        wakersRef = system.ActorOf(Props.Create(() => new EntityParent((id, _) => AccountWaker.Props(id, accountsRef), extractor)), "wakers");
    }
}
