using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Sagas;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Accounts;

/// <summary>Limits and timings of an account entity (names carry their units).</summary>
public sealed record AccountSettings : IEntitySettings
{
    /// <summary>Most operations decided together and persisted as one write (group commit).</summary>
    public int GroupCommitMax { get; init; } = 1_000;
    /// <summary>
    /// Events between snapshots — and at least a sixteenth of the transaction hashes the snapshot holds, so that
    /// writing snapshots costs in proportion to the events since the last one and replay stays short.
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
    /// collections and is copied by each (docs/benchmarks.md, "Read-backs from where a record was made").
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
public sealed partial class AccountActor : EntityHost<IAccountEvent>, IWithTimers
{
    private readonly AccountId _id;
    private readonly Peers _peers;
    private readonly AccountSettings _settings;
    private AccountState _state;

    /// <summary>Clients waiting for a transaction to settle, by transaction id.</summary>
    private readonly Dictionary<TxId, List<(Reply Reply, int Slot)>> _waiters = new(4);

    /// <summary>
    /// Sagas this account said yes to as a payee only, which it recorded nothing for (<see cref="AccountContract.PrepareSaga"/>),
    /// with their lock expiry, until their decision comes: meanwhile the account neither closes nor leaves memory, and
    /// past the expiry it asks, as for a hold.
    /// </summary>
    private readonly Dictionary<SagaKey, long> _promised = [];
    /// <summary>
    /// Recovered open from its journal: an earlier incarnation's <see cref="_promised"/> died with it, so before it first
    /// closes the account asks its node's <see cref="SagaCensus"/> whether any unfinished saga names it.
    /// </summary>
    private bool _earlierPromises;
    /// <summary>Closes waiting for the census's answer.</summary>
    private List<(CloseAccount Close, IActorRef Sender)>? _closing;

    public AccountActor(string entityId, Peers peers, TimeProvider time, AccountSettings settings) : base(settings, time, "account")
    {
        _id = new AccountId(entityId);
        _peers = peers;
        _settings = settings;
        _state = new AccountState { Id = _id, HistoryKeep = settings.HistoryKeep };
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, Peers peers, TimeProvider time, AccountSettings settings) =>
        Akka.Actor.Props.Create(() => new AccountActor(entityId, peers, time, settings));

    public override string PersistenceId => "account-" + _id.Value;

    /// <summary>Events applied while handling this message are written at the next sequence number or later (see <see cref="AccountState.JournalSeq"/>).</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        _state.JournalSeq = LastSequenceNr + 1;
        return base.AroundReceive(receive, message);
    }

    protected override void Apply(IAccountEvent e) => AccountContract.Apply(_state, e);

    protected override IReadOnlyList<IAccountEvent> Recovered(object persisted) => persisted switch
    {
        AccountWrite w => w.Events,
        IAccountEvent e => [e],
        _ => [],
    };

    protected override object Snapshot() => AccountSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((AccountSnapshot)snapshot).Restore(_id, _settings.HistoryKeep);

    protected override void OnRecovered()
    {
        _state.Evict(_settings.KeepSettled, long.MaxValue);
        _outbox.Recovered(_state);
        foreach (var t in _state.Outgoing.Values)
            if (t.Status == TransferStatus.InFlight) (_unsettled ??= []).Add(t.Id);
        if (_unsettled is not null) _held = [];
        // Listed or not, a recovered account may have been marked owing by an incarnation that died before clearing it.
        _markedOwing = true;
        _earlierPromises = _state.Exists && !_state.Closed;
        ClearOwingIfSettled();
        SendOwed(force: true);
        // Whatever fell due while this account was not running expires before any command is decided.
        Queue(ExpireTick.Instance, ActorRefs.Nobody);
        Self.Tell(Wake.Instance);
        ScheduleExpiry();
    }

