using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Actors.Sagas;

/// <summary>
/// Runs one multi-party transaction (a route, an atomic batch) for its <see cref="SagaCoordinator"/>, whose child it
/// is: the coordinator records its events (many sagas' in one write) and hands every message about the saga to it.
/// <para>
/// The protocol (docs/architecture.md, "Sagas"): the intent is recorded first; lock the pools one at a time in id
/// order (a lock queues behind another saga's, and ordered locking cannot deadlock); price every operation against
/// the locked reserves (<see cref="SagaPlanner"/>); ask every account to vote, holding what its legs need; record the
/// decision — commit only if all said yes before the locks expire; then tell every participant until each has
/// applied it, and only then answer the client. A participant whose lock expires undecided asks; a saga that has not
/// decided by then aborts (presumed abort), so nothing stays held forever.
/// </para>
/// </summary>
public sealed class SagaRun : UntypedActor, IWithTimers
{
    private readonly SagaKey _key;
    private readonly IActorRef _accounts;
    private readonly IActorRef _pools;
    private readonly TimeProvider _time;
    private readonly SagaSettings _settings;
    private readonly SagaState _state;

    private PoolId[] _poolOrder = [];
    private int _locking;
    private readonly Dictionary<PoolId, PoolReserves?> _locked = [];
    private OpFill[]? _plannedFills;
    private readonly Dictionary<AccountId, PrepareSaga> _awaitingVotes = [];
    /// <summary>The worst-case prepares sent while the pools are being locked, until answered; and the accounts that said yes to theirs.</summary>
    private readonly Dictionary<AccountId, PrepareSaga> _earlyVotes = [];
    private readonly HashSet<AccountId> _earlyYes = [];
    private bool _earlySent;
    private (int Op, string Code)? _firstNo;
    private bool _pausing;
    private readonly HashSet<AccountId> _accountsToTell = [];
    private readonly HashSet<PoolId> _poolsToTell = [];
    private readonly List<IActorRef> _waiters = [];
    /// <summary>What to do once the event the coordinator is recording for this saga is durable (null: nothing is being recorded).</summary>
    private Action? _onRecorded;
    /// <summary>When the step under way began (<see cref="LedgerMetrics.SagaStep"/>).</summary>
    private long _stepStarted;

    private bool Writing => _onRecorded is not null;

    private void Step(string ended)
    {
        // A saga resumed after a crash has no start for the step it is in.
        if (_stepStarted != 0) LedgerMetrics.SagaStep(ended, _stepStarted);
        _stepStarted = LedgerMetrics.Start();
    }

