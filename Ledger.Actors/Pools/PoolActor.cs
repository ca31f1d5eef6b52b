using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Actors.Pools;

/// <summary>Limits and timings of a pool entity.</summary>
public sealed record PoolSettings : IEntitySettings
{
    /// <summary>Most calls decided together and persisted as one write (group commit).</summary>
    public int GroupCommitMax { get; init; } = 1_000;
    /// <summary>Answers kept in memory for redelivered calls; older ones are read back from the journal.</summary>
    public int AnswersKeep { get; init; } = 65_536;
    /// <summary>Events between snapshots (and at least an eighth of the call hashes the snapshot holds).</summary>
    public int SnapshotEveryEvents { get; init; } = 10_000;
    public TimeSpan IdleAfter { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Calls and lock requests held while a saga has the lock; beyond this they are dropped (their senders retry).</summary>
    public int BlockedMax { get; init; } = 100_000;
    /// <summary>Once a saga's lock has expired undecided, how often the pool asks that saga for its decision.</summary>
    public TimeSpan AskSagaEvery { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Hosts one pool's <see cref="PoolContract"/>. A pool is the hottest key there is, so it never holds a lock
/// across a round trip: an account debits its inputs first, then the pool decides the call and commits it in
/// one step. Calls that arrive while a write is in flight are decided together into the next write (group
/// commit); each call sees the reserves the previous one left. Answers go out only once durable.
/// <para>
/// A route or an atomic batch takes the pool's lock instead (<see cref="LockPool"/>): until its saga's decision
/// arrives, calls and other sagas' lock requests wait in arrival order, quotes and reads see the locked reserves,
/// and the committed hops are applied in one step with the unlock. That is what a route costs a hot pool.
/// </para>
/// </summary>
public sealed class PoolActor : EntityHost<IPoolEvent>
{
    private readonly PoolSettings _settings;
    private readonly IActorRef _sagas;
    /// <summary>Commands that arrived while a saga held the lock, in arrival order.</summary>
    private readonly Queue<(object Message, IActorRef Sender)> _blocked = new();
    private ITimer? _lockTimer;
    private SagaKey? _lockTimerFor;
    private PoolState _state;
    /// <summary>Redelivered calls whose answer left memory, waiting for a journal read, by key.</summary>
    private readonly Dictionary<(AccountId, TxId), List<(ExecutePoolCall Call, IActorRef Sender)>> _parked = [];
    private readonly HashSet<(AccountId, TxId)> _reading = [];

    public PoolActor(string entityId, IActorRef sagas, TimeProvider time, PoolSettings settings) : base(settings, time, "pool")
    {
        _settings = settings;
        _sagas = sagas;
        _state = NewState(new PoolId(entityId));
    }

    public static Props Props(string entityId, IActorRef sagas, TimeProvider time, PoolSettings settings) =>
        Akka.Actor.Props.Create(() => new PoolActor(entityId, sagas, time, settings));

    public override string PersistenceId => "pool-" + _state.Id.Value;

    private PoolState NewState(PoolId id) => new() { Id = id, AnswersKeep = _settings.AnswersKeep };

    protected override void Apply(IPoolEvent e) => PoolContract.Apply(_state, e);

    protected override object Persisted(List<IPoolEvent> events) => new PoolWrite([.. events]);

    protected override IReadOnlyList<IPoolEvent> Recovered(object persisted) => persisted is PoolWrite w ? w.Events : [];

    protected override object Snapshot() => PoolSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((PoolSnapshot)snapshot).Restore(NewState(_state.Id));

    protected override void OnRecovered()
    {
        _state.Evict(_settings.AnswersKeep);
        WatchLock();
    }

    protected override bool IsQuery(object message) => message is GetPool or QuoteSwap or GetPoolHoldings;

    protected override void OnMessage(object message)
    {
        switch (message)
        {
            case PoolReadBackDone done:
                foreach (var (key, answer) in done.Found)
                {
                    _reading.Remove(key);
                    if (_parked.Remove(key, out var waiting))
                        foreach (var (call, sender) in waiting) sender.Tell(new PoolCallAnswer(_state.Id, call.Id, answer));
                }
                foreach (var key in done.NotFound)
                {
                    _reading.Remove(key);
                    _state.Collisions.Add(key);
                    if (_parked.Remove(key, out var waiting))
                        foreach (var (call, sender) in waiting) Enqueue(call, sender);
                }
                break;
            case PoolReadBackFailed failed:
                // The accounts redeliver; their next delivery starts a new read.
                foreach (var key in failed.Keys)
                {
                    _reading.Remove(key);
                    _parked.Remove(key);
                }
                break;
            case LockTick:
                if (_state.LockedBy is { } saga && Now >= _state.LockExpiresAt)
                    _sagas.Tell(new QuerySaga(saga, null, _state.Id));
                break;
            default:
                Enqueue(message, Sender);
                break;
        }
    }

    protected override bool CanPassivate => _parked.Count == 0 && _state.LockedBy is null && _blocked.Count == 0;

    /// <summary>Answers leave memory only once durable.</summary>
    protected override void OnDurable()
    {
        _state.Evict(_settings.AnswersKeep);
        WatchLock();
    }

    protected override void AfterFlush() => ReadBackParked();

    protected override bool SnapshotDue => EventsSinceSnapshot >= Math.Max(_settings.SnapshotEveryEvents, _state.Seen.Count / 8);

    protected override void Decide(object message, IActorRef sender, long now, List<IPoolEvent> events, List<Action> after)
    {
        switch (message)
        {
            case CreatePool create:
                {
                    var created = !_state.Exists;
                    var (decided, rejection) = PoolContract.Create(_state, create.AssetA, create.AssetB, create.FeeBps, now);
                    foreach (var e in decided)
                    {
                        PoolContract.Apply(_state, e);
                        events.Add(e);
                    }
                    after.Add(() => sender.Tell(rejection is { } code ? new Rejected(code) : View(created)));
                    break;
                }
            case GetPool:
                sender.Tell(_state.Exists ? View(false) : new Rejected(Codes.PoolNotFound));
                break;
            case GetPoolHoldings:
                sender.Tell(new Holdings(PoolContract.Holdings(_state)));
                break;
            case QuoteSwap quote:
                {
                    var (amountOut, code) = PoolContract.Quote(_state, quote.AssetIn, quote.AmountIn);
                    sender.Tell(code is null ? new QuoteView(amountOut) : new Rejected(code));
                    break;
                }
            case ExecutePoolCall or CreatePool when _state.LockedBy is not null:
                Block(message, sender);
                break;
            case LockPool @lock:
                {
                    var (locked, wait, refusal) = PoolContract.Lock(_state, @lock.Saga, @lock.ExpiresAt, now);
                    if (wait)
                    {
                        Block(message, sender);
                        break;
                    }
                    if (locked is not null)
                    {
                        PoolContract.Apply(_state, locked);
                        events.Add(locked);
                    }
                    var reply = new PoolLockReply(_state.Id, @lock.Saga, refusal is null ? PoolContract.Reserves(_state) : null, refusal);
                    after.Add(() => sender.Tell(reply));
                    break;
                }
            case UnlockPool unlock:
                {
                    var unlocked = PoolContract.Unlock(_state, unlock.Saga, unlock.Commit, unlock.Hops, now);
                    if (unlocked is not null)
                    {
                        PoolContract.Apply(_state, unlocked);
                        events.Add(unlocked);
                    }
                    after.Add(() => sender.Tell(new PoolUnlockedAck(_state.Id, unlock.Saga)));
                    // What waited for the lock goes first, in the order it arrived.
                    if (_state.LockedBy is null && _blocked.Count > 0)
                    {
                        PutFirst([.. _blocked]);
                        _blocked.Clear();
                    }
                    break;
                }
            case ExecutePoolCall call:
                switch (_state.Find(call.Account, call.Id, out var known))
                {
                    case Known.Resident:
                        after.Add(() => sender.Tell(new PoolCallAnswer(_state.Id, call.Id, known!)));
                        break;
                    case Known.Evicted:
                        var key = (call.Account, call.Id);
                        if (!_parked.TryGetValue(key, out var waiting)) _parked[key] = waiting = [];
                        waiting.Add((call, sender));
                        break;
                    default:
                        var decided = PoolContract.Decide(_state, call.Account, call.Id, call.Call, now);
                        PoolContract.Apply(_state, decided);
                        events.Add(decided);
                        var answer = new PoolCallAnswer(_state.Id, call.Id, new PoolAnswer(decided.Out, decided.Code));
                        after.Add(() => sender.Tell(answer));
                        break;
                }
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Block(object message, IActorRef sender)
    {
        // Beyond the limit a command is dropped: accounts redeliver their calls, sagas their lock requests.
        if (_blocked.Count < _settings.BlockedMax) _blocked.Enqueue((message, sender));
    }

    /// <summary>While a saga holds the lock, a timer fires from the lock's expiry on and asks the saga for its decision.</summary>
    private void WatchLock()
    {
        if (_state.LockedBy == _lockTimerFor) return;
        _lockTimer?.Dispose();
        _lockTimer = null;
        _lockTimerFor = _state.LockedBy;
        if (_state.LockedBy is null) return;
        var self = Self;
        var due = TimeSpan.FromMilliseconds(Math.Max(0, _state.LockExpiresAt - Now));
        _lockTimer = Time.CreateTimer(_ => self.Tell(LockTick.Instance), null, due, _settings.AskSagaEvery);
    }

    protected override void PostStop()
    {
        _lockTimer?.Dispose();
        base.PostStop();
    }

    private void ReadBackParked()
    {
        if (_parked.Count == 0) return;
        var keys = _parked.Keys.Where(_reading.Add).ToArray();
        if (keys.Length > 0) Context.ActorOf(PoolReader.Props(PersistenceId, keys));
    }

    private PoolView View(bool created) =>
        new(_state.Id, _state.AssetA, _state.AssetB, _state.ReserveA, _state.ReserveB, _state.TotalShares, _state.LockedShares, _state.FeeBps, created);

    protected override IEnumerable<IActorRef> AwaitingWrite => base.AwaitingWrite.Concat(_blocked.Select(q => q.Sender));
}

internal sealed class LockTick : INoSerializationVerificationNeeded
{
    public static readonly LockTick Instance = new();
}

/// <summary>What a pool persists: the events of one write (group commit), as one journal row.</summary>
public sealed record PoolWrite(IPoolEvent[] Events);

internal sealed record PoolReadBackDone(((AccountId, TxId) Key, PoolAnswer Answer)[] Found, (AccountId, TxId)[] NotFound)
    : INoSerializationVerificationNeeded;

internal sealed record PoolReadBackFailed((AccountId, TxId)[] Keys) : INoSerializationVerificationNeeded;

/// <summary>
/// Reads old answers back for a pool: replays its journal from the start (no snapshot), keeps the answers asked
/// for, tells the pool, and stops. Runs only for calls redelivered after their answer left memory.
/// </summary>
internal sealed class PoolReader : UntypedPersistentActor
{
    private readonly HashSet<(AccountId, TxId)> _wanted;
    private readonly Dictionary<(AccountId, TxId), PoolAnswer> _found = [];

    public PoolReader(string persistenceId, (AccountId, TxId)[] keys)
    {
        PersistenceId = persistenceId;
        _wanted = [.. keys];
    }

    public static Props Props(string persistenceId, (AccountId, TxId)[] keys) =>
        Akka.Actor.Props.Create(() => new PoolReader(persistenceId, keys));

    public override string PersistenceId { get; }

    public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case PoolWrite write:
                foreach (var e in write.Events)
                    if (e is PoolCallDecided d && _wanted.Contains((d.Account, d.Id))) _found[(d.Account, d.Id)] = new PoolAnswer(d.Out, d.Code);
                break;
            case RecoveryCompleted:
                Context.Parent.Tell(new PoolReadBackDone([.. _found.Select(kv => (kv.Key, kv.Value))], [.. _wanted.Where(k => !_found.ContainsKey(k))]));
                Context.Stop(Self);
                break;
        }
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Context.Parent.Tell(new PoolReadBackFailed([.. _wanted]));
        base.OnRecoveryFailure(reason, message);
    }

    protected override void OnCommand(object message) => Unhandled(message);
}
