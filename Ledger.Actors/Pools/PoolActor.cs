using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Sharding;
using Ledger.Actors.Venues;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

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
    /// <summary>
    /// Calls and lock requests held while a saga has the lock, and routes waiting for or in this pool's batches; beyond
    /// this they are dropped (their senders retry).
    /// </summary>
    public int BlockedMax { get; init; } = 100_000;
    /// <summary>Once a saga's lock has expired undecided, how often the pool asks that saga for its decision.</summary>
    public TimeSpan AskSagaEvery { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// How long the locks a route batch takes live (<see cref="RouteDesk"/>): a batch not decided by then is given up and its
    /// routes go into the next one; a pool still locked by it then asks the coordinator.
    /// </summary>
    public TimeSpan RouteLockTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How often a coordinator sends again its unanswered lock requests and its unacknowledged unlocks.</summary>
    public TimeSpan RouteRetryAfter { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// Failpoint for crash tests: while it returns true, a route batch holding all its locks does not decide (it looks
    /// again at every retry) — the window in which a test stops a participant or the coordinator. Null in production.
    /// </summary>
    public Func<bool>? HoldRouteDecisions { get; init; }
}

/// <summary>
/// Hosts one pool's <see cref="PoolContract"/>. A pool is the hottest key there is, so it never holds a lock
/// across a round trip: an account debits its inputs first, then the pool decides the call and commits it in
/// one step. Calls that arrive while a write is in flight are decided together into the next write (group
/// commit); each call sees the reserves the previous one left. Answers go out only once durable.
/// <para>
/// A route or an atomic batch takes the pool's lock instead (<see cref="LockPool"/>): until its saga's decision
/// arrives, calls and other sagas' lock requests wait in arrival order, quotes and reads see the locked reserves,
/// and the committed hops are applied in one step with the unlock.
/// </para>
/// <para>
/// A pool is also the coordinator of the routes whose lowest pool it is (<see cref="RouteDesk"/>): it gathers their calls,
/// locks the other pools once for every route waiting, prices them all in one decision and unlocks those pools with their
/// hops. While batches of its own are locking, it lets no saga or other coordinator lock it (it would be locked below
/// pools it already holds), except that a batch still waiting for a lock gives way to an older request (wound-wait by
/// age, <see cref="MustWait"/>); it keeps serving swaps, since its batches price against its reserves when they decide.
/// </para>
/// </summary>
public sealed class PoolActor : VenueActor<IPoolEvent>
{
    private readonly PoolSettings _settings;
    private readonly IActorRef _sagas;
    private readonly IActorRef _pools;
    /// <summary>
    /// Route calls this pool coordinates, waiting for their batch: by the other pools they cross (as a key), in arrival
    /// order, with the age of the oldest (<see cref="ArrivalAge"/>); and every route waiting or in a batch.
    /// </summary>
    private readonly Dictionary<string, (PoolId[] Others, long Age, List<(RouteRequest Route, IActorRef Sender)> Routes)> _routesWaiting = new(StringComparer.Ordinal);
    /// <summary>The age of each route call set aside while this pool was locked, kept for the batch it joins.</summary>
    private readonly Dictionary<(AccountId, TxId), long> _routeArrivals = [];
    private readonly HashSet<(AccountId, TxId)> _routesTaken = [];
    /// <summary>This pool's route batches taking their locks, by key; and the sets of other pools they lock, one batch each at a time.</summary>
    private readonly Dictionary<SagaKey, RouteBatch> _batches = [];
    private readonly HashSet<string> _locking = new(StringComparer.Ordinal);
    /// <summary>Batches decided whose decision is not yet durable: asked about, they are not answered yet.</summary>
    private readonly HashSet<SagaKey> _deciding = [];
    /// <summary>
    /// Acknowledged unlocks of decided batches, applied but not yet written: they go with the next write, or on the next
    /// retry if none comes. Lost in a crash, they only make the pools be told again, which they acknowledge again.
    /// </summary>
    private readonly List<IPoolEvent> _acksUnwritten = [];
    /// <summary>
    /// The age of the oldest lock request of another waiting for this pool's batches to finish (long.MaxValue: none);
    /// meanwhile only routes older than it start a batch.
    /// </summary>
    private long _awaitedAge = long.MaxValue;
    private bool LockAwaited => _awaitedAge != long.MaxValue;
    private ITimer? _lockTimer;
    private SagaKey? _lockTimerFor;
    /// <summary>When the lock held now was granted (0: none, or granted by an earlier incarnation).</summary>
    private long _lockedAt;
    private PoolState _state;

    public PoolActor(string entityId, IActorRef sagas, IActorRef pools, TimeProvider time, PoolSettings settings) : base("pool", time, settings)
    {
        _settings = settings;
        _sagas = sagas;
        _pools = pools;
        _state = NewState(new PoolId(entityId));
    }

    public static Props Props(string entityId, IActorRef sagas, IActorRef pools, TimeProvider time, PoolSettings settings) =>
        Akka.Actor.Props.Create(() => new PoolActor(entityId, sagas, pools, time, settings));

    public override string PersistenceId => "pool-" + _state.Id.Value;

    private static PoolState NewState(PoolId id) => new() { Id = id };

    protected override string VenueId => _state.Id.Value;

    protected override AnswerStore Answers => _state.Answers;

    protected override Func<IPoolEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> AnswerOf { get; } = static e => e switch
    {
        PoolCallDecided d => ((d.Account, d.Id), new CallAnswer(d.Out, d.Code)),
        RouteAnswered r => ((r.Account, r.Id), r.Answer),
        _ => null,
    };

    protected override void Apply(IPoolEvent e) => PoolContract.Apply(_state, e);

    protected override object Persisted(List<IPoolEvent> events)
    {
        TakeAcks(events);
        return new PoolWrite([.. events]);
    }

    private void TakeAcks(List<IPoolEvent> events)
    {
        events.AddRange(_acksUnwritten);
        _acksUnwritten.Clear();
    }

    protected override IReadOnlyList<IPoolEvent> Recovered(object persisted) => persisted is PoolWrite w ? w.Events : [];

    protected override object Snapshot() => PoolSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((PoolSnapshot)snapshot).Restore(NewState(_state.Id));

    protected override void OnRecovered()
    {
        base.OnRecovered();
        WatchLock();
        // Decided batches whose pools had not all acknowledged: they are told again.
        if (_state.RouteUnlocks.Count > 0) RetryRoutes();
    }

    protected override bool IsQuery(object message) => message is GetPool or QuoteSwap or GetPoolHoldings;

    protected override void OnMessage(object message)
    {
        switch (message)
        {
            case LockTick:
                if (_state.LockedBy is { } saga && Now >= _state.LockExpiresAt)
                {
                    if (RouteDesk.CoordinatorOf(saga) is { } coordinator) _pools.Tell(new QueryRouteBatch(coordinator, saga, _state.Id));
                    else _sagas.Tell(new QuerySaga(saga, null, _state.Id));
                }
                break;
            case RouteRetryTick:
                RetryRoutes();
                break;
            case QueryRouteBatch query:
                AnswerRouteQuery(query);
                break;
            default:
                base.OnMessage(message);
                break;
        }
    }

    protected override bool CanPassivate =>
        base.CanPassivate && _state.LockedBy is null && _routesTaken.Count == 0 && _state.RouteUnlocks.Count == 0 && _acksUnwritten.Count == 0;

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
                {
                    var age = ArrivalAge;
                    if (Block(message, sender, _settings.BlockedMax, age) && message is ExecutePoolCall { Call.Route: not null } route)
                        _routeArrivals.TryAdd((route.Account, route.Id), age);
                    break;
                }
            case LockPool @lock:
                {
                    if (_state.LockedBy is null && MustWait(@lock))
                    {
                        // This pool's batches hold pools above it: another locking it now would wait below them (a deadlock).
                        _awaitedAge = Math.Min(_awaitedAge, @lock.ExpiresAt);
                        Block(message, sender, _settings.BlockedMax, @lock.ExpiresAt);
                        break;
                    }
                    var (locked, wait, refusal) = PoolContract.Lock(_state, @lock.Saga, @lock.ExpiresAt, now);
                    if (wait)
                    {
                        Block(message, sender, _settings.BlockedMax, @lock.ExpiresAt);
                        break;
                    }
                    if (locked is not null)
                    {
                        Record(locked, events);
                        _lockedAt = LedgerMetrics.Start();
                    }
                    var reply = new PoolLockReply(_state.Id, @lock.Saga, refusal is null ? PoolContract.Reserves(_state) : null, refusal);
                    // A route batch's coordinator may decide on it before the lock is durable: its decision is queued after it.
                    if (RouteDesk.CoordinatorOf(@lock.Saga) is not null) Release(sender, reply, after);
                    else after.Add(() => sender.Tell(reply));
                    break;
                }
            case UnlockPool unlock:
                {
                    if (!unlock.Commit && _state.LockedBy != unlock.Saga && RouteDesk.CoordinatorOf(unlock.Saga) is not null
                        && Unqueue(m => m is LockPool l && l.Saga == unlock.Saga))
                    {
                        // A route batch that gave way before its request here was granted: nothing was written for it, so
                        // nothing is (its coordinator never asks again under that key).
                        if (LockAwaited) AwaitOldest();
                        after.Add(() => sender.Tell(new PoolUnlockedAck(_state.Id, unlock.Saga)));
                        break;
                    }
                    if (_state.LockedBy == unlock.Saga && _lockedAt != 0)
                    {
                        LedgerMetrics.SagaStep("pool_held", _lockedAt);
                        _lockedAt = 0;
                    }
                    var unlocked = PoolContract.Unlock(_state, unlock.Saga, unlock.Commit, unlock.Hops, now);
                    if (unlocked is not null) Record(unlocked, events);
                    after.Add(() => sender.Tell(new PoolUnlockedAck(_state.Id, unlock.Saga)));
                    // What waited for the lock goes first, oldest first.
                    if (_state.LockedBy is null) LetAllIn();
                    break;
                }
            case ExecutePoolCall { Call.Route: not null } call:
                {
                    var age = _routeArrivals.Remove((call.Account, call.Id), out var arrived) ? arrived : ArrivalAge;
                    if (AnsweredBefore(call, call.Account, call.Id, sender, after)) break;
                    if (!_state.Exists || !RouteDesk.Valid(call.Call, _state.Id))
                    {
                        var refused = new RouteAnswered(call.Account, call.Id, call.Call.Route, call.Call.In, _state.Exists ? Codes.InvalidRequest : Codes.PoolNotFound, null, now);
                        Answer(refused, call.Id, refused.Out, refused.Code, sender, events, after);
                    }
                    // Redelivered while waiting or in a batch: its answer goes to the first delivery's sender. Beyond the
                    // limit a route is dropped, and the account's redelivery brings it back.
                    else if (_routesTaken.Count < _settings.BlockedMax && _routesTaken.Add((call.Account, call.Id)))
                    {
                        var others = RouteDesk.Others(call.Call.Route, _state.Id);
                        var key = string.Join(",", others.Select(p => p.Value));
                        if (!_routesWaiting.TryGetValue(key, out var waiting)) waiting = (others, age, []);
                        _routesWaiting[key] = waiting with { Age = Math.Min(waiting.Age, age) };
                        waiting.Routes.Add((new RouteRequest(call.Account, call.Id, call.Call), sender));
                    }
                    break;
                }
            case PoolLockReply reply:
                if (_batches.TryGetValue(reply.Saga, out var batch) && batch.Locking < batch.Others.Length && reply.Pool == batch.Others[batch.Locking])
                {
                    batch.Locked[reply.Pool] = reply.Reserves;
                    batch.Holders[reply.Pool] = sender;
                    if (++batch.Locking < batch.Others.Length) AskLock(batch);
                    else if (_settings.HoldRouteDecisions?.Invoke() != true) DecideBatch(batch, now, events, after);
                }
                break;
            case DecideRoutes decide:
                if (_batches.TryGetValue(decide.Batch, out var held) && held.Locking == held.Others.Length) DecideBatch(held, now, events, after);
                break;
            case PoolUnlockedAck ack:
                if (_state.RouteUnlocks.TryGetValue(ack.Saga, out var owed) && owed.ContainsKey(ack.Pool))
                {
                    var unlocked = new RouteBatchUnlocked(ack.Saga, ack.Pool, now);
                    Apply(unlocked);
                    _acksUnwritten.Add(unlocked);
                }
                break;
            case WriteAcks:
                // Nothing else is being written: the acknowledgements get a write of their own.
                TakeAcks(events);
                break;
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

    /// <summary>
    /// Starts a batch for each set of other pools that has routes waiting and no batch locking, unless this pool is locked
    /// or another's lock request waits for it (then the routes wait for the next round).
    /// </summary>
    protected override void AfterFlush()
    {
        base.AfterFlush();
        if (_routesWaiting.Count == 0 || _state.LockedBy is not null) return;
        var started = false;
        foreach (var (key, (others, age, routes)) in _routesWaiting)
        {
            if (age >= _awaitedAge || !_locking.Add(key)) continue;
            _routesWaiting.Remove(key);
            // The batch's lock expiry is its age, the older of two batches the one whose locks expire first; routes that
            // waited long (their pool locked by a slow saga) still get half the usual lifetime, and stay older than newcomers.
            var expires = Math.Max(age, Now + (long)_settings.RouteLockTimeout.TotalMilliseconds / 2);
            var batch = new RouteBatch(RouteDesk.BatchKey(_state.Id, Guid.NewGuid().ToString("N")), others, key, expires, routes);
            _batches[batch.Key] = batch;
            AskLock(batch);
            started = true;
        }
        if (started && !Timers.IsTimerActive(RouteRetryTick.Instance))
            Timers.StartPeriodicTimer(RouteRetryTick.Instance, RouteRetryTick.Instance, _settings.RouteRetryAfter);
    }

    /// <summary>
    /// A command's age, in the unit of lock expiries: the expiry a lock taken for it now would get. Sagas' and batches' lock
    /// requests carry theirs (<see cref="LockPool.ExpiresAt"/>), so ages and expiries compare.
    /// </summary>
    private long ArrivalAge => Now + (long)_settings.RouteLockTimeout.TotalMilliseconds;

    /// <summary>
    /// Whether another's lock request must wait for this pool's own batches (wound-wait by age): every batch of its own still
    /// waiting for a lock and younger than the request gives way first, so the older never waits for the younger; the request
    /// then waits for the batches left and for routes of its own older than it, which start first.
    /// </summary>
    private bool MustWait(LockPool request)
    {
        foreach (var batch in _batches.Values.ToArray())
            if (batch.Locking < batch.Others.Length && Older(request.ExpiresAt, request.Saga, batch.ExpiresAt, batch.Key)) GiveUp(batch, keepAge: true);
        return _batches.Count > 0 || _routesWaiting.Values.Any(w => w.Age < request.ExpiresAt);
    }

    /// <summary>Ages in order, and the keys between equal ages: no two requests are ever each older than the other.</summary>
    private static bool Older(long age, SagaKey key, long thanAge, SagaKey than) =>
        age != thanAge ? age < thanAge : string.CompareOrdinal(key.Account.Value + "/" + key.Id.Value, than.Account.Value + "/" + than.Id.Value) < 0;

    /// <summary>The oldest lock request still waiting for this pool's batches, once one was withdrawn.</summary>
    private void AwaitOldest() => _awaitedAge = Blocked.OfType<LockPool>().Select(l => l.ExpiresAt).DefaultIfEmpty(long.MaxValue).Min();

    private void AskLock(RouteBatch batch) => _pools.Tell(new LockPool(batch.Others[batch.Locking], batch.Key, batch.ExpiresAt), Self);

    /// <summary>Every other pool of the batch is locked (or refused): price its routes, and once that is durable answer them and unlock the pools.</summary>
    private void DecideBatch(RouteBatch batch, long now, List<IPoolEvent> events, List<Action> after)
    {
        _batches.Remove(batch.Key);
        _locking.Remove(batch.OthersKey);
        var (answers, decided) = RouteDesk.Decide(batch.Key, _state, [.. batch.Routes.Select(r => r.Route)], batch.Locked, now);
        foreach (var answer in answers) Record(answer, events);
        Record(decided, events);
        foreach (var (route, _) in batch.Routes) _routesTaken.Remove((route.Account, route.Id));
        _deciding.Add(batch.Key);
        after.Add(() =>
        {
            _deciding.Remove(batch.Key);
            for (var i = 0; i < answers.Length; i++)
                batch.Routes[i].Sender.Tell(new VenueAnswer(VenueId, answers[i].Id, answers[i].Answer));
        });
        // A locked pool of this node applies its hops as soon as the decision is queued (its write is queued after it); one
        // elsewhere is told once the decision is durable, through its shard, like every retry.
        foreach (var remote in decided.Remote)
        {
            var unlock = new UnlockPool(remote.Pool, batch.Key, true, remote.Hops);
            if (batch.Holders.TryGetValue(remote.Pool, out var holder) && holder is IActorRefScope { IsLocal: true }) Release(holder, unlock, after);
            else after.Add(() => _pools.Tell(unlock, Self));
        }
        LetLockIn();
    }

    /// <summary>With no batch of its own locking nor older routes waiting to start one, the lock requests that waited go first.</summary>
    private void LetLockIn()
    {
        if (_batches.Count > 0 || !LockAwaited || _routesWaiting.Values.Any(w => w.Age < _awaitedAge)) return;
        LetAllIn();
    }

    /// <summary>Everything set aside is decided again, oldest first; a request that must still wait says so again.</summary>
    private void LetAllIn()
    {
        _awaitedAge = long.MaxValue;
        Unblock();
    }

    /// <summary>Sends again what is unanswered; a batch past its lock expiry is given up and its routes wait for the next.</summary>
    private void RetryRoutes()
    {
        foreach (var batch in _batches.Values.ToArray())
            if (Now >= batch.ExpiresAt) GiveUp(batch, keepAge: false);
            else if (batch.Locking < batch.Others.Length) AskLock(batch);
            else if (_settings.HoldRouteDecisions?.Invoke() != true) Queue(new DecideRoutes(batch.Key), Self);
        foreach (var (key, pools) in _state.RouteUnlocks)
            if (!_deciding.Contains(key))
                foreach (var (pool, hops) in pools) _pools.Tell(new UnlockPool(pool, key, true, hops), Self);
        if (_acksUnwritten.Count > 0 && !Writing) Queue(WriteAcks.Instance, Self);
        if (_batches.Count == 0 && _state.RouteUnlocks.Count == 0 && _acksUnwritten.Count == 0) Timers.Cancel(RouteRetryTick.Instance);
        else if (!Timers.IsTimerActive(RouteRetryTick.Instance)) Timers.StartPeriodicTimer(RouteRetryTick.Instance, RouteRetryTick.Instance, _settings.RouteRetryAfter);
        LetLockIn();
        Flush();
    }

    /// <summary>
    /// A batch given up undecided: every pool it asked is told to abort, and its routes go first into the next batch — with
    /// their age if it gave way to an older request, or as new if its locks expired (an old age would expire them at once).
    /// </summary>
    private void GiveUp(RouteBatch batch, bool keepAge)
    {
        _batches.Remove(batch.Key);
        _locking.Remove(batch.OthersKey);
        for (var i = 0; i <= batch.Locking && i < batch.Others.Length; i++) _pools.Tell(new UnlockPool(batch.Others[i], batch.Key, false, []), Self);
        var age = keepAge ? batch.ExpiresAt : ArrivalAge;
        if (_routesWaiting.TryGetValue(batch.OthersKey, out var waiting))
        {
            batch.Routes.AddRange(waiting.Routes);
            age = Math.Min(age, waiting.Age);
        }
        _routesWaiting[batch.OthersKey] = (batch.Others, age, batch.Routes);
    }

    /// <summary>A pool's lock by one of this pool's batches expired: the batch's hops if it was decided (durably), else abort.</summary>
    private void AnswerRouteQuery(QueryRouteBatch query)
    {
        if (_deciding.Contains(query.Batch)) return;
        if (_state.RouteUnlocks.TryGetValue(query.Batch, out var pools) && pools.TryGetValue(query.Locked, out var hops))
        {
            _pools.Tell(new UnlockPool(query.Locked, query.Batch, true, hops), Self);
            return;
        }
        if (_batches.TryGetValue(query.Batch, out var batch))
        {
            if (Now < batch.ExpiresAt) return;
            GiveUp(batch, keepAge: false);
            LetLockIn();
            Flush();
            return;
        }
        // Unknown: never decided, and a batch key is never used again, so it never will be.
        _pools.Tell(new UnlockPool(query.Locked, query.Batch, false, []), Self);
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
        new(_state.Id, _state.AssetA, _state.AssetB, _state.ReserveA, _state.ReserveB, _state.TotalShares, _state.LockedShares, _state.FeeBps, created, _state.LockedBy);
}

internal sealed class LockTick : INoSerializationVerificationNeeded
{
    public static readonly LockTick Instance = new();
}

/// <summary>A batch held by the failpoint with all its locks: decide it now.</summary>
internal sealed record DecideRoutes(SagaKey Batch) : INoSerializationVerificationNeeded;

internal sealed class WriteAcks : INoSerializationVerificationNeeded
{
    public static readonly WriteAcks Instance = new();
}

internal sealed class RouteRetryTick : INoSerializationVerificationNeeded
{
    public static readonly RouteRetryTick Instance = new();
}

/// <summary>A coordinator's batch of routes over the same other pools, taking their locks one after another in id order.</summary>
internal sealed class RouteBatch(SagaKey key, PoolId[] others, string othersKey, long expiresAt, List<(RouteRequest Route, IActorRef Sender)> routes)
{
    public SagaKey Key { get; } = key;
    public PoolId[] Others { get; } = others;
    public string OthersKey { get; } = othersKey;
    public long ExpiresAt { get; } = expiresAt;
    public List<(RouteRequest Route, IActorRef Sender)> Routes { get; } = routes;
    /// <summary>How many of <see cref="Others"/> have answered, and their reserves (null: refused, not locked).</summary>
    public int Locking { get; set; }
    public Dictionary<PoolId, PoolReserves?> Locked { get; } = [];
    /// <summary>The entity that answered for each pool: the incarnation holding the lock.</summary>
    public Dictionary<PoolId, IActorRef> Holders { get; } = [];
}

/// <summary>What a pool persists: the events of one write (group commit), as one journal row.</summary>
public sealed record PoolWrite(IPoolEvent[] Events);
