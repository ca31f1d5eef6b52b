using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Ledger.Actors.Journal;
using Ledger.Actors.Sharding;

namespace Ledger.Actors.Hosting;

/// <summary>The limits every entity on <see cref="EntityHost{TEvent}"/> names.</summary>
public interface IEntitySettings
{
    /// <summary>Most commands decided together and persisted as one write (group commit).</summary>
    int GroupCommitMax { get; }
    /// <summary>Events between snapshots, so that recovery replays at most about this many.</summary>
    int SnapshotEveryEvents { get; }
    /// <summary>How long an entity may receive nothing before it asks to passivate.</summary>
    TimeSpan IdleAfter { get; }
}

/// <summary>
/// The one host every ledger entity runs on (accounts, pools, markets, farms): recover → apply; command → decide →
/// persist → reply. Commands queue in a <see cref="GroupCommit{TEvent}"/>; while no write is in flight the next batch
/// is decided against the entity's state and persisted as one journal row, and its replies go out once that row is
/// durable. The host also snapshots every <see cref="IEntitySettings.SnapshotEveryEvents"/> events, passivates when
/// idle, and on a stop request finishes the write in flight first.
/// <para>
/// A kind supplies its contract (<see cref="Decide"/>, <see cref="Apply"/>), its persisted forms (<see cref="Persisted"/>,
/// <see cref="Recovered"/>, <see cref="Snapshot"/>, <see cref="Restore"/>) and, where it differs, the hooks:
/// <see cref="BatchLimit"/> (a read a batch needs first, such as the oracle's), <see cref="OnDurable"/> (effects
/// once a write is durable), <see cref="AfterFlush"/>, <see cref="SnapshotDue"/> and <see cref="CanPassivate"/>.
/// Messages the host does not recognise go to <see cref="OnMessage"/>, whose default queues them as commands. A kind
/// that locks (a pool, for a saga) sets commands aside with <see cref="Block"/> and lets them go with <see cref="Unblock"/>.
/// </para>
/// </summary>
public abstract class EntityHost<TEvent> : LedgerPersistentActor where TEvent : class
{
    private readonly IEntitySettings _settings;
    private readonly string _metricName;
    private readonly GroupCommit<TEvent> _batch;
    private readonly GroupCommit<TEvent>.Decide _decide;
    private readonly Func<object, bool> _isQuery;
    /// <summary>The time the batch being decided is decided at (one reading per batch).</summary>
    private long _decidingAt;
    private bool _stopRequested;
    /// <summary>
    /// Commands set aside while the entity is locked (a saga's lock on a pool), each with the order it goes back in (its
    /// age; arrival order among equals).
    /// </summary>
    private readonly List<(object Message, IActorRef Sender, long Order)> _blocked = [];
    /// <summary>Writes not yet durable that messages released to this entity were decided after: its next write waits for them.</summary>
    private readonly List<WriteRef> _dependsOn = [];
    /// <summary>What the batch being decided releases once its write is queued (<see cref="Release"/>).</summary>
    private readonly List<(IActorRef To, object Message, IActorRef Sender)> _releasing = [];
    /// <summary>Whether the node's journal commits in queue order (a <see cref="LedgerJournal"/>), asked once, on the first release.</summary>
    private bool? _journalOrders;

    /// <param name="metricName">The entity kind in metrics (<c>account</c>, <c>pool</c>, …).</param>
    protected EntityHost(IEntitySettings settings, TimeProvider time, string metricName)
    {
        _settings = settings;
        _metricName = metricName;
        Time = time;
        _batch = new GroupCommit<TEvent>(settings.GroupCommitMax);
        // Made once, not per batch: a delegate over an instance method is an allocation each time it is formed.
        _decide = (m, s, e, a) => Decide(m, s, _decidingAt, e, a);
        _isQuery = IsQuery;
    }

    protected TimeProvider Time { get; }

    protected long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Events persisted (or replayed) since the last snapshot.</summary>
    protected long EventsSinceSnapshot { get; private set; }

    /// <summary>A write is in flight.</summary>
    protected bool Writing => _batch.Writing;

