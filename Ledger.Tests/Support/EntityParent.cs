using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Ledger.Tests.Support;

/// <summary>
/// Runs the production message extractor and entity props without a cluster: one child per entity id,
/// passivation honoured. Entity behaviour is then testable in milliseconds.
/// </summary>
public sealed class EntityParent : ReceiveActor
{
    public sealed record Kill(string EntityId);

    public EntityParent(Func<string, IActorRef, Props> props, IMessageExtractor extractor)
    {
        Receive<Passivate>(p => Sender.Tell(p.StopMessage));
        Receive<Kill>(k => Context.Stop(Child(k.EntityId, props)));
        ReceiveAny(message =>
        {
            var id = extractor.EntityId(message) ?? throw new InvalidOperationException($"no entity id in {message.GetType().Name}");
            Child(id, props).Forward(extractor.EntityMessage(message));
        });
    }

    private IActorRef Child(string id, Func<string, IActorRef, Props> props)
    {
        var name = Uri.EscapeDataString(id);
        var child = Context.Child(name);
        return child.IsNobody() ? Context.ActorOf(props(id, Self), name) : child;
    }
}