    /// <param name="state">The saga as recorded (this runner's own copy); New when its intent is being recorded now.</param>
    /// <param name="waiter">Who asked for it, answered with the outcome.</param>
    public SagaRun(SagaState state, IActorRef accounts, IActorRef pools, TimeProvider time, SagaSettings settings, IActorRef? waiter)
    {
        _key = state.Key;
        _state = state;
        _accounts = accounts;
        _pools = pools;
        _time = time;
        _settings = settings;
        if (waiter is not null) _waiters.Add(waiter);
        if (_state.Phase == SagaPhase.New)
        {
            _stepStarted = LedgerMetrics.Start();
            _onRecorded = () =>
            {
                Step("intent");
                Lock();
            };
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(SagaState state, IActorRef accounts, IActorRef pools, TimeProvider time, SagaSettings settings, IActorRef? waiter) =>
        Akka.Actor.Props.Create(() => new SagaRun(state, accounts, pools, time, settings, waiter));

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A saga found mid-way after a crash or a move picks up where its record says it is.</summary>
    protected override void PreStart()
    {
        if (_state.Phase == SagaPhase.Started) Lock();
        else if (_state.Phase == SagaPhase.Decided) Resolve();
    }

    /// <summary>Stopped before it answered (its coordinator failed or stopped): whoever asked hears at once, and retries.</summary>
    protected override void PostStop()
    {
        var failed = new JournalUnavailable("saga-" + _key.EntityId);
        foreach (var waiter in _waiters.Where(LedgerPersistentActor.IsAsker)) waiter.Tell(failed);
        base.PostStop();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case SagaRecorded recorded:
                SagaContract.Apply(_state, recorded.Event);
                var then = _onRecorded;
                _onRecorded = null;
                then?.Invoke();
                break;
            case StartSaga:
                // The coordinator checked it is the same request: one more to answer.
                if (_state.Phase == SagaPhase.Finished) Sender.Tell(Outcome());
                else _waiters.Add(Sender);
                break;
            case QuerySaga query:
                Query(query);
                break;
            case PoolLockReply reply:
                Locked(reply);
                break;
            case SagaVote vote:
                Voted(vote);
                break;
            case DecideNow:
                _pausing = false;
                DecideIfAllVoted();
                break;
            case PoolUnlockedAck ack:
                _poolsToTell.Remove(ack.Pool);
                FinishIfAllTold();
                break;
            case SagaResolvedAck ack:
                _accountsToTell.Remove(ack.Account);
                FinishIfAllTold();
                break;
            case RetryTick:
                Retry();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Asks the coordinator to record <paramref name="e"/> with its next write; <paramref name="then"/> runs once it is durable.</summary>
    private void Record(ISagaEvent e, Action then)
    {
        _onRecorded = then;
        Context.Parent.Tell(new SagaRecord(e));
    }

    /// <summary>A participant's lock expired undecided: decide abort if nothing is decided yet, else tell it again.</summary>
    private void Query(QuerySaga query)
    {
        if (_state.Phase == SagaPhase.Started) Decide(commit: false, -1, Codes.LockTimeout);
        else if (_state.Phase == SagaPhase.Decided) Tell(query, _state, _accounts, _pools);
    }

    /// <summary>Answers a participant's question about a decided saga: the decision again.</summary>
    internal static void Tell(QuerySaga query, SagaState s, IActorRef accounts, IActorRef pools)
    {
        if (query.Account is { } account) TellAccount(account, s, accounts);
        if (query.Pool is { } pool) TellPool(pool, s, pools);
    }

    /// <summary>
    /// Locks the pools one at a time in id order — asking the accounts meanwhile to hold for the worst case, so that
    /// their writes are not made while the pools wait — then plans, and asks for the exact vote of every account that
    /// has not said yes to the worst case.
    /// </summary>
    private void Lock()
    {
        if (_poolOrder.Length == 0) _poolOrder = SagaPlanner.Pools(_state.Ops);
        StartRetrying();
        if (Expired()) return;
        if (!_earlySent && _poolOrder.Length > 0)
        {
            _earlySent = true;
            foreach (var account in SagaPlanner.Accounts(_state.Ops))
            {
                var ops = SagaPlanner.OpsOf(_state.Ops, account);
                _accounts.Tell(_earlyVotes[account] = new PrepareSaga(account, _key, ops, SagaPlanner.WorstCaseLegsOf(ops, account), _state.ExpiresAt, WorstCase: true));
            }
        }
        if (_locking < _poolOrder.Length)
        {
            _pools.Tell(new LockPool(_poolOrder[_locking], _key, _state.ExpiresAt));
            return;
        }
        var (fills, failedOp, code) = SagaPlanner.Plan(_state.Ops, _locked, Now);
        if (fills is null)
        {
            Decide(commit: false, failedOp, code);
            return;
        }
        foreach (var account in SagaPlanner.Accounts(_state.Ops))
        {
            if (_earlyYes.Contains(account)) continue;
            var ops = SagaPlanner.OpsOf(_state.Ops, account);
            _awaitingVotes[account] = new PrepareSaga(account, _key, ops, SagaPlanner.LegsOf(ops, fills, account), _state.ExpiresAt);
        }
        _earlyVotes.Clear();
        _plannedFills = fills;
        foreach (var prepare in _awaitingVotes.Values) _accounts.Tell(prepare);
        if (_awaitingVotes.Count == 0) AllVoted();
    }

    private void Locked(PoolLockReply reply)
    {
        if (_state.Phase != SagaPhase.Started || Writing || _locking >= _poolOrder.Length || reply.Pool != _poolOrder[_locking]) return;
        if (reply.Code is { } code)
        {
            // No such pool: the first operation that routes through it fails.
            var op = Array.FindIndex(_state.Ops, o => o is SwapOp s && s.Route.Contains(reply.Pool));
            Decide(commit: false, op, code);
            return;
        }
        _locked[reply.Pool] = reply.Reserves;
        _locking++;
        Step("lock");
        Lock();
    }

    private void Voted(SagaVote vote)
    {
        if (_state.Phase != SagaPhase.Started || Writing) return;
        if (vote.WorstCase)
        {
            // A yes holds enough whatever the fills; a no only says the worst case does not fit: the exact vote decides.
            if (vote.Code is not null) return;
            if (_plannedFills is null)
            {
                if (_earlyVotes.Remove(vote.Account)) _earlyYes.Add(vote.Account);
                return;
            }
        }
        if (!_awaitingVotes.Remove(vote.Account)) return;
        if (vote.Code is { } code && (_firstNo is null || vote.FailedOp < _firstNo.Value.Op)) _firstNo = (vote.FailedOp, code);
        if (_awaitingVotes.Count == 0) AllVoted();
    }

    /// <summary>Every account has voted (or said yes to the worst case): decide, after the crash tests' pause if one is set.</summary>
    private void AllVoted()
    {
        Step("votes");
        if (_settings.PauseBeforeDecision > TimeSpan.Zero && _firstNo is null)
        {
            _pausing = true;
            Timers.StartSingleTimer(DecideNow.Instance, DecideNow.Instance, _settings.PauseBeforeDecision);
            return;
        }
        DecideIfAllVoted();
    }

    private void DecideIfAllVoted()
    {
        if (_state.Phase != SagaPhase.Started || Writing || _pausing || _awaitingVotes.Count > 0 || _plannedFills is null) return;
        if (_firstNo is { } no) Decide(commit: false, no.Op, no.Code);
        else Decide(commit: true, -1, null);
    }

    private bool Expired()
    {
        if (_state.Phase != SagaPhase.Started || Now < _state.ExpiresAt) return false;
        Decide(commit: false, -1, Codes.LockTimeout);
        return true;
    }

    /// <summary>Records the decision (once), then tells every participant.</summary>
    private void Decide(bool commit, int failedOp, string? code)
    {
        if (_state.Phase != SagaPhase.Started || Writing) return;
        _stepStarted = LedgerMetrics.Start();
        Record(new SagaDecided(commit, failedOp, code, commit ? _plannedFills : null, Now, _key), () =>
        {
            Step("decision");
            LedgerMetrics.SagaDecided(_state.Commit);
            Resolve();
        });
    }

    private void Resolve()
    {
        _awaitingVotes.Clear();
        _accountsToTell.UnionWith(SagaPlanner.Accounts(_state.Ops));
        _poolsToTell.UnionWith(SagaPlanner.Pools(_state.Ops));
        foreach (var account in _accountsToTell) TellAccount(account, _state, _accounts);
        foreach (var pool in _poolsToTell) TellPool(pool, _state, _pools);
        StartRetrying();
        FinishIfAllTold();
    }

    private static void TellAccount(AccountId account, SagaState s, IActorRef accounts)
    {
        var ops = SagaPlanner.OpsOf(s.Ops, account);
        var fills = s.Commit ? ops.Select(o => s.Fills![o.Index]).ToArray() : null;
        accounts.Tell(new ResolveSaga(account, s.Key, s.Commit, s.FailedOp, s.Code, ops, fills,
            s.Commit ? SagaPlanner.LegsOf(ops, s.Fills!, account) : null));
    }

    private static void TellPool(PoolId pool, SagaState s, IActorRef pools) =>
        pools.Tell(new UnlockPool(pool, s.Key, s.Commit, s.Commit ? SagaPlanner.HopsOf(s.Ops, s.Fills!, pool) : []));

    /// <summary>
    /// Every participant has applied the decision: the client is answered now, and the saga's end is recorded with the
    /// coordinator's next write — nobody waits for it, since the outcome is durable everywhere already. If it is lost
    /// in a crash, the saga resolves again after recovery and every participant answers as before.
    /// </summary>
    private void FinishIfAllTold()
    {
        if (_state.Phase != SagaPhase.Decided || Writing || _accountsToTell.Count > 0 || _poolsToTell.Count > 0) return;
        Step("acknowledgements");
        var finished = new SagaFinished(Now, _key);
        SagaContract.Apply(_state, finished);
        Timers.Cancel(RetryTick.Instance);
        var outcome = Outcome();
        foreach (var waiter in _waiters) waiter.Tell(outcome);
        _waiters.Clear();
        Context.Parent.Tell(new SagaRecord(finished));
    }

    private SagaOutcome Outcome() => Outcome(_state);

    internal static SagaOutcome Outcome(SagaState s) => new(s.Key, s.Commit, SagaContract.Outcomes(s));

    private void StartRetrying()
    {
        if (!Timers.IsTimerActive(RetryTick.Instance)) Timers.StartPeriodicTimer(RetryTick.Instance, RetryTick.Instance, _settings.RetryAfter);
    }

    /// <summary>Sends again whatever is unanswered; past the lock expiry an undecided saga aborts.</summary>
    private void Retry()
    {
        if (Writing) return;
        switch (_state.Phase)
        {
            case SagaPhase.Started:
                if (Expired()) return;
                if (_locking < _poolOrder.Length) _pools.Tell(new LockPool(_poolOrder[_locking], _key, _state.ExpiresAt));
                foreach (var prepare in _earlyVotes.Values) _accounts.Tell(prepare);
                foreach (var prepare in _awaitingVotes.Values) _accounts.Tell(prepare);
                break;
            case SagaPhase.Decided:
                foreach (var account in _accountsToTell) TellAccount(account, _state, _accounts);
                foreach (var pool in _poolsToTell) TellPool(pool, _state, _pools);
                break;
            default:
                Timers.Cancel(RetryTick.Instance);
                break;
        }
    }

    private sealed class RetryTick : INoSerializationVerificationNeeded
    {
        public static readonly RetryTick Instance = new();
    }

    private sealed class DecideNow : INoSerializationVerificationNeeded
    {
        public static readonly DecideNow Instance = new();
    }
}

/// <summary>Runner → coordinator: record this event of my saga with your next write.</summary>
internal sealed record SagaRecord(ISagaEvent Event) : INoSerializationVerificationNeeded;

/// <summary>Coordinator → runner: the event is durable.</summary>
internal sealed record SagaRecorded(ISagaEvent Event) : INoSerializationVerificationNeeded;
