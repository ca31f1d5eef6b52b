using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Hosting;

/// <summary>
/// What every entity does alike around its journal: after a snapshot is saved, older ones are deleted (failures of
/// either are harmless: recovery uses the newest snapshot it finds plus the events after it); and a write the
/// journal rejects restarts the entity from the journal, since its state already holds what the write decided.
/// A write that fails (the journal is down or stalled past its circuit breaker) stops the entity, as Akka does, so
/// its next message starts it again from what is durable; first, whoever asked and is waiting on that write or
/// queued behind it is told <see cref="JournalUnavailable"/> at once rather than left to time out — the gateway
/// answers 503 and the client retries with the same id, which finds the write if it did land. And an entity learns
/// that it has been idle (<see cref="PassivateWhenIdle"/>) without a timer re-armed on every message.
/// </summary>
public abstract class LedgerPersistentActor : UntypedPersistentActor
{
    private ICancelable? _idleClock;
    private bool _activeSinceCheck;
    /// <summary>Askers whose requests Akka stashed while this entity was being read back from the journal.</summary>
    private List<IActorRef>? _askedWhileRecovering;

    /// <summary>
    /// From now on the entity is handed <see cref="ReceiveTimeout"/> once it has received nothing for between
    /// <paramref name="idleAfter"/> and twice that; it decides there whether it may passivate. This replaces Akka's
    /// receive timeout, which cancels and re-arms a scheduler registration on every message: on a busy node that is
    /// several registrations per transfer, each kept by the timer wheel until its slot comes round (seconds), so
    /// they all survive a young-generation collection. One repeating tick per entity costs nothing per message.
    /// </summary>
    protected void PassivateWhenIdle(TimeSpan idleAfter)
    {
        _idleClock?.Cancel();
        _activeSinceCheck = false;
        _idleClock = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(idleAfter, idleAfter, Self, IdleCheck.Instance, ActorRefs.NoSender);
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is not IdleCheck)
        {
            _activeSinceCheck = true;
            if (IsRecovering && IsAsker(Sender)) (_askedWhileRecovering ??= []).Add(Sender);
            else if (_askedWhileRecovering is not null && !IsRecovering) _askedWhileRecovering = null;
            return base.AroundReceive(receive, message);
        }
        var quiet = !_activeSinceCheck;
        _activeSinceCheck = false;
        return !quiet || base.AroundReceive(receive, ReceiveTimeout.Instance);
    }

    protected override void PostStop()
    {
        _idleClock?.Cancel();
        base.PostStop();
    }

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

    /// <summary>This entity's journal plugin, for read-backs and the owing index.</summary>
    protected IActorRef JournalRef => Persistence.Instance.Apply(Context.System).JournalFor(JournalPluginId);

    /// <summary>Senders whose answer depends on the write in flight: its commands' and those queued behind it.</summary>
    protected virtual IEnumerable<IActorRef> AwaitingWrite => [];

    /// <summary>
    /// The journal could not be read (it is down): Akka stops the entity and drops what it stashed meanwhile. Whoever
    /// asked is told at once, as for a failed write; messages from other entities are sent again by their senders.
    /// </summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        var failed = new JournalUnavailable(PersistenceId);
        foreach (var asker in _askedWhileRecovering?.Distinct() ?? []) asker.Tell(failed);
        _askedWhileRecovering = null;
        base.OnRecoveryFailure(reason, message);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        var failed = new JournalUnavailable(PersistenceId);
        // Only askers (the gateway's temporary actors) are told: entities retry on their own schedule.
        foreach (var asker in AwaitingWrite.Distinct().Where(IsAsker)) asker.Tell(failed);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    private sealed class IdleCheck : INoSerializationVerificationNeeded
    {
        public static readonly IdleCheck Instance = new();
    }

    private static bool IsAsker(IActorRef sender) => sender.Path.Elements is ["temp", ..];

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Context.GetLogger().Error(cause, "{0}: write rejected at {1}; restarting from the journal", PersistenceId, sequenceNr);
        throw new InvalidOperationException("journal rejected a write", cause);
    }
}
