using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Actors.Sagas;

/// <summary>Limits and timings of a saga coordinator.</summary>
public sealed record SagaSettings
{
    /// <summary>
    /// How long every lock and hold taken for a saga lives. A saga not decided by then aborts (<c>lock_timeout</c>);
    /// a participant still holding by then asks the saga for its decision (presumed abort).
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Unanswered requests to participants are sent again after this long.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// Sagas of one node taking pool locks at once (<see cref="SagaAdmission"/>); the rest wait before they record
    /// anything. Sagas that lock no pool (atomic batches of transfers) are not counted: an account holds amounts, not itself.
    /// </summary>
    public int MaxLocking { get; init; } = 64;
    /// <summary>Sagas of one node waiting for admission; beyond this a request is answered 503, to be retried.</summary>
    public int AdmissionQueueMax { get; init; } = 100_000;
    /// <summary>A finished saga stays in memory this long for retries of the same request, then passivates.</summary>
    public TimeSpan IdleAfter { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// Failpoint for crash tests: how long to wait, with every vote in, before writing the decision — the window
    /// in which a test stops the coordinator's node. Zero in production.
    /// </summary>
    public TimeSpan PauseBeforeDecision { get; init; } = TimeSpan.Zero;
}

/// <summary>
/// Coordinates one multi-party transaction (a route, an atomic batch): a sharded entity keyed by its initiating
/// account and id, listed in the owing index from its intent until it has finished, so that after a crash the
/// node's <see cref="OwingResumer"/> starts it again and it finishes what it began.
/// <para>
/// The protocol (docs/architecture.md, "Sagas"): persist the intent; lock the pools one at a time in id order (a
/// lock queues behind another saga's, and ordered locking cannot deadlock); price every operation against the
/// locked reserves (<see cref="SagaPlanner"/>); ask every account to vote, holding what its legs need; persist
/// the decision — commit only if all said yes before the locks expire; then tell every participant until each
/// has applied it, and only then answer the client. A participant whose lock expires undecided asks; a saga that
/// has not decided by then aborts (presumed abort), so nothing stays held forever.
/// </para>
/// </summary>
public sealed class SagaActor : LedgerPersistentActor, IWithTimers
{
    private readonly SagaKey _key;
    private readonly IActorRef _accounts;
    private readonly IActorRef _pools;
    private readonly IActorRef _admission;
    private readonly TimeProvider _time;
    private readonly SagaSettings _settings;
    private readonly SagaState _state;

    private PoolId[] _poolOrder = [];
    private int _locking;
    private readonly Dictionary<PoolId, PoolReserves?> _locked = [];
    private OpFill[]? _plannedFills;
    private readonly Dictionary<AccountId, PrepareSaga> _awaitingVotes = [];
    /// <summary>The accounts asked for their exact vote; and the balancing transfers paying each account, by operation.</summary>
    private readonly HashSet<AccountId> _asked = [];
    private ILookup<AccountId, int>? _balancingInto;
    /// <summary>The worst-case prepares sent while the pools are being locked, until answered; and the accounts that said yes to theirs.</summary>
    private readonly Dictionary<AccountId, PrepareSaga> _earlyVotes = [];
    private readonly HashSet<AccountId> _earlyYes = [];
    private bool _earlySent;
    private (int Op, string Code)? _firstNo;
    private bool _pausing;
    private readonly HashSet<AccountId> _accountsToTell = [];
    private readonly HashSet<PoolId> _poolsToTell = [];
    private readonly List<IActorRef> _waiters = [];
    private bool _writing;
    /// <summary>The request waiting for admission, and whether this saga holds a place (until its decision is durable).</summary>
    private StartSaga? _admitting;
    private bool _admitted;
    /// <summary>When the step under way began (<see cref="LedgerMetrics.SagaStep"/>).</summary>
    private long _stepStarted;

    private void Step(string ended)
    {
        // A saga resumed after a crash has no start for the step it is in.
        if (_stepStarted != 0) LedgerMetrics.SagaStep(ended, _stepStarted);
        _stepStarted = LedgerMetrics.Start();
    }

    public SagaActor(string entityId, IActorRef accounts, IActorRef pools, IActorRef admission, TimeProvider time, SagaSettings settings)
    {
        _key = SagaKey.Parse(entityId);
        _accounts = accounts;
        _pools = pools;
        _admission = admission;
        _time = time;
        _settings = settings;
        _state = new SagaState { Key = _key };
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, IActorRef accounts, IActorRef pools, IActorRef admission, TimeProvider time, SagaSettings settings) =>
        Akka.Actor.Props.Create(() => new SagaActor(entityId, accounts, pools, admission, time, settings));

