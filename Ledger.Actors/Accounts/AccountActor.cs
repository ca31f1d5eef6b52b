using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Actors.Accounts;

/// <summary>Limits and timings of an account entity (names carry their units).</summary>
public sealed record AccountSettings
{
    /// <summary>Most operations decided together and persisted as one write (group commit).</summary>
    public int GroupCommitMax { get; init; } = 1_000;
    /// <summary>
    /// Events between snapshots — and at least a sixteenth of the transaction hashes the snapshot holds, so that
    /// writing snapshots costs in proportion to the events since the last one and replay stays short (a million-
    /// transfer account: a 12 MB snapshot every 62,500 events; back in 0.6–0.7 s, against 0.8–0.9 s at an eighth).
    /// </summary>
    public int SnapshotEveryEvents { get; init; } = 1_000;
    public TimeSpan RedeliverAfter { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long acknowledgements may wait for another write to ride along before they are written alone.</summary>
    public TimeSpan DeferredFlushAfter { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan IdleAfter { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Most requests held while a recovered account settles what it had in flight; beyond it they are answered 503.</summary>
    public int RecoveryHoldMax { get; init; } = 10_000;
    /// <summary>
    /// Settled transaction records kept in memory once durable; older ones are read back from the journal, from where
    /// each was made (a couple of rows). None by default: a record kept for seconds outlives young-generation
    /// collections and is copied by each (measured in docs/benchmarks.md: p99 175 → 136 ms, 20,400 → 23,000/s).
    /// </summary>
    public int KeepSettled { get; init; }
    /// <summary>Newest transaction-list entries kept in memory; older pages are read back from the journal. None by default, as above.</summary>
    public int HistoryKeep { get; init; }
}

/// <summary>
/// Hosts one account's <see cref="AccountContract"/>: recover → apply; commands → decide → persist → reply.
/// Commands that arrive while a write is in flight queue up and are decided together into the next write
/// (group commit). Transfers need no coordinator: this actor, as payer, persists the debit and then
/// delivers the credit to the payee until the payee acknowledges it durably; the client hears the outcome
/// only then. Deliveries are retried and de-duplicated by (payer, transaction, step).
/// </summary>
public sealed class AccountActor : LedgerPersistentActor, IWithTimers
{
    private readonly AccountId _id;
    private readonly Peers _peers;
    private readonly TimeProvider _time;
    private readonly AccountSettings _settings;
    private AccountState _state;

    private readonly GroupCommit<IAccountEvent> _batch;

    // Sized here, like the state's open records and the group commit's list, so that the arrays a transfer writes
    // into are made together and lie side by side in memory: a young-generation collection scans each 256-byte
    // stretch of old memory written with a new reference since the last one, and neighbours share stretches.
    /// <summary>
    /// Applied but not yet written: what a payee's acknowledgement decided (delivered, or compensated). These
    /// can always be derived again — the payee's side is durable and answers a redelivery the same way — so
    /// they need no write of their own and ride along with the next one.
    /// </summary>
    private readonly List<IAccountEvent> _deferred = new(4);
    private bool _writeDeferredSoon;
    /// <summary>Housekeeping ticks the deferred events have waited, and ticks in a row with nothing owed or deferred.</summary>
    private int _deferredTicks;
    private int _quietTicks;
    private bool _stopRequested;
    private long _eventsSinceSnapshot;

    /// <summary>
    /// After recovery, the transfers and calls the journal shows in flight, until each payee or venue has answered again.
    /// Their outcome may already have been answered to a client before the crash (the payer's record of it is deferred),
    /// so until they settle the account's balances may not be what that client was told.
    /// </summary>
    private HashSet<TxId>? _unsettled;
    /// <summary>Requests that read or spend this account's balances, held (in arrival order) while <see cref="_unsettled"/> is not empty.</summary>
    private List<(object Message, IActorRef Sender)>? _held;

    /// <summary>Decisions waiting for a settled record to be read back from the journal, by the record's key.</summary>
    private readonly Dictionary<(AccountId From, TxId Id), List<Action<long, List<IAccountEvent>, List<Action>>>> _parked = [];
    private readonly HashSet<(AccountId From, TxId Id)> _reading = [];
    /// <summary>Clients waiting for a transaction to settle, by transaction id.</summary>
    private readonly Dictionary<TxId, List<(Reply Reply, int Slot)>> _waiters = new(4);
    /// <summary>Transfers that still owe the payee a step, and pool calls not yet answered, with when they were last sent.</summary>
    private readonly Dictionary<TxId, long> _owed = new(4);
    private ITimer? _expiryTimer;
    private long? _expiryDueAt;
    private ITimer? _holdTimer;
    private long? _holdCheckDueAt;
    /// <summary>
    /// Whether the journal's <see cref="OwingIndex"/> may list this account: marked before the first write that leaves it
    /// owing a step, cleared once nothing is owed. After a crash the listed accounts are started by the node itself.
    /// </summary>
    private bool _markedOwing;
    /// <summary>Whether this account's waker is durably remembered (so a restart wakes it to expire on time).</summary>
    private bool _wakerArmed;
    private bool _arming;
    /// <summary>The time a batch is decided at, and the decision step <see cref="GroupCommit{TEvent}"/> calls (made once, not per batch).</summary>
    private long _decidingAt;
    private readonly GroupCommit<IAccountEvent>.Decide _decide;

    public AccountActor(string entityId, Peers peers, TimeProvider time, AccountSettings settings)
    {
        _id = new AccountId(entityId);
        _peers = peers;
        _time = time;
        _settings = settings;
        _batch = new GroupCommit<IAccountEvent>(settings.GroupCommitMax);
        _decide = (m, s, e, a) => Decide(m, s, _decidingAt, e, a);
        _state = new AccountState { Id = _id, HistoryKeep = settings.HistoryKeep };
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, Peers peers, TimeProvider time, AccountSettings settings) =>
        Akka.Actor.Props.Create(() => new AccountActor(entityId, peers, time, settings));

    public override string PersistenceId => "account-" + _id.Value;

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Events applied while handling this message are written at the next sequence number or later (see <see cref="AccountState.JournalSeq"/>).</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        _state.JournalSeq = LastSequenceNr + 1;
        return base.AroundReceive(receive, message);
    }

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: AccountSnapshot snap } offer:
                _state = snap.Restore(_id, _settings.HistoryKeep);
                _eventsSinceSnapshot = 0;
                break;
            case AccountWrite write:
                foreach (var e in write.Events) AccountContract.Apply(_state, e);
                _eventsSinceSnapshot += write.Events.Length;
                break;
            case IAccountEvent e:
                AccountContract.Apply(_state, e);
                _eventsSinceSnapshot++;
                break;
            case RecoveryCompleted:
                _state.Evict(_settings.KeepSettled, long.MaxValue);
                foreach (var t in _state.Outgoing.Values)
                {
                    if (t.AwaitsDelivery || (t.Call is not null || t.Venue is not null) && t.Status == TransferStatus.InFlight) _owed[t.Id] = long.MinValue;
                    if (t.Status == TransferStatus.InFlight) (_unsettled ??= []).Add(t.Id);
                }
                if (_unsettled is not null) _held = [];
                // Listed or not, a recovered account may have been marked owing by an incarnation that died before clearing it.
                _markedOwing = true;
                ClearOwingIfSettled();
                SendOwed(force: true);
                // Whatever fell due while this account was not running expires before any command is decided.
                _batch.Enqueue(ExpireTick.Instance, ActorRefs.Nobody);
                Self.Tell(Wake.Instance);
                ScheduleExpiry();
                PassivateWhenIdle(_settings.IdleAfter);
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case HousekeepingTick:
                Housekeeping();
                break;
            case DeliveryAck ack:
                Acknowledged(ack);
                break;
            case PoolCallAnswer answer:
                PoolAnswered(answer);
                break;
            case Wake:
                if (!_batch.Writing) Flush();
                break;
            case WakeUp:
                break;
            case HoldTick:
                foreach (var saga in AccountContract.OverdueHolds(_state, Now)) _peers.Sagas.Tell(new QuerySaga(saga, _id, null));
                break;
            case ReadBackDone done:
                _state.Remember(done.Found, done.NotFound);
                foreach (var key in done.Found.Select(t => (t.From, t.Id)).Concat(done.NotFound))
                {
                    _reading.Remove(key);
                    if (_parked.Remove(key, out var retries))
                        foreach (var retry in retries) Enqueue(new Retry(retry), ActorRefs.Nobody);
                }
                break;
            case ReadBackFailed failed:
                _reading.ExceptWith(failed.Keys);
                Timers.StartSingleTimer(ReadBackTick.Instance, ReadBackTick.Instance, _settings.RedeliverAfter);
                break;
            case ReadBackTick:
                ReadBackParked();
                break;
            case WakerArmed:
                _arming = false;
                _wakerArmed = true;
                foreach (var id in _waiters.Keys.ToList()) Settle(id);
                break;
            case ReceiveTimeout:
                if (_waiters.Count == 0 && _owed.Count == 0 && _parked.Count == 0 && _batch.Idle && _deferred.Count == 0 && _state.NextExpiry() is null
                    && _state.Holds.Count == 0 && _held is null)
                    Context.Parent.Tell(new Passivate(StopEntity.Instance));
                break;
            case StopEntity:
                // The shard holds this entity's messages until it stops; a write in flight finishes first.
                _stopRequested = true;
                StopIfIdle();
                break;
            default:
                if (_held is not null && ReadsBalances(message)) Hold(message, Sender);
                else Enqueue(message, Sender);
                break;
        }
    }

    /// <summary>
    /// Whatever reads or spends the balances waits for a recovery's settling; what only adds to them or applies a decision
    /// taken elsewhere (a credit, a saga's outcome) does not, so two recovering accounts that owe each other never wait on
    /// each other. A saga's prepare waits too: it can only wait until that saga's locks expire.
    /// </summary>
    private static bool ReadsBalances(object m) => m is not (Deliver or ResolveSaga or ExpireTick);

    private void Hold(object message, IActorRef sender)
    {
        if (_held!.Count < _settings.RecoveryHoldMax) _held.Add((message, sender));
        else if (sender != ActorRefs.Nobody) sender.Tell(new JournalUnavailable(PersistenceId));
    }

    /// <summary>Once nothing recovered is in flight any more, the account is as its answers said: the held requests go on, in order.</summary>
    private void SettleRecovery()
    {
        if (_unsettled is null) return;
        _unsettled.RemoveWhere(id => !_state.Outgoing.TryGetValue(id, out var t) || t.Status != TransferStatus.InFlight);
        if (_unsettled.Count > 0) return;
        var held = _held!;
        _unsettled = null;
        _held = null;
        foreach (var (message, sender) in held) _batch.Enqueue(message, sender);
        if (!_batch.Writing) Flush();
    }

    private void Enqueue(object message, IActorRef sender)
    {
        _batch.Enqueue(message, sender);
        if (!_batch.Writing) Flush();
    }

    /// <summary>Takes batches (<see cref="GroupCommit{TEvent}"/>) while no write is in flight.</summary>
    private void Flush()
    {
        while (_batch.Ready)
        {
            _decidingAt = Now;
            var (events, after) = _batch.Take(IsQuery, _decide);
            if (events.Count == 0)
            {
                foreach (var a in after) a();
                continue;
            }
            Write(events, after);
        }
        ReadBackParked();
    }

    /// <summary>
    /// One write: the deferred events first (journal order = the order they were applied), then the batch,
    /// as a single journal row. Replies and deliveries go out only once it is durable.
    /// </summary>
    private void Write(List<IAccountEvent> events, List<Action> after)
    {
        if (_deferred.Count > 0)
        {
            events.InsertRange(0, _deferred);
            _deferred.Clear();
            _deferredTicks = 0;
        }
        var marks = _owed.Count > 0 && !_markedOwing;
        _markedOwing |= marks;
        _batch.Started();
        // Everything settled so far is in this write: once it is durable, it may leave memory.
        var durableBefore = _state.SettledTotal;
        _eventsSinceSnapshot += events.Count;
        var started = LedgerMetrics.Start();
        PersistAsync(new AccountWrite([.. events]) { MarksOwing = marks }, _ =>
        {
            LedgerMetrics.Written("account", started, events.Count);
            _batch.Done();
            foreach (var a in after) a();
            _state.Evict(_settings.KeepSettled, durableBefore);
            SendOwed(force: false);
            ScheduleExpiry();
            MaybeSnapshot();
            ClearOwingIfSettled();
            Flush();
            WriteDeferredIfDue();
            StopIfIdle();
        });
    }

    protected override IEnumerable<IActorRef> AwaitingWrite => _batch.Awaiting;

    private void StopIfIdle()
    {
        if (_stopRequested && _batch.Idle) Context.Stop(Self);
    }

    private void WriteDeferredIfDue()
    {
        if (!_writeDeferredSoon || _batch.Writing) return;
        _writeDeferredSoon = false;
        if (_deferred.Count > 0) Write([], []);
    }

    /// <summary>
    /// The payee made steps durable: the outcome is decided, so waiting clients hear it now; the payer's
    /// record of it is deferred to the next write.
    /// </summary>
    private void Acknowledged(DeliveryAck ack)
    {
        var now = Now;
        var urgent = false;
        foreach (var r in ack.Results)
        {
            var acknowledged = AccountContract.Acknowledge(_state, r, now);
            for (var i = 0; i < acknowledged.Count; i++)
            {
                AccountContract.Apply(_state, acknowledged[i]);
                _deferred.Add(acknowledged[i]);
            }
            if (_state.Outgoing.TryGetValue(r.Id, out var t))
            {
                if (!t.AwaitsDelivery) _owed.Remove(r.Id);
                // A confirmed reservation is written at once, so that after a restart it expires on its deadline
                // without waiting for a redelivery round trip.
                urgent |= t.IsPending;
            }
            Settle(r.Id);
        }
        if (urgent) _writeDeferredSoon = true;
        WriteDeferredIfDue();
        if (_deferred.Count > 0) EnsureHousekeeping();
        // A deadline that passed while the reservation was still unconfirmed is due now.
        if (_state.NextExpiry() <= now) Enqueue(ExpireTick.Instance, ActorRefs.Nobody);
        ClearOwingIfSettled();
        SettleRecovery();
    }

    /// <summary>
    /// The pool made its answer durable: the outcome is decided, so waiting clients hear it now, and the
    /// account's record of it rides along with the next write (a redelivery after a crash gets the same answer).
    /// </summary>
    private void PoolAnswered(PoolCallAnswer answer)
    {
        foreach (var e in AccountContract.Answered(_state, answer.Id, answer.Answer, Now))
        {
            AccountContract.Apply(_state, e);
            _deferred.Add(e);
        }
        _owed.Remove(answer.Id);
        Settle(answer.Id);
        if (_deferred.Count > 0) EnsureHousekeeping();
        ClearOwingIfSettled();
        SettleRecovery();
    }

    /// <summary>
    /// Cleared once nothing is owed and every deferred record that moves a balance (a refund, a venue's answer) is durable:
    /// until then a crash would leave the account's journal showing value still on its way. A deferred acknowledgement of
    /// a credit may stay: the payee has that value durably, and the payer reads its own record again on its next start.
    /// </summary>
    private void ClearOwingIfSettled()
    {
        if (!_markedOwing || _owed.Count > 0) return;
        foreach (var e in _deferred)
            if (e is not DeliveryAcknowledged) return;
        JournalRef.Tell(new OwingMark(PersistenceId, LastSequenceNr, false));
        _markedOwing = false;
    }

    private static bool IsQuery(object m) => m is GetAccount or GetTransaction or ListTransactions or GetHoldings;

    /// <summary>Decides again, once the record it names is back in memory.</summary>
    private void Park((AccountId From, TxId Id) key, Action<long, List<IAccountEvent>, List<Action>> retry)
    {
        if (!_parked.TryGetValue(key, out var list)) _parked[key] = list = [];
        list.Add(retry);
    }

    /// <summary>Starts one journal read for every parked key not yet being read.</summary>
    private void ReadBackParked()
    {
        if (_parked.Count == 0) return;
        var keys = _parked.Keys.Where(_reading.Add).ToArray();
        if (keys.Length == 0) return;
        var from = _state.ReadFrom(keys.Select(k => AccountState.KeyHash(k.From, k.Id)));
        Context.ActorOf(AccountReader.Props(JournalRef, PersistenceId, from, new AccountReplay(_id, keys), Self,
            replay => new ReadBackDone([.. replay.Found], [.. replay.NotFound]), new ReadBackFailed(keys)));
    }

    private void Emit(IReadOnlyList<IAccountEvent> decided, List<IAccountEvent> events)
    {
        for (var i = 0; i < decided.Count; i++)
        {
            var e = decided[i];
            AccountContract.Apply(_state, e);
            events.Add(e);
            switch (e)
            {
                case TransferDebited d: _owed[d.Id] = long.MinValue; break;
                case PoolCallSent c: _owed[c.Id] = long.MinValue; break;
                case VenueCallSent c: _owed[c.Id] = long.MinValue; break;
                case PendingPosted p: _owed[p.Id] = long.MinValue; break;
                case PendingVoided v: _owed[v.Id] = long.MinValue; break;
                case PendingExpired x: _owed[x.Id] = long.MinValue; break;
            }
        }
    }

    // Each case that captures the sender in a closure has a method of its own: a closure over a parameter of this method
    // would be allocated on every call, whichever case runs.
    private void Decide(object message, IActorRef sender, long now, List<IAccountEvent> events, List<Action> after)
    {
        switch (message)
        {
            case OpenAccount open:
                Open(open, sender, now, events, after);
                break;
            case GetAccount:
                sender.Tell(_state.Exists ? View(created: false) : new Rejected(Codes.AccountNotFound));
                break;
            case GetHoldings:
                sender.Tell(new Holdings(_state.Holdings()));
                break;
            case GrantIssuer grant:
                Grant(grant, sender, now, events, after);
                break;
            case SubmitTransfers submit:
                {
                    var reply = new Reply(sender, submit.Items.Length, r => new TransferResults(r));
                    for (var i = 0; i < submit.Items.Length; i++)
                        Track(submit.Items[i], static (s, item, t) => AccountContract.StartTransfer(s, item, t), now, reply, i, events, after);
                    break;
                }
            case PostPending post:
                Track(post, static (s, p, t) => AccountContract.Post(s, p.Id, p.Amount, t), now, new Reply(sender, 1, r => r[0]), 0, events, after);
                break;
            case CallPool call:
                Track(call, static (s, c, t) => AccountContract.CallPool(s, c.Id, c.Call, t), now, new Reply(sender, 1, r => r[0]), 0, events, after);
                break;
            case CallVenue call:
                Track(call, static (s, c, t) => AccountContract.CallVenue(s, c.Id, c.Call, t), now, new Reply(sender, 1, r => r[0]), 0, events, after);
                break;
            case VoidPending @void:
                Track(@void, static (s, v, t) => AccountContract.Void(s, v.Id, t), now, new Reply(sender, 1, r => r[0]), 0, events, after);
                break;
            case GetTransaction get:
                Answer(get, sender);
                break;
            case ListTransactions list:
                if (!_state.Exists) sender.Tell(new Rejected(Codes.AccountNotFound));
                else ListPage(list, sender);
                break;
            case Deliver deliver:
                Credit(deliver, sender, now, events, after);
                break;
            case Retry retry:
                retry.Run(now, events, after);
                break;
            case PrepareSaga prepare:
                Prepare(prepare, sender, now, events, after);
                break;
            case ResolveSaga resolve:
                Resolve(resolve, sender, now, events, after);
                break;
            case ExpireTick:
                {
                    _expiryDueAt = null;
                    var due = AccountContract.ExpireDue(_state, now);
                    Emit(due, events);
                    // Nothing due yet (a timer may fire a little early): arm the timer again.
                    if (due.Count == 0) after.Add(ScheduleExpiry);
                    break;
                }
            default:
                Unhandled(message);
                break;
        }
    }

    private void Open(OpenAccount open, IActorRef sender, long now, List<IAccountEvent> events, List<Action> after)
    {
        var wasOpen = _state.Exists;
        var d = AccountContract.Open(_state, open.Owner, now);
        Emit(d.Events, events);
        after.Add(() => sender.Tell(d.Rejection is { } code ? new Rejected(code) : View(created: !wasOpen)));
    }

    private void Grant(GrantIssuer grant, IActorRef sender, long now, List<IAccountEvent> events, List<Action> after)
    {
        Emit(AccountContract.GrantIssuer(_state, grant.Asset, now), events);
        after.Add(() => sender.Tell(new IssuerGrantedAck(_id, grant.Asset)));
    }

    private void Answer(GetTransaction get, IActorRef sender)
    {
        switch (_state.FindOutgoing(get.Id, out var found))
        {
            case Known.Evicted:
                Park((_id, get.Id), (t, e, a) => Decide(get, sender, t, e, a));
                break;
            case Known.Resident when found!.Status == TransferStatus.InFlight:
                // Debited, credit not yet confirmed (just sent, or recovered after a crash before the payee's
                // acknowledgement was written): answer with the outcome, once delivery confirms it.
                Await(get.Id, new Reply(sender, 1, r => r[0]), 0);
                break;
            default:
                sender.Tell(found is null
                    ? new TransferOutcome(null, _state.Exists ? Codes.TransactionNotFound : Codes.AccountNotFound)
                    : new TransferOutcome(TransferView.Of(found), null));
                break;
        }
    }

    /// <summary>Payee: decides a delivery's items; the payer hears of all those decided now in one acknowledgement once durable.</summary>
    private void Credit(Deliver deliver, IActorRef payer, long now, List<IAccountEvent> events, List<Action> after)
    {
        var results = new List<DeliveryResult>(deliver.Items.Length);
        foreach (var item in deliver.Items) Receive(deliver.From, item, payer, now, events, results);
        after.Add(() => payer.Tell(new DeliveryAck(_id, results.ToArray())));
    }

    private void Resolve(ResolveSaga resolve, IActorRef sender, long now, List<IAccountEvent> events, List<Action> after)
    {
        Emit(AccountContract.ResolveSaga(_state, resolve.Saga, resolve.Commit, resolve.FailedOp, resolve.Code, resolve.Ops, resolve.Fills, now), events);
        after.Add(() => sender.Tell(new SagaResolvedAck(_id, resolve.Saga)));
    }

    private void Prepare(PrepareSaga prepare, IActorRef sender, long now, List<IAccountEvent> events, List<Action> after)
    {
        var (decided, failedOp, code) = AccountContract.PrepareSaga(_state, prepare.Saga, prepare.Ops, prepare.Legs, prepare.ExpiresAt, now);
        Emit(decided, events);
        after.Add(() => sender.Tell(new SagaVote(_id, prepare.Saga, failedOp, code)));
    }

    /// <summary>Payee: decides one delivered item; one whose record must be read back is answered on its own later.</summary>
    private void Receive(AccountId from, DeliveryItem item, IActorRef payer, long now, List<IAccountEvent> events, List<DeliveryResult> results)
    {
        var receipt = AccountContract.Receive(_state, from, item, now);
        if (receipt.Recall is { } key)
        {
            ParkReceive(key, from, item, payer);
            return;
        }
        Emit(receipt.Events, events);
        if (receipt.Result is not null) results.Add(receipt.Result);
    }

    // Separate methods, so that the closures are allocated only when a decision is parked.
    private void ParkReceive((AccountId, TxId) key, AccountId from, DeliveryItem item, IActorRef payer) =>
        Park(key, (t, e, a) =>
        {
            var late = new List<DeliveryResult>(1);
            Receive(from, item, payer, t, e, late);
            a.Add(() => payer.Tell(new DeliveryAck(_id, late.ToArray())));
        });

    private void ParkTrack<T>((AccountId, TxId) key, T request, Func<AccountState, T, long, Decision> decide, Reply reply, int slot) =>
        Park(key, (t, e, a) => Track(request, decide, t, reply, slot, e, a));

    /// <summary>
    /// Registers the caller's interest in the transaction a decision is about, or answers a refusal. A
    /// decision that needs a settled record read back first is taken again once it is (it can only be a
    /// repeated request, answered from that record, so it changes no balance and its order does not matter).
    /// </summary>
    private void Track<T>(T request, Func<AccountState, T, long, Decision> decide, long now, Reply reply, int slot, List<IAccountEvent> events, List<Action> after)
    {
        var d = decide(_state, request, now);
        if (d.Recall is { } key)
        {
            ParkTrack(key, request, decide, reply, slot);
            return;
        }
        Emit(d.Events, events);
        if (d.Rejection is { } code)
        {
            after.Add(() => reply.Set(slot, new TransferOutcome(null, code)));
            return;
        }
        var id = d.Awaits!.Value;
        after.Add(() => Await(id, reply, slot));
    }

    private void Await(TxId id, Reply reply, int slot)
    {
        if (!_waiters.TryGetValue(id, out var list)) _waiters[id] = list = new(1);
        list.Add((reply, slot));
        Settle(id);
    }

    /// <summary>Answers everyone waiting on a transaction once its outcome is durable on both sides.</summary>
    private void Settle(TxId id)
    {
        if (!_waiters.TryGetValue(id, out var list)) return;
        var t = _state.Outgoing[id];
        if (t.Status == TransferStatus.InFlight || t.AwaitsDelivery) return;
        // A reservation with a deadline is confirmed only once a restart is sure to wake this account for it.
        if (t.Status == TransferStatus.Pending && t.ExpiresAt is not null && !_wakerArmed) return;
        _waiters.Remove(id);
        var outcome = new TransferOutcome(TransferView.Of(t), null);
        foreach (var (reply, slot) in list) reply.Set(slot, outcome);
    }

    /// <summary>Sends every owed step not sent within the redelivery interval, one message per payee.</summary>
    private void SendOwed(bool force)
    {
        if (_owed.Count == 0) return;
        var now = Environment.TickCount64;
        var due = _settings.RedeliverAfter.Ticks / TimeSpan.TicksPerMillisecond;
        // Fresh each round rather than kept: a long-lived list holding this round's items would be one more old object
        // pointing at young ones, which every young collection must scan.
        List<(AccountId Payee, DeliveryItem Item)>? deliveries = null;
        List<(IActorRef To, object Message, TxId Id)>? calls = null;
        foreach (var (id, sentAt) in _owed)
        {
            if (!force && sentAt != long.MinValue && now - sentAt < due) continue;
            var t = _state.Outgoing[id];
            if (t.Call is { } call)
            {
                (calls ??= []).Add((_peers.Pools, new ExecutePoolCall(call.Pool, _id, id, call), id));
                continue;
            }
            if (t.Venue is { } venue)
            {
                (calls ??= []).Add(venue switch
                {
                    MarketCall m => (_peers.Markets, new ExecuteMarketCall(m.Market, _id, id, m), id),
                    FarmCall f => (_peers.Farms, (object)new ExecuteFarmCall(f.Farm, _id, id, f), id),
                    _ => throw new InvalidOperationException($"unknown venue call {venue.GetType().Name}"),
                });
                continue;
            }
            (deliveries ??= new(1)).Add((t.To, AccountContract.Owed(t)));
        }
        if (calls is not null)
            foreach (var (to, message, id) in calls)
            {
                _owed[id] = now;
                to.Tell(message, Self);
            }
        if (deliveries is not null) SendDeliveries(deliveries, now);
        EnsureHousekeeping();
    }

    /// <summary>One message per payee, in the order each was first owed; most rounds owe one step to one payee.</summary>
    private void SendDeliveries(List<(AccountId Payee, DeliveryItem Item)> deliveries, long now)
    {
        foreach (var (_, item) in deliveries) _owed[item.Id] = now;
        if (deliveries.Count == 1) _peers.Accounts.Tell(new Deliver(deliveries[0].Payee, _id, [deliveries[0].Item]), Self);
        else
            foreach (var toPayee in deliveries.GroupBy(d => d.Payee))
                _peers.Accounts.Tell(new Deliver(toPayee.Key, _id, [.. toPayee.Select(d => d.Item)]), Self);
    }

    /// <summary>
    /// Redelivery and the lone write of deferred acknowledgements run on one repeating tick (every
    /// <see cref="AccountSettings.RedeliverAfter"/>), started when something is owed or deferred and stopped after two
    /// ticks with neither. A one-off timer armed per transfer instead made a scheduler registration that lived a
    /// second or two — long enough to be copied by every young-generation collection (a quarter of what they copied).
    /// </summary>
    private void EnsureHousekeeping()
    {
        if (Timers.IsTimerActive(HousekeepingTick.Instance)) return;
        _quietTicks = 0;
        Timers.StartPeriodicTimer(HousekeepingTick.Instance, HousekeepingTick.Instance, _settings.RedeliverAfter);
    }

    private void Housekeeping()
    {
        SendOwed(force: false);
        if (_deferred.Count > 0 && ++_deferredTicks * _settings.RedeliverAfter >= _settings.DeferredFlushAfter)
        {
            _writeDeferredSoon = true;
            WriteDeferredIfDue();
        }
        if (_owed.Count > 0 || _deferred.Count > 0) _quietTicks = 0;
        else if (++_quietTicks >= 2) Timers.Cancel(HousekeepingTick.Instance);
    }

    /// <summary>
    /// Keeps the expiry timer on the earliest deadline, and the waker armed while any deadline exists: the
    /// timer fires while this actor lives, the waker restarts it after a crash or a restart of the cluster.
    /// </summary>
    private void ScheduleExpiry()
    {
        ScheduleHoldCheck();
        var next = _state.NextExpiry();
        if (next is not null && !_wakerArmed && !_arming)
        {
            _arming = true;
            _peers.Wakers.Tell(new ArmWaker(_id), Self);
        }
        else if (next is null && _wakerArmed)
        {
            _wakerArmed = false;
            _peers.Wakers.Tell(new DisarmWaker(_id), Self);
        }
        if (next == _expiryDueAt) return;
        _expiryTimer?.Dispose();
        _expiryTimer = null;
        _expiryDueAt = next;
        if (next is null) return;
        _expiryTimer = Tick(ExpireTick.Instance, next.Value, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// While a saga hold exists, a timer (on the account's <see cref="TimeProvider"/>) fires from its expiry on,
    /// every redelivery interval, and asks each overdue saga for its decision until it arrives. (After a restart
    /// the saga itself, a remembered entity, tells the account.)
    /// </summary>
    private void ScheduleHoldCheck()
    {
        var next = _state.NextHoldExpiry();
        if (next == _holdCheckDueAt) return;
        _holdTimer?.Dispose();
        _holdTimer = null;
        _holdCheckDueAt = next;
        if (next is null) return;
        _holdTimer = Tick(HoldTick.Instance, next.Value, _settings.RedeliverAfter);
    }

    /// <summary>
    /// A timer of the account's <see cref="TimeProvider"/> telling this actor <paramref name="tick"/> at <paramref name="dueAt"/>
    /// (Unix milliseconds; at once if past), then every <paramref name="period"/>. A method of its
    /// own: the closure over the actor's reference would otherwise be allocated on every call of the method creating
    /// the timer, timer or not (the expiry and hold checks run after every write).
    /// </summary>
    private ITimer Tick(object tick, long dueAt, TimeSpan period)
    {
        var self = Self;
        return _time.CreateTimer(_ => self.Tell(tick), null, TimeSpan.FromMilliseconds(Math.Max(0, dueAt - Now)), period);
    }

    private void MaybeSnapshot()
    {
        // None while deferred events are not yet in the journal: the snapshot would be ahead of it.
        if (_eventsSinceSnapshot < Math.Max(_settings.SnapshotEveryEvents, _state.Seen.Count / 16) || _deferred.Count > 0) return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(AccountSnapshot.Of(_state));
    }

    protected override void PostStop()
    {
        _expiryTimer?.Dispose();
        _holdTimer?.Dispose();
        base.PostStop();
    }

    private AccountView View(bool created) => new(_id, _state.Owner,
        _state.Balances.OrderBy(kv => kv.Key.Value, StringComparer.Ordinal)
            .Select(kv => new BalanceView(kv.Key, kv.Value.Posted, kv.Value.PendingOut, kv.Value.PendingIn)).ToArray(),
        created);

    /// <summary>
    /// One page of the transaction list, newest first, from memory when it holds the page, else read back from
    /// the journal (records still open are taken from memory: they may have changed since they were written).
    /// The read starts where the page's oldest evicted record was made; positions older than the account's list of
    /// history hashes (a snapshot written before it) are found by counting from the start of the journal.
    /// </summary>
    private void ListPage(ListTransactions list, IActorRef sender)
    {
        var end = Math.Clamp(list.Before ?? _state.HistoryCount, 0, _state.HistoryCount);
        var start = Math.Max(0, end - list.Limit);
        // Records in memory are answered as they are now (as views: the reader's answer runs on the reader, which must
        // not touch this actor's state); the rest are read back from the journal.
        var items = new TransferView?[end - start];
        var hashes = new ulong[items.Length];
        Dictionary<ulong, TransferView>? resident = null;
        for (var i = 0; i < items.Length; i++)
        {
            if (_state.HistoryAt(start + i) is { } held)
            {
                items[i] = TransferView.Of(held);
                continue;
            }
            resident ??= ResidentViews();
            if (_state.HistoryKeyAt(start + i) is not { } hash)
            {
                Context.ActorOf(AccountReader.Props(JournalRef, PersistenceId, 0, new AccountReplay(_id, [], null, start, end), sender,
                    replay => Page([.. replay.Positions.Select(t => resident.GetValueOrDefault(AccountState.KeyHash(t.From, t.Id)) ?? TransferView.Of(t))], start),
                    new Rejected(Codes.Unavailable)));
                return;
            }
            hashes[i] = hash;
            items[i] = resident.GetValueOrDefault(hash);
        }
        var wanted = hashes.Where((_, i) => items[i] is null).ToArray();
        if (wanted.Length == 0) sender.Tell(Page(items!, start));
        else
            Context.ActorOf(AccountReader.Props(JournalRef, PersistenceId, _state.ReadFrom(wanted), new AccountReplay(_id, [], wanted), sender,
                replay => Page([.. items.Select((v, i) => v ?? (replay.HistoryEntry(hashes[i]) is { } t ? TransferView.Of(t) : null)).OfType<TransferView>()], start),
                new Rejected(Codes.Unavailable)));
    }

    private Dictionary<ulong, TransferView> ResidentViews()
    {
        var views = new Dictionary<ulong, TransferView>();
        foreach (var t in _state.Outgoing.Values.Concat(_state.Incoming.Values)) views[AccountState.KeyHash(t.From, t.Id)] = TransferView.Of(t);
        return views;
    }

    private IActorRef JournalRef => Persistence.Instance.Apply(Context.System).JournalFor(JournalPluginId);

    private static TransactionPage Page(IReadOnlyList<TransferView> oldestFirst, long start) =>
        new([.. oldestFirst.Reverse()], start > 0 ? (int)start : null);

    /// <summary>One client request: answered once every slot (one per operation) has its outcome.</summary>
    private sealed class Reply(IActorRef to, int slots, Func<TransferOutcome[], object> build)
    {
        private readonly TransferOutcome[] _results = new TransferOutcome[slots];
        private int _remaining = slots;

        public void Set(int slot, TransferOutcome outcome)
        {
            _results[slot] = outcome;
            if (--_remaining == 0) to.Tell(build(_results));
        }
    }

    private sealed class HousekeepingTick : INoSerializationVerificationNeeded
    {
        public static readonly HousekeepingTick Instance = new();
    }

    private sealed class ReadBackTick : INoSerializationVerificationNeeded
    {
        public static readonly ReadBackTick Instance = new();
    }
}

/// <summary>Expiry is due (a timer of the account's <see cref="TimeProvider"/>, or recovery).</summary>
public sealed class ExpireTick : INoSerializationVerificationNeeded
{
    public static readonly ExpireTick Instance = new();
}

/// <summary>A saga hold may be overdue: ask its saga.</summary>
internal sealed class HoldTick : INoSerializationVerificationNeeded
{
    public static readonly HoldTick Instance = new();
}

/// <summary>Decide whatever is queued.</summary>
internal sealed class Wake : INoSerializationVerificationNeeded
{
    public static readonly Wake Instance = new();
}

/// <summary>
/// What an account persists: the events of one write (group commit), as one journal row. The events inside
/// are the contract's; this is only how many of them share a row.
/// </summary>
public sealed record AccountWrite(IAccountEvent[] Events) : IMarksOwing
{
    /// <summary>The write leaves the account owing a step it did not owe before (not persisted: the journal keeps it in its index).</summary>
    public bool MarksOwing { get; init; }
}
