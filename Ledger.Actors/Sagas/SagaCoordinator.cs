using Akka.Actor;
using Ledger.Actors.Hosting;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Actors.Sagas;

/// <summary>Limits and timings of the saga coordinators and the sagas they run.</summary>
public sealed record SagaSettings : IEntitySettings
{
    /// <summary>
    /// How long every lock and hold taken for a saga lives. A saga not decided by then aborts (<c>lock_timeout</c>);
    /// a participant still holding by then asks the saga for its decision (presumed abort).
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Unanswered requests to participants are sent again after this long.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>A coordinator with no saga under way passivates after this long.</summary>
    public TimeSpan IdleAfter { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Most sagas' events recorded together as one write (group commit).</summary>
    public int GroupCommitMax { get; init; } = 1_000;
    /// <summary>Events between a coordinator's snapshots.</summary>
    public int SnapshotEveryEvents { get; init; } = 10_000;
    /// <summary>Finished sagas a coordinator keeps in memory for retries; older ones are read back from its journal.</summary>
    public int FinishedKeep { get; init; } = 16_384;
    /// <summary>
    /// Failpoint for crash tests: how long to wait, with every vote in, before writing the decision — the window
    /// in which a test stops the coordinator's node. Zero in production.
    /// </summary>
    public TimeSpan PauseBeforeDecision { get; init; } = TimeSpan.Zero;
}

/// <summary>
/// Records and runs many sagas (routes, atomic batches): a sharded entity, one of <see cref="SagaContract.Coordinators"/>,
/// in a region that remembers its entities, so that after a crash or a rebalance it starts again by itself and
/// finishes what its sagas began. Each saga under way runs in a child (<see cref="SagaRun"/>, the protocol); the
/// coordinator is its journal. The intents, decisions and ends of every saga that arrive while a write is in flight
/// go into the next write, one journal row, as an account's transfers do — where a saga with an entity of its own
/// paid three rows, two more for the remembered-entities store and a journal read to start.
/// <para>
/// Messages for a saga under way go straight to its child; a request for a finished saga is answered from the
/// <see cref="SagaBook"/>, or, if it has left memory, once its record is read back from the journal.
/// </para>
/// </summary>
public sealed class SagaCoordinator : EntityHost<ISagaEvent>
{
    private readonly string _id;
    private readonly IActorRef _accounts;
    private readonly IActorRef _pools;
    private readonly SagaSettings _settings;
    private SagaBook _book = new();
    /// <summary>The child running each saga under way.</summary>
    private readonly Dictionary<SagaKey, IActorRef> _runs = [];
    private readonly Dictionary<IActorRef, SagaKey> _keyOf = [];
    /// <summary>Requests for finished sagas that left memory, waiting for a journal read, by key.</summary>
    private readonly Dictionary<SagaKey, List<(object Message, IActorRef Sender)>> _parked = [];
    private readonly HashSet<SagaKey> _reading = [];

    public SagaCoordinator(string entityId, IActorRef accounts, IActorRef pools, TimeProvider time, SagaSettings settings)
        : base(settings, time, "saga")
    {
        _id = entityId;
        _accounts = accounts;
        _pools = pools;
        _settings = settings;
    }

    public static Props Props(string entityId, IActorRef accounts, IActorRef pools, TimeProvider time, SagaSettings settings) =>
        Akka.Actor.Props.Create(() => new SagaCoordinator(entityId, accounts, pools, time, settings));

    public override string PersistenceId => "saga-" + _id;

    /// <summary>A runner that fails stops (it is started again from the record), rather than restarting with what it had.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override bool IsQuery(object message) => false;

    protected override void Apply(ISagaEvent e) => _book.Apply(e, IsRecovering ? LastSequenceNr : LastSequenceNr + 1);

    protected override object Persisted(List<ISagaEvent> events) => new SagaWrite([.. events]);

    protected override IReadOnlyList<ISagaEvent> Recovered(object persisted) => persisted is SagaWrite w ? w.Events : [];

    protected override object Snapshot() => _book.ToSnapshot();

    protected override void Restore(object snapshot) => _book = SagaBook.Restore((SagaBookSnapshot)snapshot);

    protected override bool CanPassivate => _runs.Count == 0 && _parked.Count == 0;

    protected override bool Busy => _parked.Count > 0;

    /// <summary>Every saga found under way resumes where its record says it is.</summary>
    protected override void OnRecovered()
    {
        _book.Evict(_settings.FinishedKeep);
        foreach (var saga in _book.Live.ToArray()) Run(saga.Copy(), null);
    }

    protected override void OnDurable() => _book.Evict(_settings.FinishedKeep);

