using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Journal;

namespace Ledger.Tests.Support;

/// <summary>Writes an entity's row through the node's journal as the entity would, for state a test cannot reach by requests.</summary>
public static class JournalRows
{
    /// <summary>Appends <paramref name="payload"/> at <paramref name="sequenceNr"/>, listing the entity as owing in the same transaction (as a saga does with its intent) if asked.</summary>
    public static async Task Append(ActorSystem system, string persistenceId, long sequenceNr, object payload, bool listOwing)
    {
        var journal = Akka.Persistence.Persistence.Instance.Apply(system).JournalFor(null);
        var writer = Inbox.Create(system);
        if (listOwing) journal.Tell(new OwingMark(persistenceId, sequenceNr, true, WithNextWrite: true));
        journal.Tell(new WriteMessages([new AtomicWrite(new Persistent(payload, sequenceNr, persistenceId, writerGuid: "test"))], writer.Receiver, 1));
        Assert.IsType<WriteMessagesSuccessful>(await writer.ReceiveAsync(TimeSpan.FromSeconds(30)));
    }
}
