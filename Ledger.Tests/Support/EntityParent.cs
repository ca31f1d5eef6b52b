using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Ledger.Tests.Support;

/// <summary>
/// Runs the production message extractor and entity props without a cluster: one child per entity id,
/// passivation honoured, and — as a shard does — messages for an entity that is stopping are held until it
/// has terminated and then go to its new incarnation. Entity behaviour is then testable in milliseconds.
/// </summary>
public sealed class EntityParent : ReceiveActor
{
    public sealed record Kill(string EntityId);

    /// <summary>Messages for the entity are held (a node cut off) until <see cref="Reconnect"/>, which delivers them, or drops them (lost with that node).</summary>
    public sealed record Pause(string EntityId);

    public sealed record Reconnect(string EntityId, bool Drop);

    private readonly Func<string, IActorRef, Props> _props;
    private readonly IMessageExtractor _extractor;
    private readonly Dictionary<string, List<(object Message, IActorRef Sender)>> _stopping = [];
    private readonly Dictionary<string, List<(object Message, IActorRef Sender)>> _paused = [];

    public EntityParent(Func<string, IActorRef, Props> props, IMessageExtractor extractor)
    {
        _props = props;
        _extractor = extractor;
        Receive<Passivate>(p => Stop(Sender.Path.Name, p.StopMessage));
        Receive<Kill>(k => Stop(Uri.EscapeDataString(k.EntityId), null));
        Receive<Pause>(p => _paused.TryAdd(p.EntityId, []));
        Receive<Reconnect>(r =>
        {
            if (!_paused.Remove(r.EntityId, out var held) || r.Drop) return;
            foreach (var (message, sender) in held) Deliver(message, sender);
        });
        Receive<Terminated>(t =>
        {
            if (!_stopping.Remove(t.ActorRef.Path.Name, out var held)) return;
            foreach (var (message, sender) in held) Deliver(message, sender);
        });
        ReceiveAny(message => Deliver(message, Sender));
    }

    /// <summary>With a stop message the entity stops itself (passivation); without, it is stopped at once.</summary>
    private void Stop(string name, object? stopMessage)
    {
        var child = Context.Child(name);
        if (child.IsNobody() || _stopping.ContainsKey(name)) return;
        _stopping[name] = [];
        Context.Watch(child);
        if (stopMessage is null) Context.Stop(child);
        else child.Tell(stopMessage);
    }

    private void Deliver(object message, IActorRef sender)
    {
        var id = _extractor.EntityId(message) ?? throw new InvalidOperationException($"no entity id in {message.GetType().Name}");
        if (_paused.TryGetValue(id, out var cutOff))
        {
            cutOff.Add((message, sender));
            return;
        }
        var name = Uri.EscapeDataString(id);
        if (_stopping.TryGetValue(name, out var held))
        {
            held.Add((message, sender));
            return;
        }
        var child = Context.Child(name);
        if (child.IsNobody()) child = Context.ActorOf(_props(id, Self), name);
        child.Tell(_extractor.EntityMessage(message), sender);
    }
}
