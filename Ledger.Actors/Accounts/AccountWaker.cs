using Akka.Actor;
using Akka.Cluster.Sharding;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Accounts;

/// <summary>
/// One per account that holds a reservation with a deadline, in a region with remember-entities: the
/// sharding store remembers it durably, so after a crash or a restart of the whole cluster it is started
/// again by itself and wakes its account, which then expires what fell due and re-arms its timer. It holds
/// no state; being remembered is the state. Disarmed, it passivates and is forgotten.
/// </summary>
public sealed class AccountWaker : ReceiveActor
{
    private readonly AccountId _account;
    private readonly IActorRef _accounts;

    public AccountWaker(string entityId, IActorRef accounts)
    {
        _account = new AccountId(entityId);
        _accounts = accounts;
        Receive<ArmWaker>(_ => Sender.Tell(new WakerArmed(_account)));
        Receive<DisarmWaker>(_ => Context.Parent.Tell(new Passivate(PoisonPill.Instance)));
    }

    public static Props Props(string entityId, IActorRef accounts) => Akka.Actor.Props.Create(() => new AccountWaker(entityId, accounts));

    protected override void PreStart() => _accounts.Tell(new WakeUp(_account));
}
