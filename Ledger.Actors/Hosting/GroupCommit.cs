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

    /// <summary>
    /// Commands in arrival order: the first <see cref="_taken"/> are in the batch being decided or written, the rest
    /// wait. Taken commands stay in this one list until their write is durable (rather than moving to a second list):
    /// every long-lived collection an entity writes a new object into is one more place the next young-generation
    /// collection must scan. Made with room for four beside the entity's other such collections, for the same reason.
    /// </summary>
    private readonly List<(object Message, IActorRef Sender)> _commands = new(4);
    private int _taken;

    public bool Writing { get; private set; }

    /// <summary>Nothing waiting and nothing being written: the entity may stop.</summary>
    public bool Idle => _commands.Count == 0 && !Writing;

    /// <summary>Whether the next batch can be taken now.</summary>
    public bool Ready => _commands.Count > _taken && !Writing;

    public IEnumerable<(object Message, IActorRef Sender)> Waiting => _commands.Skip(_taken);

    /// <summary>Commands ever queued and ever taken: the n-th queued is the n-th taken, unless some were put first.</summary>
    public long Queued { get; private set; }
    public long TakenSoFar { get; private set; }

    /// <summary>Senders whose answer depends on the write in flight or on one to come.</summary>
    public IEnumerable<IActorRef> Awaiting => _commands.Select(q => q.Sender);

    public void Enqueue(object message, IActorRef sender)
    {
        _commands.Add((message, sender));
        Queued++;
    }

    /// <summary>Puts <paramref name="items"/> ahead of everything waiting, in their order.</summary>
    public void PutFirst(IReadOnlyCollection<(object Message, IActorRef Sender)> items)
    {
        _commands.InsertRange(_taken, items);
        Queued += items.Count;
    }

    /// <summary>
    /// Takes and decides the next batch. With events, the caller writes them (<see cref="Started"/>, then
    /// <see cref="Done"/> once durable); without, its replies are due at once. At most <paramref name="limit"/> are taken.
    /// </summary>
    public (List<TEvent> Events, List<Action> After) Take(Func<object, bool> isQuery, Decide decide, long limit)
    {
        // Sized for one command, the usual batch when load is spread over many entities (a list starts at four).
        var events = new List<TEvent>(1);
        var after = new List<Action>(1);
        for (var n = 0L; _commands.Count > _taken && after.Count < max && n < limit; n++)
        {
            var (message, sender) = _commands[_taken];
            if (isQuery(message) && events.Count > 0) break;
            _taken++;
            TakenSoFar++;
            decide(message, sender, events, after);
        }
        if (events.Count == 0) Release();
        return (events, after);
    }

    public void Started() => Writing = true;

    public void Done()
    {
        Writing = false;
        Release();
    }

    private void Release()
    {
        _commands.RemoveRange(0, _taken);
        _taken = 0;
    }
}