    /// <summary>Nothing queued and nothing being written.</summary>
    protected bool BatchIdle => _batch.Idle;

    /// <summary>Commands queued behind the batch in flight, in arrival order.</summary>
    protected IEnumerable<(object Message, IActorRef Sender)> Waiting => _batch.Waiting;

    /// <summary>Decides one command: appends its events (applied already) and what to do once they are durable.</summary>
    protected abstract void Decide(object message, IActorRef sender, long now, List<TEvent> events, List<Action> after);

    /// <summary>A read: it ends a batch that already holds events, so that it sees nothing not yet durable.</summary>
    protected abstract bool IsQuery(object message);

    protected abstract void Apply(TEvent e);

    /// <summary>The journal row for one write's events (a kind may add to <paramref name="events"/> first).</summary>
    protected abstract object Persisted(List<TEvent> events);

    /// <summary>The events a replayed journal row holds (pure: read-backs call it off the entity's thread).</summary>
    protected abstract IReadOnlyList<TEvent> Recovered(object persisted);

    protected abstract object Snapshot();

    protected abstract void Restore(object snapshot);

    /// <summary>Commands ever queued and ever taken, in arrival order (<see cref="GroupCommit{TEvent}.Queued"/>).</summary>
    protected long Queued => _batch.Queued;
    protected long TakenSoFar => _batch.TakenSoFar;

    /// <summary>How many waiting commands the next batch may take now; zero while the kind waits for something it needs.</summary>
    protected virtual long BatchLimit() => long.MaxValue;

    /// <summary>Once a write is durable, after its replies and before the next batch.</summary>
    protected virtual void OnDurable() { }

    /// <summary>After every round of taking batches (the kind may start reads for what it parked).</summary>
    protected virtual void AfterFlush() { }

    protected virtual bool SnapshotDue => EventsSinceSnapshot >= _settings.SnapshotEveryEvents;

    /// <summary>Whether the kind holds nothing that would be lost or left waiting if the entity stopped now.</summary>
    protected virtual bool CanPassivate => true;

    /// <summary>
    /// Work in progress whose answer comes to this entity directly, not through its shard (a journal read-back, an
    /// oracle reading): an entity asked to stop finishes it first. A request may reach the entity after it asked to
    /// passivate and before the stop message; without this it would be dropped unanswered. Answers that come through
    /// the shard must not count here: the shard holds them until the entity has stopped.
    /// </summary>
    protected virtual bool Busy => false;

    /// <summary>Once replay is over, before the first command.</summary>
    protected virtual void OnRecovered() { }

    /// <summary>A message the host does not handle itself; by default a command for the next batch.</summary>
    protected virtual void OnMessage(object message) => Enqueue(message, Sender);