    public override string PersistenceId => "saga-" + _key.EntityId;

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case ISagaEvent e:
                SagaContract.Apply(_state, e);
                break;
            case RecoveryCompleted:
                // A saga found mid-way after a crash or a move picks up where its journal says it is.
                if (_state.Phase == SagaPhase.Started) Lock();
                else if (_state.Phase == SagaPhase.Decided) Resolve();
                else PassivateWhenIdle(_settings.IdleAfter);
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case StartSaga start:
                Start(start);
                break;
            case SagaAdmitted:
                if (_admitting is null) _admission.Tell(LeaveSaga.Instance);
                else Admitted();
                break;
            case SagaAdmissionFull:
                _admitting = null;
                foreach (var waiter in _waiters) waiter.Tell(new Busy("too many routes and atomic batches waiting on this node"));
                _waiters.Clear();
                break;
            case QuerySaga query:
                Query(query);
                break;
            case WakeSaga:
                // Listed but with nothing to finish: the crash came before the clear (or, in a journal of an earlier version,
                // which wrote the mark on its own first, between the mark and the intent).
                if (_state.Phase == SagaPhase.Finished || _state.Phase == SagaPhase.New && !_writing && _admitting is null)
                    JournalRef.Tell(new OwingMark(PersistenceId, LastSequenceNr + 1, false));
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
            case ReceiveTimeout:
                if (_state.Phase is SagaPhase.Finished or SagaPhase.New && !_writing && _admitting is null) Context.Parent.Tell(new Passivate(StopEntity.Instance));
                break;
            case StopEntity:
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Start(StartSaga start)
    {
        var (started, rejection) = SagaContract.Start(_state, start.Ops, _settings.LockTimeout, Now);
        if (rejection is not null)
        {
            Sender.Tell(new Rejected(rejection));
            return;
        }
        if (_state.Phase == SagaPhase.Finished)
        {
            Sender.Tell(Outcome());
            return;
        }
        _waiters.Add(Sender);
        if (started is null || _writing || _admitting is not null) return;
        _admitting = start;
        _stepStarted = LedgerMetrics.Start();
        if (SagaPlanner.Pools(start.Ops).Length > 0) _admission.Tell(AdmitSaga.Instance);
        else Admitted();
    }

    /// <summary>Admitted: record the intent, and take the locks.</summary>
    private void Admitted()
    {
        var start = _admitting!;
        var (started, _) = SagaContract.Start(_state, start.Ops, _settings.LockTimeout, Now);
        _admitted = SagaPlanner.Pools(start.Ops).Length > 0;
        _admitting = null;
        if (started is null)
        {
            Leave();
            return;
        }
        if (_admitted) Step("admission");
        _writing = true;
        // Listed in the transaction of its intent, so no participant is ever asked by a saga that the index does not
        // list (the census of an account about to close reads it too).
        JournalRef.Tell(new OwingMark(PersistenceId, LastSequenceNr + 1, true, WithNextWrite: true));
        Persist(started, e =>
        {
            _writing = false;
            Step("intent");
            SagaContract.Apply(_state, e);
            Lock();
        });
    }

    /// <summary>The decision is durable (or there is nothing to decide): the next saga waiting on this node may take its locks.</summary>
    private void Leave()
    {
        if (!_admitted) return;
        _admitted = false;
        _admission.Tell(LeaveSaga.Instance);
    }

    /// <summary>A participant's lock expired undecided: decide abort if nothing is decided yet, else tell it again.</summary>
    private void Query(QuerySaga query)
    {
        switch (_state.Phase)
        {
            case SagaPhase.New:
                // Nothing recorded, so nothing was ever asked of anyone under this key: the answer is abort.
                if (query.Account is { } a) _accounts.Tell(new ResolveSaga(a, _key, false, -1, Codes.LockTimeout, [], null));
                if (query.Pool is { } p) _pools.Tell(new UnlockPool(p, _key, false, []));
                break;
            case SagaPhase.Started:
                Decide(commit: false, -1, Codes.LockTimeout);
                break;
            default:
                if (query.Account is { } account) TellAccount(account);
                if (query.Pool is { } pool) TellPool(pool);
                break;
        }
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
        // A balancing transfer's amount is worked out by its payer's exact vote, so a saga with one votes after the plan.
        if (!_earlySent && _poolOrder.Length > 0 && !_state.Ops.Any(o => o is TransferOp { Balancing: true }))
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
        _earlyVotes.Clear();
        _plannedFills = fills;
        AskVotes(SagaPlanner.Accounts(_state.Ops));
    }

    /// <summary>
    /// Asks for the exact vote of each of <paramref name="candidates"/> not yet asked that can vote now — one paid by a
    /// balancing transfer only once that transfer's payer has said what it moves — and decides when no vote is outstanding.
    /// </summary>
    private void AskVotes(IEnumerable<AccountId> candidates)
    {
        _balancingInto ??= SagaPlanner.BalancingInto(_state.Ops);
        if (_firstNo is null)
            foreach (var account in candidates)
            {
                if (_earlyYes.Contains(account) || _asked.Contains(account) || _balancingInto[account].Any(i => _plannedFills![i].Amounts is null)) continue;
                _asked.Add(account);
                var ops = SagaPlanner.OpsOf(_state.Ops, account);
                _accounts.Tell(_awaitingVotes[account] = new PrepareSaga(account, _key, ops, SagaPlanner.LegsOf(ops, _plannedFills!, account), _state.ExpiresAt));
            }
        if (_awaitingVotes.Count == 0) AllVoted();
    }