    protected override void OnMessage(object message)
    {
        switch (message)
        {
            case HousekeepingTick:
                Housekeeping();
                break;
            case DeliveryAck ack:
                Acknowledged(ack);
                break;
            case VenueAnswer answer:
                VenueAnswered(answer);
                break;
            case Wake:
                if (!Writing) Flush();
                break;
            case WakeUp:
                break;
            case SagasNamed named:
                CensusAnswered(named);
                break;
            case HoldTick:
                foreach (var saga in AccountContract.OverdueHolds(_state, Now).Concat(_promised.Where(p => p.Value <= Now).Select(p => p.Key)))
                    _peers.Sagas.Tell(new QuerySaga(saga, _id, null));
                ScheduleHoldCheck();
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
            default:
                if (_held is not null && ReadsBalances(message)) Hold(message, Sender);
                else Enqueue(message, Sender);
                break;
        }
    }

    // Payees, venues and the waker answer this actor directly, so a client waiting for them is answered before it stops.
    protected override bool Busy => _parked.Count > 0 || _waiters.Count > 0;

    protected override bool CanPassivate => _waiters.Count == 0 && _outbox.Owed == 0 && _parked.Count == 0 && _outbox.Deferred.Count == 0
        && _state.NextExpiry() is null && _state.Holds.Count == 0 && _promised.Count == 0 && _held is null && _closing is null;

    /// <summary>Everything settled before this write is in it: once it is durable, that may leave memory.</summary>
    private long _durableBefore;

    /// <summary>
    /// One write: the deferred events first (journal order = the order they were applied), then the batch, as a single
    /// journal row, marking the account owing in the journal's index if it now owes a step it did not.
    /// </summary>
    protected override object Persisted(List<IAccountEvent> events)
    {
        if (_outbox.Deferred.Count > 0) _deferredTicks = 0;
        _outbox.TakeDeferred(events);
        // This row's own sequence number, which a checkpoint names: the one set when the message arrived is only a lower
        // bound when this write starts on the previous one's completion.
        _state.JournalSeq = LastSequenceNr + 1;
        if (_state.RecordBalances(Now) is { } balances)
        {
            AccountContract.Apply(_state, balances);
            events.Add(balances);
        }
        var marks = _outbox.Owed > 0 && !_markedOwing;
        _markedOwing |= marks;
        _durableBefore = _state.SettledTotal;
        return new AccountWrite([.. events]) { MarksOwing = marks };
    }

    protected override void OnDurable()
    {
        _state.Evict(_settings.KeepSettled, _durableBefore);
        SendOwed(force: false);
        ScheduleExpiry();
        ClearOwingIfSettled();
    }

    protected override void AfterFlush()
    {
        ReadBackParked();
        WriteDeferredIfDue();
    }

    // None while deferred events are not yet in the journal: the snapshot would be ahead of it.
    protected override bool SnapshotDue => EventsSinceSnapshot >= Math.Max(_settings.SnapshotEveryEvents, _state.Seen.Count / 16) && _outbox.Deferred.Count == 0;

    protected override bool IsQuery(object message) => message is GetAccount or GetTransaction or ListTransactions or GetHoldings or GetBalancesAt;

    private void Emit(IReadOnlyList<IAccountEvent> decided, List<IAccountEvent> events)
    {
        for (var i = 0; i < decided.Count; i++)
        {
            var e = decided[i];
            AccountContract.Apply(_state, e);
            events.Add(e);
            _outbox.Decided(e);
        }
    }

