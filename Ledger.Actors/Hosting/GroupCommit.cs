using Akka.Actor;

namespace Ledger.Actors.Hosting;

/// <summary>
/// An entity's commands waiting for its journal, and the batch in flight: the group commit that accounts, pools,
/// markets and farms share. While no write is in flight the entity takes the next batch — commands decided in
/// order against its state, each seeing the effects of the ones before it — and persists all their events as one
/// write; replies go out once it is durable. A query ends a batch that already holds events, so nothing is read
/// that is not yet durable.
/// </summary>
public sealed class GroupCommit<TEvent>(int max)
{
    /// <summary>Decides one command: appends its events, and what to do once they are durable (the replies).</summary>
    public delegate void Decide(object message, IActorRef sender, List<TEvent> events, List<Action> after);

    private readonly Queue<(object Message, IActorRef Sender)> _queue = new();
    private readonly List<IActorRef> _inWrite = [];

    public bool Writing { get; private set; }

    /// <summary>Nothing waiting and nothing being written: the entity may stop.</summary>
    public bool Idle => _queue.Count == 0 && !Writing;

    /// <summary>Whether the next batch can be taken now.</summary>
    public bool Ready => _queue.Count > 0 && !Writing;

    public IEnumerable<(object Message, IActorRef Sender)> Waiting => _queue;

    /// <summary>Senders whose answer depends on the write in flight or on one to come.</summary>
    public IEnumerable<IActorRef> Awaiting => _inWrite.Concat(_queue.Select(q => q.Sender));

    public void Enqueue(object message, IActorRef sender) => _queue.Enqueue((message, sender));

    /// <summary>Puts <paramref name="items"/> ahead of everything waiting, in their order.</summary>
    public void PutFirst(IEnumerable<(object Message, IActorRef Sender)> items)
    {
        var rest = _queue.ToArray();
        _queue.Clear();
        foreach (var item in items.Concat(rest)) _queue.Enqueue(item);
    }

    /// <summary>
    /// Takes and decides the next batch. With events, the caller writes them (<see cref="Started"/>, then
    /// <see cref="Done"/> once durable); without, its replies are due at once.
    /// </summary>
    public (List<TEvent> Events, List<Action> After) Take(Func<object, bool> isQuery, Decide decide)
    {
        var events = new List<TEvent>();
        var after = new List<Action>();
        while (_queue.Count > 0 && after.Count < max)
        {
            var (message, sender) = _queue.Peek();
            if (isQuery(message) && events.Count > 0) break;
            _queue.Dequeue();
            _inWrite.Add(sender);
            decide(message, sender, events, after);
        }
        if (events.Count == 0) _inWrite.Clear();
        return (events, after);
    }

    public void Started() => Writing = true;

    public void Done()
    {
        Writing = false;
        _inWrite.Clear();
    }
}