    protected override void OnMessage(object message)
    {
        switch (message)
        {
            // A participant's question about a saga under way goes straight to it, not behind the write in flight.
            case QuerySaga query when _runs.TryGetValue(query.Key, out var run):
                run.Forward(query);
                break;
            case StartSaga or QuerySaga or SagaRecord:
                Enqueue(message, Sender);
                break;
            case Terminated t:
                // A runner that failed starts again from the record.
                if (_keyOf.Remove(t.ActorRef, out var key) && _runs.Remove(key) && _book.Find(key, out var saga) == Known.Resident
                    && saga!.Phase is SagaPhase.Started or SagaPhase.Decided)
                    Run(saga.Copy(), null);
                break;
            case SagasReadBack done:
                ReadBack(done);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void Decide(object message, IActorRef sender, long now, List<ISagaEvent> events, List<Action> after)
    {
        switch (message)
        {
            case SagaRecord { Event: var e }:
                if (!_runs.TryGetValue(e.Key, out var run) || !run.Equals(sender)) break;
                Record(e, events);
                if (e is SagaFinished)
                {
                    // It has answered its clients; what comes for it from now on is answered from the record.
                    Forget(e.Key);
                    Context.Stop(run);
                }
                else after.Add(() => run.Tell(new SagaRecorded(e)));
                break;
            case StartSaga start:
                Start(start, sender, now, events, after);
                break;
            case QuerySaga query:
                Query(query, sender, after);
                break;
        }
    }

    private void Start(StartSaga start, IActorRef sender, long now, List<ISagaEvent> events, List<Action> after)
    {
        if (_book.Find(start.Key, out var saga) == Known.Evicted)
        {
            Park(start.Key, start, sender);
            return;
        }
        var state = saga ?? new SagaState { Key = start.Key };
        var (started, rejection) = SagaContract.Start(state, start.Ops, _settings.LockTimeout, now);
        if (rejection is not null)
        {
            after.Add(() => sender.Tell(new Rejected(rejection)));
        }
        else if (started is not null)
        {
            var runner = Run(state, sender);
            Record(started, events);
            after.Add(() => runner.Tell(new SagaRecorded(started)));
        }
        else if (_runs.TryGetValue(start.Key, out var run))
        {
            // The same request again, under way: its runner answers it too.
            after.Add(() => run.Tell(start, sender));
        }
        else
        {
            // The same request again, and it has finished.
            var outcome = SagaRun.Outcome(state);
            after.Add(() => sender.Tell(outcome));
        }
    }

    /// <summary>A participant asks about a saga that is not under way: the decision again, or — never recorded — abort.</summary>
    private void Query(QuerySaga query, IActorRef sender, List<Action> after)
    {
        switch (_book.Find(query.Key, out var saga))
        {
            case Known.Evicted:
                Park(query.Key, query, sender);
                break;
            case Known.Resident when _runs.TryGetValue(query.Key, out var run):
                after.Add(() => run.Tell(query, sender));
                break;
            case Known.Resident:
                SagaRun.Tell(query, saga!, _accounts, _pools);
                break;
            default:
                // Nothing recorded, so nothing was ever asked of anyone under this key: the answer is abort.
                if (query.Account is { } a) _accounts.Tell(new ResolveSaga(a, query.Key, false, -1, Codes.LockTimeout, [], null));
                if (query.Pool is { } p) _pools.Tell(new UnlockPool(p, query.Key, false, []));
                break;
        }
    }

    private void Record(ISagaEvent e, List<ISagaEvent> events)
    {
        Apply(e);
        events.Add(e);
    }

    private IActorRef Run(SagaState state, IActorRef? waiter)
    {
        var run = Context.ActorOf(SagaRun.Props(state, _accounts, _pools, Time, _settings, waiter));
        Context.Watch(run);
        _runs[state.Key] = run;
        _keyOf[run] = state.Key;
        return run;
    }

    private void Forget(SagaKey key)
    {
        if (!_runs.Remove(key, out var run)) return;
        Context.Unwatch(run);
        _keyOf.Remove(run);
    }

    private void Park(SagaKey key, object message, IActorRef sender)
    {
        if (!_parked.TryGetValue(key, out var waiting)) _parked[key] = waiting = [];
        waiting.Add((message, sender));
    }

    /// <summary>Starts one journal read for the parked keys not yet being read, from the oldest intent among them.</summary>
    protected override void AfterFlush()
    {
        if (_parked.Count == 0) return;
        var keys = _parked.Keys.Where(_reading.Add).ToArray();
        if (keys.Length == 0) return;
        var fold = new SagaFold(keys);
        Context.ActorOf(EntityReader.Props(JournalRef, PersistenceId, keys.Min(_book.ReadFrom), fold, Self,
            () => new SagasReadBack(fold.Finished, keys), new SagasReadBack([], keys, Failed: true)));
    }

    /// <summary>The parked requests go round again: a finished saga read back is answered from memory now.</summary>
    private void ReadBack(SagasReadBack done)
    {
        foreach (var saga in done.Found) _book.ReadBack(saga);
        foreach (var key in done.Keys)
        {
            _reading.Remove(key);
            if (!_parked.Remove(key, out var waiting)) continue;
            if (done.Failed) continue; // Askers time out and retry; participants ask again.
            if (_book.Find(key, out _) == Known.Evicted) _book.Collided(key);
            foreach (var (message, sender) in waiting) Enqueue(message, sender);
        }
    }

    /// <summary>Folds a coordinator's journal rows into the finished sagas asked for.</summary>
    private sealed class SagaFold(SagaKey[] keys) : IJournalFold
    {
        private readonly Dictionary<SagaKey, SagaState> _sagas = keys.ToDictionary(k => k, k => new SagaState { Key = k });
        private int _finished;

        public SagaState[] Finished => [.. _sagas.Values.Where(s => s.Phase == SagaPhase.Finished)];

        public bool Done => _finished == _sagas.Count;

        public void Fold(object payload)
        {
            if (payload is not SagaWrite write) return;
            foreach (var e in write.Events)
            {
                if (!_sagas.TryGetValue(e.Key, out var s) || s.Phase == SagaPhase.Finished || (s.Phase == SagaPhase.New && e is not SagaStarted)) continue;
                SagaContract.Apply(s, e);
                if (s.Phase == SagaPhase.Finished) _finished++;
            }
        }
    }
}

internal sealed record SagasReadBack(SagaState[] Found, SagaKey[] Keys, bool Failed = false) : INoSerializationVerificationNeeded;