    private void Locked(PoolLockReply reply)
    {
        if (_state.Phase != SagaPhase.Started || _writing || _locking >= _poolOrder.Length || reply.Pool != _poolOrder[_locking]) return;
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
        if (_state.Phase != SagaPhase.Started || _writing) return;
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
        var paid = new List<AccountId>();
        foreach (var (op, moved) in vote.Balanced ?? [])
            if (op < _state.Ops.Length && _state.Ops[op] is TransferOp { Balancing: true } t && t.Account == vote.Account && moved <= t.Amount)
            {
                _plannedFills![op] = OpFill.Balanced(moved);
                paid.Add(t.To);
            }
        AskVotes(paid);
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
        if (_state.Phase != SagaPhase.Started || _writing || _pausing || _awaitingVotes.Count > 0 || _plannedFills is null) return;
        if (_firstNo is { } no) Decide(commit: false, no.Op, no.Code);
        else Decide(commit: true, -1, null);
    }

    private bool Expired()
    {
        if (_state.Phase != SagaPhase.Started || Now < _state.ExpiresAt) return false;
        Decide(commit: false, -1, Codes.LockTimeout);
        return true;
    }

    /// <summary>Writes the decision (once), then tells every participant.</summary>
    private void Decide(bool commit, int failedOp, string? code)
    {
        if (_state.Phase != SagaPhase.Started || _writing) return;
        _writing = true;
        _stepStarted = LedgerMetrics.Start();
        Persist(new SagaDecided(commit, failedOp, code, commit ? _plannedFills : null, Now), e =>
        {
            Step("decision");
            LedgerMetrics.SagaDecided(e.Commit);
            _writing = false;
            SagaContract.Apply(_state, e);
            Leave();
            Resolve();
        });
    }

    private void Resolve()
    {
        _awaitingVotes.Clear();
        _accountsToTell.UnionWith(SagaPlanner.Accounts(_state.Ops));
        _poolsToTell.UnionWith(SagaPlanner.Pools(_state.Ops));
        foreach (var account in _accountsToTell) TellAccount(account);
        foreach (var pool in _poolsToTell) TellPool(pool);
        StartRetrying();
        FinishIfAllTold();
    }

    private void TellAccount(AccountId account)
    {
        var ops = SagaPlanner.OpsOf(_state.Ops, account);
        var fills = _state.Commit ? ops.Select(o => _state.Fills![o.Index]).ToArray() : null;
        _accounts.Tell(new ResolveSaga(account, _key, _state.Commit, _state.FailedOp, _state.Code, ops, fills,
            _state.Commit ? SagaPlanner.LegsOf(ops, _state.Fills!, account) : null));
    }

    private void TellPool(PoolId pool) =>
        _pools.Tell(new UnlockPool(pool, _key, _state.Commit, _state.Commit ? SagaPlanner.HopsOf(_state.Ops, _state.Fills!, pool) : []));

    private void FinishIfAllTold()
    {
        if (_state.Phase != SagaPhase.Decided || _writing || _accountsToTell.Count > 0 || _poolsToTell.Count > 0) return;
        _writing = true;
        Step("acknowledgements");
        Persist(new SagaFinished(Now), e =>
        {
            _writing = false;
            Step("finish");
            SagaContract.Apply(_state, e);
            JournalRef.Tell(new OwingMark(PersistenceId, LastSequenceNr, false));
            Timers.Cancel(RetryTick.Instance);
            var outcome = Outcome();
            foreach (var waiter in _waiters) waiter.Tell(outcome);
            _waiters.Clear();
            PassivateWhenIdle(_settings.IdleAfter);
        });
    }

    private SagaOutcome Outcome() => new(_key, _state.Commit, SagaContract.Outcomes(_state));

    private void StartRetrying()
    {
        if (!Timers.IsTimerActive(RetryTick.Instance)) Timers.StartPeriodicTimer(RetryTick.Instance, RetryTick.Instance, _settings.RetryAfter);
    }

    /// <summary>Sends again whatever is unanswered; past the lock expiry an undecided saga aborts.</summary>
    private void Retry()
    {
        if (_writing) return;
        switch (_state.Phase)
        {
            case SagaPhase.Started:
                if (Expired()) return;
                if (_locking < _poolOrder.Length) _pools.Tell(new LockPool(_poolOrder[_locking], _key, _state.ExpiresAt));
                foreach (var prepare in _earlyVotes.Values) _accounts.Tell(prepare);
                foreach (var prepare in _awaitingVotes.Values) _accounts.Tell(prepare);
                break;
            case SagaPhase.Decided:
                foreach (var account in _accountsToTell) TellAccount(account);
                foreach (var pool in _poolsToTell) TellPool(pool);
                break;
            default:
                Timers.Cancel(RetryTick.Instance);
                break;
        }
    }

    protected override IEnumerable<IActorRef> AwaitingWrite => _waiters;

    private sealed class RetryTick : INoSerializationVerificationNeeded
    {
        public static readonly RetryTick Instance = new();
    }

    private sealed class DecideNow : INoSerializationVerificationNeeded
    {
        public static readonly DecideNow Instance = new();
    }
}