    protected sealed override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer offer:
                Restore(offer.Snapshot);
                EventsSinceSnapshot = 0;
                break;
            case RecoveryCompleted:
                OnRecovered();
                PassivateWhenIdle(_settings.IdleAfter);
                break;
            default:
                var events = Recovered(message);
                for (var i = 0; i < events.Count; i++) Apply(events[i]);
                EventsSinceSnapshot += events.Count;
                break;
        }
    }

    protected sealed override void OnCommand(object message)
    {
        switch (message)
        {
            case ReceiveTimeout:
                if (_batch.Idle && _blocked.Count == 0 && CanPassivate) Context.Parent.Tell(new Passivate(StopEntity.Instance));
                break;
            case StopEntity:
                // The shard holds this entity's messages until it stops; a write in flight finishes first.
                _stopRequested = true;
                StopIfIdle();
                break;
            default:
                if (message is Released released)
                {
                    _dependsOn.AddRange(released.After);
                    message = released.Message;
                }
                OnMessage(message);
                if (_stopRequested) StopIfIdle();
                break;
        }
    }

    /// <summary>
    /// Sends <paramref name="message"/> once the batch being decided is queued to the journal rather than once it is
    /// durable (early lock release), when <paramref name="to"/> is an entity of this node and the journal is a
    /// <see cref="LedgerJournal"/>: whatever <paramref name="to"/> writes next is queued after this write on the same
    /// appender and commits only if it does, and it answers nothing outside before its own write is durable. Otherwise
    /// <paramref name="message"/> goes once durable, as every answer does.
    /// </summary>
    protected void Release(IActorRef to, object message, List<Action> after)
    {
        var self = Self;
        if (to is IActorRefScope { IsLocal: true } && (_journalOrders ??= LedgerJournal.Section(Context.System) is not null))
            _releasing.Add((to, message, self));
        else after.Add(() => to.Tell(message, self));
    }

    /// <summary>Queues a command; it is decided at once unless a write is in flight.</summary>
    protected void Enqueue(object message, IActorRef sender)
    {
        _batch.Enqueue(message, sender);
        if (!_batch.Writing) Flush();
    }

    /// <summary>Queues a command to be decided with the next batch, without starting one.</summary>
    protected void Queue(object message, IActorRef sender) => _batch.Enqueue(message, sender);

    /// <summary>
    /// Sets a command aside until <see cref="Unblock"/>, to go back by <paramref name="order"/> (lowest first; arrival order
    /// among equals); beyond <paramref name="max"/> it is dropped (false), and its sender's redelivery brings it back.
    /// </summary>
    protected bool Block(object message, IActorRef sender, int max, long order = 0)
    {
        if (_blocked.Count >= max) return false;
        // Kept sorted as it grows: a stable insertion after every command of the same or a lower order.
        var at = _blocked.Count;
        while (at > 0 && _blocked[at - 1].Order > order) at--;
        _blocked.Insert(at, (message, sender, order));
        return true;
    }

    /// <summary>What was set aside goes first, ahead of everything queued since, by its order.</summary>
    protected void Unblock()
    {
        if (_blocked.Count == 0) return;
        _batch.PutFirst([.. _blocked.Select(b => (b.Message, b.Sender))]);
        _blocked.Clear();
    }

    /// <summary>The commands set aside, in the order they will go back.</summary>
    protected IEnumerable<object> Blocked => _blocked.Select(b => b.Message);

    /// <summary>Drops the commands set aside that <paramref name="which"/> picks; whether there were any.</summary>
    protected bool Unqueue(Func<object, bool> which) => _blocked.RemoveAll(b => which(b.Message)) > 0;

    /// <summary>Takes and decides batches while no write is in flight; each with events becomes one write.</summary>
    protected void Flush()
    {
        while (_batch.Ready && BatchLimit() is > 0 and var limit)
        {
            _decidingAt = Now;
            var (events, after) = _batch.Take(_isQuery, _decide, limit);
            if (events.Count == 0)
            {
                foreach (var a in after) a();
                // Nothing of this entity's is in flight: what it releases depends only on what was released to it.
                foreach (var (to, message, sender) in _releasing) to.Tell(new Released([.. _dependsOn], message), sender);
                _releasing.Clear();
                continue;
            }
            Write(events, after);
        }
        AfterFlush();
    }

    /// <summary>One write as one journal row; replies go out once it is durable. <paramref name="events"/> may be empty if the kind adds to it.</summary>
    protected void Write(List<TEvent> events, List<Action> after)
    {
        var persisted = Persisted(events);
        if (_releasing.Count > 0 || _dependsOn.Count > 0)
        {
            persisted = new Staged(persisted, [.. _dependsOn], [.. _releasing]);
            _dependsOn.Clear();
            _releasing.Clear();
        }
        _batch.Started();
        EventsSinceSnapshot += events.Count;
        var started = LedgerMetrics.Start();
        PersistAsync(persisted, _ =>
        {
            LedgerMetrics.Written(_metricName, started, events.Count);
            _batch.Done();
            foreach (var a in after) a();
            OnDurable();
            if (SnapshotDue)
            {
                EventsSinceSnapshot = 0;
                SaveSnapshot(Snapshot());
            }
            Flush();
            StopIfIdle();
        });
    }

    protected override IEnumerable<IActorRef> AwaitingWrite => _batch.Awaiting.Concat(_blocked.Select(b => b.Sender));

    private void StopIfIdle()
    {
        if (_stopRequested && _batch.Idle && !Busy) Context.Stop(Self);
    }
}
