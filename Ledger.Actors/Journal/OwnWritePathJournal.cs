using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Persistence.Sql.Journal;

namespace Ledger.Actors.Journal;

/// <summary>
/// Akka.Persistence.Sql's journal with entities' writes taken off <see cref="AsyncWriteJournal"/>'s path: the one place
/// that knows how Akka.Persistence works inside rather than only its plugin API. Its write path puts a circuit breaker
/// (a timer and a cancellation source per write), async state machines and a resequencer (one more actor, two more
/// messages per write) between every entity and the database, which was most of what a write allocated besides its
/// events (docs/benchmarks.md, "The journal answers writes itself"). What this relies on, each pinned by
/// <c>OwnWritePathJournalSpecs</c> so that an Akka upgrade which changes it fails there first:
/// <list type="number">
/// <item><see cref="AsyncWriteJournal"/>'s <c>Receive</c> is sealed, so <see cref="WriteMessages"/> is taken in
/// <see cref="AroundReceive"/>, before it; <see cref="WriteMessagesAsync"/> is never called.</item>
/// <item>A persistent actor (<c>Eventsourced</c>) has one <see cref="WriteMessages"/> in flight at most: the next is sent
/// once it has read <see cref="WriteMessagesSuccessful"/>. So one entity's replies need no resequencer (the base class's
/// still starts, and stays idle): they are told in one loop, and the next write's come after its own commit.</item>
/// <item>The replies are the ones <see cref="AsyncWriteJournal"/> tells, in its order (<see cref="Answer"/>); the entity
/// ignores any whose actor instance id is not its own.</item>
/// <item>An <see cref="AtomicWrite"/>'s payload is an <see cref="IImmutableList{T}"/> of events (<see cref="Events"/>).</item>
/// <item><see cref="WriteMessages.Messages"/> is the entity's own batch list (<c>Eventsourced._journalBatch</c>), which it
/// replaces with a new one as it hands it over and never reads again, so it may be emptied once answered.</item>
/// </list>
/// </summary>
public abstract class OwnWritePathJournal(Config journalConfig) : SqlWriteJournal(journalConfig)
{
    /// <summary>
    /// An entity's write: the journal tells it the outcome through <see cref="Answer"/>, exactly once, once the write is
    /// durable or has failed.
    /// </summary>
    protected abstract void Write(WriteMessages message);

    /// <summary>The journal's own messages; false hands the message on to the plugin.</summary>
    protected abstract bool ReceiveOwn(object message);

    protected sealed override bool AroundReceive(Receive receive, object message)
    {
        if (message is WriteMessages write)
        {
            Write(write);
            return true;
        }
        return ReceiveOwn(message) || base.AroundReceive(receive, message);
    }

    protected sealed override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} answers WriteMessages itself");

    /// <summary>The events of one atomic write: one <c>Persist</c>, or all of one <c>PersistAll</c>.</summary>
    internal static IImmutableList<IPersistentRepresentation> Events(AtomicWrite write) => (IImmutableList<IPersistentRepresentation>)write.Payload;

    /// <summary>
    /// Tells the entity what <see cref="AsyncWriteJournal"/> would: the batch's outcome first, from the journal; then, for
    /// each envelope in order, each event's success, rejection (if in <paramref name="rejected"/>) or failure (if the whole
    /// write failed), from the event's sender, and a deferred handler's loop message. Then lets the batch list go.
    /// </summary>
    internal static void Answer(WriteMessages message, IActorRef journal, Exception? failure, Dictionary<AtomicWrite, Exception>? rejected)
    {
        var actor = message.PersistentActor;
        var instance = message.ActorInstanceId;
        if (failure is null) actor.Tell(WriteMessagesSuccessful.Instance, journal);
        else actor.Tell(new WriteMessagesFailed(failure, message.Messages.Count(m => m is AtomicWrite)), journal);
        foreach (var envelope in message.Messages)
        {
            if (envelope is not AtomicWrite atomic)
            {
                actor.Tell(new LoopMessageSuccess(envelope.Payload, instance), envelope.Sender);
                continue;
            }
            var cause = rejected?.GetValueOrDefault(atomic);
            foreach (var p in Events(atomic))
                actor.Tell(failure is not null ? new WriteMessageFailure(p, failure, instance)
                    : cause is not null ? new WriteMessageRejected(p, cause, instance)
                    : new WriteMessageSuccess(p, instance), p.Sender);
        }
        Release(message);
    }

    /// <summary>
    /// Empties the batch list the entity handed over and drops its array. The entity starts its next list as it hands one
    /// over; a list that grows old before it is used is dead once answered, yet it keeps its young array, and every event
    /// in it, alive through each young collection until the next gen-1 one (docs/benchmarks.md, "Dead lists that kept
    /// young events alive").
    /// </summary>
    private static void Release(WriteMessages message)
    {
        if (message.Messages is List<IPersistentEnvelope> batch)
        {
            batch.Clear();
            batch.Capacity = 0;
        }
    }
}