    // Each case that captures the sender in a closure has a method of its own: a closure over a parameter of this method
    // would be allocated on every call, whichever case runs.
    protected override void Decide(object message, IActorRef sender, long now, List<IAccountEvent> events, List<Action> after)
    {
        switch (message)
        {
            case OpenAccount open:
                Open(open, sender, now, events, after);
                break;
            case CloseAccount close when _earlierPromises && !_peers.SagaCensus.IsNobody():
                if ((_closing ??= []).Count == 0) _peers.SagaCensus.Tell(new SagasNaming(_id));
                _closing.Add((close, sender));
                break;
            case CloseAccount close:
                {
                    var d = _promised.Count > 0 ? Decision.Reject(Codes.AccountNotEmpty) : AccountContract.Close(_state, now, close.VenueCallsSeen);
                    Emit(d.Events, events);
                    after.Add(() => sender.Tell(d.Rejection is { } code ? new Rejected(code) : View(created: false)));
                    break;
                }
            case GetAccount:
                sender.Tell(_state.Exists ? View(created: false) : new Rejected(Codes.AccountNotFound));
                break;
            case GetHoldings:
                sender.Tell(new Holdings(_state.Holdings()));
                break;
            case GetBalancesAt get:
                BalancesAt(get.At, sender);
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

    /// <summary>No unfinished saga names this account: no earlier promise can still commit, and the closes go on.</summary>
    private void CensusAnswered(SagasNamed named)
    {
        var closing = _closing ?? [];
        _closing = null;
        if (named.Count == 0) _earlierPromises = false;
        foreach (var (close, sender) in closing)
            if (named.Count == 0) Enqueue(close, sender);
            else sender.Tell(named.Count is null ? new JournalUnavailable(PersistenceId) : new Rejected(Codes.AccountNotEmpty));
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
        _promised.Remove(resolve.Saga);
        Emit(AccountContract.ResolveSaga(_state, resolve.Saga, resolve.Commit, resolve.FailedOp, resolve.Code, resolve.Ops, resolve.Fills, now,
            resolve.Legs), events);
        after.Add(() => sender.Tell(new SagaResolvedAck(_id, resolve.Saga)));
    }

    private void Prepare(PrepareSaga prepare, IActorRef sender, long now, List<IAccountEvent> events, List<Action> after)
    {
        var (decided, failedOp, code) = AccountContract.PrepareSaga(_state, prepare.Saga, prepare.Ops, prepare.Legs, prepare.ExpiresAt, now);
        if (code is null && decided.Count == 0 && AccountContract.IsPayeeOnly(_state, prepare.Ops, prepare.Legs))
        {
            _promised[prepare.Saga] = prepare.ExpiresAt;
            ScheduleHoldCheck();
        }
        Emit(decided, events);
        after.Add(() => sender.Tell(new SagaVote(_id, prepare.Saga, failedOp, code, prepare.WorstCase,
            code is null ? AccountContract.Balanced(_state, prepare.Saga) : null)));
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

    private AccountView View(bool created) => new(_id, _state.Owner,
        _state.Balances.OrderBy(kv => kv.Key.Value, StringComparer.Ordinal)
            .Select(kv => new BalanceView(kv.Key, kv.Value.Posted, kv.Value.PendingOut, kv.Value.PendingIn)).ToArray(),
        created, _state.Closed, _state.Venues.Count > 0 ? [.. _state.Venues] : null, _state.VenueCalls);

    /// <summary>
    /// The balances as they stood at <paramref name="at"/>: those in memory when nothing changed since the last row
    /// recorded at or before it (no write is in flight while a query is decided), else folded from the journal's
    /// records of the balances that follow the last checkpoint at or before it (kept in memory), up to the next — a few
    /// hundred events at most, however long the account's history.
    /// </summary>
    private void BalancesAt(long at, IActorRef sender)
    {
        if (!_state.Exists) sender.Tell(new Rejected(Codes.AccountNotFound));
        else if (_state.CheckpointBefore(at) is not var (from, to)) sender.Tell(new BalancesAtView(_id, at, []));
        else if (at >= _state.BalancesAt && _state.BalancesChanged.Count == 0) sender.Tell(new BalancesAtView(_id, at, View(false).Balances));
        else
        {
            var fold = new BalancesFold(at, from.Balances);
            if (to <= from.Seq) sender.Tell(fold.View(_id));
            else Context.ActorOf(EntityReader.Props(JournalRef, PersistenceId, from.Seq + 1, fold, sender, () => fold.View(_id), new Rejected(Codes.Unavailable), to));
        }
    }


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
