using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace Ledger.Tests.Support;

/// <summary>The in-memory journal, counting the atomic writes each persistent actor makes.</summary>
public sealed class CountingJournal : MemoryJournal
{
    public static readonly ConcurrentDictionary<string, int> Writes = new();

    public static string Key(string system, string persistenceId) => system + "/" + persistenceId;

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var list = messages.ToList();
        foreach (var w in list) Writes.AddOrUpdate(Key(Context.System.Name, w.PersistenceId), 1, (_, n) => n + 1);
        return base.WriteMessagesAsync(list, cancellationToken);
    }
}
