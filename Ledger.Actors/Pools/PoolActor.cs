using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Sharding;
using Ledger.Actors.Venues;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Pools;

/// <summary>Limits and timings of a pool entity.</summary>
public sealed record PoolSettings : IVenueSettings
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
public sealed class PoolActor : VenueActor<IPoolEvent>
{
    private readonly PoolSettings _settings;
    private readonly IActorRef _sagas;
    private ITimer? _lockTimer;
    private SagaKey? _lockTimerFor;
    /// <summary>When the lock held now was granted (0: none, or granted by an earlier incarnation).</summary>
    private long _lockedAt;
    private PoolState _state;

    public PoolActor(string entityId, IActorRef sagas, TimeProvider time, PoolSettings settings) : base("pool", time, settings)
    {
        _settings = settings;
        _sagas = sagas;
        _state = NewState(new PoolId(entityId));
    }

    public static Props Props(string entityId, IActorRef sagas, TimeProvider time, PoolSettings settings) =>
        Akka.Actor.Props.Create(() => new PoolActor(entityId, sagas, time, settings));

    public override string PersistenceId => "pool-" + _state.Id.Value;

    private static PoolState NewState(PoolId id) => new() { Id = id };

    protected override string VenueId => _state.Id.Value;

    protected override AnswerStore Answers => _state.Answers;

    protected override Func<IPoolEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> AnswerOf { get; } =
        static e => e is PoolCallDecided d ? ((d.Account, d.Id), new CallAnswer(d.Out, d.Code)) : null;

    protected override void Apply(IPoolEvent e) => PoolContract.Apply(_state, e);

    protected override object Persisted(List<IPoolEvent> events) => new PoolWrite([.. events]);

    protected override IReadOnlyList<IPoolEvent> Recovered(object persisted) => persisted is PoolWrite w ? w.Events : [];

    protected override object Snapshot() => PoolSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((PoolSnapshot)snapshot).Restore(NewState(_state.Id));

    protected override void OnRecovered()
    {
        base.OnRecovered();
        WatchLock();
    }

    protected override bool IsQuery(object message) => message is GetPool or QuoteSwap or GetPoolHoldings;

    protected override void OnMessage(object message)
    {
        switch (message)
        {
            case LockTick:
                if (_state.LockedBy is { } saga && Now >= _state.LockExpiresAt)
                    _sagas.Tell(new QuerySaga(saga, null, _state.Id));
                break;
            default:
                base.OnMessage(message);
                break;
        }
    }

    protected override bool CanPassivate => base.CanPassivate && _state.LockedBy is null;

    protected override void OnDurable()
    {
        base.OnDurable();
        WatchLock();
    }

    protected override bool SnapshotDue => EventsSinceSnapshot >= Math.Max(_settings.SnapshotEveryEvents, _state.Answers.Count / 8);

    protected override void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<IPoolEvent> events, List<Action> after)
    {
        switch (message)
        {
            case CreatePool create:
                {
                    var created = !_state.Exists;
                    var (decided, rejection) = PoolContract.Create(_state, create.AssetA, create.AssetB, create.FeeBps, now);
                    Create(decided, rejection, () => View(created), sender, events, after);
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
            // Beyond the limit a command is dropped: accounts redeliver their calls, sagas their lock requests.
            case ExecutePoolCall or CreatePool when _state.LockedBy is not null:
                Block(message, sender, _settings.BlockedMax);
                break;
            case LockPool @lock:
                {
                    var (locked, wait, refusal) = PoolContract.Lock(_state, @lock.Saga, @lock.ExpiresAt, now);
                    if (wait)
                    {
                        Block(message, sender, _settings.BlockedMax);
                        break;
                    }
                    if (locked is not null)
                    {
                        Record(locked, events);
                        _lockedAt = LedgerMetrics.Start();
                    }
                    var reply = new PoolLockReply(_state.Id, @lock.Saga, refusal is null ? PoolContract.Reserves(_state) : null, refusal);
                    after.Add(() => sender.Tell(reply));
                    break;
                }
            case UnlockPool unlock:
                {
                    if (_state.LockedBy == unlock.Saga && _lockedAt != 0)
                    {
                        LedgerMetrics.SagaStep("pool_held", _lockedAt);
                        _lockedAt = 0;
                    }
                    var unlocked = PoolContract.Unlock(_state, unlock.Saga, unlock.Commit, unlock.Hops, now);
                    if (unlocked is not null) Record(unlocked, events);
                    after.Add(() => sender.Tell(new PoolUnlockedAck(_state.Id, unlock.Saga)));
                    // What waited for the lock goes first, in the order it arrived.
                    if (_state.LockedBy is null) Unblock();
                    break;
                }
            case ExecutePoolCall call:
                {
                    if (AnsweredBefore(call, call.Account, call.Id, sender, after)) break;
                    var decided = PoolContract.Decide(_state, call.Account, call.Id, call.Call, now);
                    Answer(decided, call.Id, decided.Out, decided.Code, sender, events, after);
                    break;
                }
            default:
                Unhandled(message);
                break;
        }
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

    private PoolView View(bool created) =>
        new(_state.Id, _state.AssetA, _state.AssetB, _state.ReserveA, _state.ReserveB, _state.TotalShares, _state.LockedShares, _state.FeeBps, created);
}

internal sealed class LockTick : INoSerializationVerificationNeeded
{
    public static readonly LockTick Instance = new();
}

/// <summary>What a pool persists: the events of one write (group commit), as one journal row.</summary>
public sealed record PoolWrite(IPoolEvent[] Events);
