using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Persistence;

namespace Ledger.Actors.Journal;

/// <summary>One entity's <see cref="WriteMessages"/>: its rows, and the replies owed once they are durable (or not).</summary>
internal sealed class EntityWrite(WriteMessages message, IActorRef journal, ConcurrentDictionary<string, EntityWrite> writing) : JournalAppender.Write
{
    private Dictionary<AtomicWrite, Exception>? _rejected;
    private int _answered;
    /// <summary>Null while running; <see cref="Ended"/> once ended; or what a recovery waiting on it awaits (made only then: rare).</summary>
    private object? _end;
    private static readonly object Ended = new();

    public string? PersistenceId { get; set; }
    public long QueuedAt { get; set; }

    public void Reject(AtomicWrite write, Exception cause) => (_rejected ??= new(ReferenceEqualityComparer.Instance))[write] = cause;

    /// <summary>The transaction ended: the entity hears it (unless told of a timeout already), and a recovery waiting on it goes on.</summary>
    public override void Completed(Exception? failure)
    {
        if (PersistenceId is not null) writing.TryRemove(KeyValuePair.Create(PersistenceId, this));
        Answer(failure);
        (Interlocked.Exchange(ref _end, Ended) as TaskCompletionSource)?.SetResult();
    }

    /// <summary>Completes once the transaction holding this write has ended, however it ended.</summary>
    public Task Finished
    {
        get
        {
            var waited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return Interlocked.CompareExchange(ref _end, waited, null) switch
            {
                null => waited.Task,
                TaskCompletionSource other => other.Task,
                _ => Task.CompletedTask,
            };
        }
    }

    /// <summary>Tells the entity the outcome, once: the transaction's, or a timeout's if that came first.</summary>
    public void Answer(Exception? failure)
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0) return;
        OwnWritePathJournal.Answer(message, journal, failure, _rejected);
    }
}
