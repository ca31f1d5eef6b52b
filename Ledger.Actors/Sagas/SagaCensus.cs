using Akka.Actor;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Actors.Sagas;

/// <summary>Which unfinished sagas name <paramref name="Account"/> (asked by an account about to close).</summary>
public sealed record SagasNaming(AccountId Account) : INoSerializationVerificationNeeded;

/// <summary>How many unfinished sagas name the account; null if the journal could not be read.</summary>
public sealed record SagasNamed(AccountId Account, int? Count) : INoSerializationVerificationNeeded;

/// <summary>
/// Counts, from the journal, the unfinished sagas that name an account: those the owing index lists (from their intent
/// until they finish), by the operations of their intent, the first row each writes. An account recovered from its
/// journal asks before it closes: as a payee only, it may have said yes to a saga in an earlier incarnation without
/// writing anything (<see cref="Contracts.Accounts.AccountContract.PrepareSaga"/>), and that saga may still commit its
/// credit. One census per node, reading off its thread; closing is rare, so it reads the index every time it is asked.
/// </summary>
public sealed class SagaCensus : ReceiveActor
{
    public SagaCensus(JournalReader? reader, string defaultSerializer)
    {
        var serialization = Context.System.Serialization;
        Receive<SagasNaming>(ask =>
        {
            // Without a journal of ours (the in-memory one of benchmarks) nothing outlives a node, promises included.
            if (reader is null)
            {
                Sender.Tell(new SagasNamed(ask.Account, 0));
                return;
            }
            Count(reader, serialization, defaultSerializer, ask.Account)
                .PipeTo(Sender, success: n => new SagasNamed(ask.Account, n), failure: _ => new SagasNamed(ask.Account, null));
        });
    }

    /// <summary>The census of the node's journal: one that reads it if it is a <see cref="LedgerJournal"/>, else one that finds nothing.</summary>
    public static Props Props(ActorSystem system)
    {
        if (LedgerJournal.Section(system) is not { } section) return Akka.Actor.Props.Create(() => new SagaCensus(null, ""));
        var journal = new JournalConfig(section.WithFallback(SqlPersistence.DefaultJournalConfiguration));
        var reader = JournalReader.For(journal);
        return Akka.Actor.Props.Create(() => new SagaCensus(reader, journal.DefaultSerializer));
    }

    private static async Task<int> Count(JournalReader reader, Akka.Serialization.Serialization serialization, string defaultSerializer, AccountId account)
    {
        var count = 0;
        await reader.FirstRowsOfOwing(OwingResumer.SagaPrefix, row =>
        {
            if (JournalReader.Deserialize(serialization, row.Payload, row.SerializerId, row.Manifest, defaultSerializer) is SagaStarted started
                && SagaPlanner.Accounts(started.Ops).Contains(account))
                count++;
        }, CancellationToken.None);
        return count;
    }
}
