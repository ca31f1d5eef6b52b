using Akka.Event;
using Akka.Persistence;

namespace Ledger.Actors.Hosting;

/// <summary>
/// What every entity does alike around its journal: after a snapshot is saved, older ones are deleted (failures of
/// either are harmless: recovery uses the newest snapshot it finds plus the events after it); and a write the
/// journal rejects restarts the entity from the journal, since its state already holds what the write decided.
/// </summary>
public abstract class LedgerPersistentActor : UntypedPersistentActor
{
    protected override void Unhandled(object message)
    {
        switch (message)
        {
            case SaveSnapshotSuccess ok:
                DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
                break;
            case SaveSnapshotFailure or DeleteSnapshotsSuccess or DeleteSnapshotsFailure:
                break;
            default:
                base.Unhandled(message);
                break;
        }
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Context.GetLogger().Error(cause, "{0}: write rejected at {1}; restarting from the journal", PersistenceId, sequenceNr);
        throw new InvalidOperationException("journal rejected a write", cause);
    }
}
