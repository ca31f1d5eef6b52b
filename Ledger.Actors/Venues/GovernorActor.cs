using Akka.Actor;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Governance;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Actors.Venues;

/// <summary>
/// A governor (<see cref="GovernorContract"/>) on the venue host. Executing a proposal is recorded first
/// (<see cref="ExecutionStarted"/>), then its operations run as one atomic batch — a saga keyed by the proposal and the
/// attempt — and the batch's outcome is recorded (<see cref="ExecutionEnded"/>). After a crash between the two, the
/// recovered governor asks the same saga again, which answers with the outcome it reached: the money moves once.
/// Only the newest answers stay in memory, as at every venue: an older one is read back from the journal when its call
/// is repeated, so that a proposal with a million voters does not keep a million answers.
/// </summary>
public sealed class GovernorActor(string entityId, Peers peers, TimeProvider time, VenueSettings settings)
    : VenueActor<IGovernorEvent>("governor", time, settings)
{
    /// <summary>How long one ask of the saga waits before it is asked again (the same saga: idempotent).</summary>
    private static readonly TimeSpan BatchAskTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan BatchRetryAfter = TimeSpan.FromSeconds(1);

    private GovernorState _state = new() { Id = new GovernorId(entityId) };
    /// <summary>Callers waiting for the attempt in flight of a proposal.</summary>
    private readonly Dictionary<string, List<IActorRef>> _waiting = [];
    private int _inFlight;

    public static Props Props(string entityId, Peers peers, TimeProvider time, VenueSettings settings) =>
        Akka.Actor.Props.Create(() => new GovernorActor(entityId, peers, time, settings));

    public override string PersistenceId => "governor-" + _state.Id.Value;

    protected override string VenueId => _state.Id.Value;

    protected override AnswerStore Answers => _state.Answers;

    protected override Func<IGovernorEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> AnswerOf { get; } =
        static e => e is IGovernorCall c ? (GovernorContract.AnswerKey(c), GovernorContract.AnswerOf(c)) : null;

    protected override bool IsQuery(object message) => message is GetGovernor or GetProposal;

    protected override void Apply(IGovernorEvent e) => GovernorContract.Apply(_state, e);

    protected override object Persisted(List<IGovernorEvent> events) => new GovernorWrite([.. events]);

    protected override IReadOnlyList<IGovernorEvent> Recovered(object persisted) => persisted is GovernorWrite w ? w.Events : [];

    protected override object Snapshot() => GovernorSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((GovernorSnapshot)snapshot).Restore(new GovernorState { Id = _state.Id });

    protected override bool Busy => base.Busy || _inFlight > 0;

    /// <summary>An attempt recorded but not ended when the last incarnation stopped: ask its saga for the outcome.</summary>
    protected override void OnRecovered()
    {
        base.OnRecovered();
        foreach (var p in _state.Proposals.Values.Where(p => p.Executing)) RunBatch(p, p.Attempts);
    }

    protected override void OnMessage(object message)
    {
        switch (message)
        {
            case BatchRetry retry:
                _inFlight--;
                if (_state.Proposals.GetValueOrDefault(retry.Proposal) is { Executing: true } p && p.Attempts == retry.Attempt)
                    Timers.StartSingleTimer(retry, new BatchAgain(retry.Proposal, retry.Attempt), BatchRetryAfter);
                break;
            case BatchAgain again:
                if (_state.Proposals.GetValueOrDefault(again.Proposal) is { Executing: true } q && q.Attempts == again.Attempt) RunBatch(q, again.Attempt);
                break;
            case BatchOutcome outcome:
                _inFlight--;
                Enqueue(outcome, ActorRefs.Nobody);
                break;
            default:
                base.OnMessage(message);
                break;
        }
    }

    protected override void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<IGovernorEvent> events, List<Action> after)
    {
        switch (message)
        {
            case CreateGovernor c:
                {
                    var created = !_state.Exists;
                    var same = !_state.Exists || _state.Parameters == c.Parameters;
                    IGovernorEvent[] decided = _state.Exists ? [] : [new GovernorCreated(c.Parameters, now)];
                    Create(decided, same ? null : Codes.GovernorExists, () => View(created), sender, events, after);
                    break;
                }
            case GetGovernor:
                sender.Tell(_state.Exists ? View(false) : new Rejected(Codes.GovernorNotFound));
                break;
            case GetProposal get:
                sender.Tell(ViewOf(get.Proposal, now, null));
                break;
            case Propose m:
                if (!Repeated(m, m.Proposer, m.Id, m.Id.Value, now, sender, after, out var fp))
                    Decided(GovernorContract.Propose(_state, m.Proposer, m.Id, m.Description, m.Operations, m.ProposerVotes, now) with { Fingerprint = fp },
                        m.Id.Value, now, sender, events, after);
                break;
            case CastVote v:
                if (!Repeated(v, v.Voter, v.Id, v.Proposal, now, sender, after, out fp))
                    Decided(GovernorContract.Vote(_state, v.Voter, v.Id, v.Proposal, v.Support, v.Weight, v.Quorum, now) with { Fingerprint = fp }, v.Proposal,
                        now, sender, events, after);
                break;
            case QueueProposal q:
                if (!Repeated(q, q.Account, q.Id, q.Proposal, now, sender, after, out fp))
                    Decided(GovernorContract.Queue(_state, q.Account, q.Id, q.Proposal, q.Quorum, now) with { Fingerprint = fp }, q.Proposal, now, sender, events,
                        after);
                break;
            case CancelProposal c:
                if (!Repeated(c, c.Account, c.Id, c.Proposal, now, sender, after, out fp))
                    Decided(GovernorContract.Cancel(_state, c.Account, c.Id, c.Proposal, now) with { Fingerprint = fp }, c.Proposal, now, sender, events, after);
                break;
            case ExecuteProposal x:
                Execute(x, sender, now, events, after);
                break;
            case BatchOutcome o:
                Ended(o, now, events, after);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// A call made before under the same (account, id): answered with the proposal as it is now and the code it got then
    /// (<c>id_conflict</c> if it asked for something else). Not made before: the request's <paramref name="fingerprint"/> to record.
    /// </summary>
    private bool Repeated(IGovernorMessage call, AccountId account, TxId id, string proposal, long now, IActorRef sender, List<Action> after,
        out ulong fingerprint)
    {
        fingerprint = GovernorContract.FingerprintOf(call);
        if (!MadeBefore((IVenueCommand)call, account, id, fingerprint, sender, out var known)) return false;
        if (known is not null) after.Add(() => sender.Tell(ViewOf(proposal, now, known.Code)));
        return true;
    }

    private void Decided(IGovernorCall decided, string proposal, long now, IActorRef sender, List<IGovernorEvent> events, List<Action> after)
    {
        Record(decided, events);
        after.Add(() => sender.Tell(ViewOf(proposal, now, decided.Code)));
    }

    private void Execute(ExecuteProposal x, IActorRef sender, long now, List<IGovernorEvent> events, List<Action> after)
    {
        var p = _state.Proposals.GetValueOrDefault(x.Proposal);
        var fingerprint = GovernorContract.FingerprintOf(x);
        if (MadeBefore(x, x.Account, x.Id, fingerprint, sender, out var known))
        {
            // The same call again: it waits for the attempt it started, or hears how it ended.
            if (known is null) return;
            if (known.Code is null && p is { Executing: true }) Wait(p, sender);
            else after.Add(() => sender.Tell(ViewOf(x.Proposal, now, known.Code)));
            return;
        }
        if (GovernorContract.Execute(_state, x.Account, x.Id, x.Proposal, now) is not { } execute)
        {
            // Executed already (answered as it stands: exactly once), or an attempt is in flight (wait for it).
            if (p!.Executing) Wait(p, sender);
            else after.Add(() => sender.Tell(ViewOf(x.Proposal, now, null)));
            return;
        }
        var started = execute with { Fingerprint = fingerprint };
        Record(started, events);
        if (started.Code is not null)
        {
            after.Add(() => sender.Tell(ViewOf(x.Proposal, now, started.Code)));
            return;
        }
        Wait(p!, sender);
        after.Add(() => RunBatch(p!, started.Attempt));
    }

    private void Wait(Proposal p, IActorRef sender)
    {
        if (!_waiting.TryGetValue(p.Id, out var list)) _waiting[p.Id] = list = [];
        list.Add(sender);
    }

    private void Ended(BatchOutcome o, long now, List<IGovernorEvent> events, List<Action> after)
    {
        if (_state.Proposals.GetValueOrDefault(o.Proposal) is not { Executing: true } p || p.Attempts != o.Attempt) return;
        var results = o.Outcome is { } outcome
            ? GovernorContract.Results(p, outcome.Results)
            : [.. p.Operations.Select((op, i) => new OpOutcome(op.Id, op.Account, false, i == 0 ? o.Refusal : Codes.LinkedOperationFailed, null))];
        Record(new ExecutionEnded(p.Id, o.Attempt, o.Outcome?.Committed == true, results, now), events);
        var waiting = _waiting.Remove(p.Id, out var list) ? list : [];
        after.Add(() =>
        {
            foreach (var w in waiting) w.Tell(ViewOf(p.Id, now, null));
        });
    }

    /// <summary>Asks the attempt's saga to run (or, if it ran, to tell its outcome); the answer comes back as a message.</summary>
    private void RunBatch(Proposal p, int attempt)
    {
        var ops = GovernorContract.Batch(p, attempt);
        var (proposal, self) = (p.Id, Self);
        _inFlight++;
        peers.Sagas.Ask<ILedgerMessage>(new StartSaga(new SagaKey(ops[0].Account, ops[0].Id), ops), BatchAskTimeout).ContinueWith(t =>
            t.IsCompletedSuccessfully switch
            {
                true when t.Result is SagaOutcome outcome => new BatchOutcome(proposal, attempt, outcome, null),
                true when t.Result is Rejected rejected => new BatchOutcome(proposal, attempt, null, rejected.Code),
                _ => (object)new BatchRetry(proposal, attempt),
            }).PipeTo(self);
    }

    private GovernorView View(bool created) => new(_state.Id, _state.Parameters, _state.Proposals.Count, created);

    /// <summary>The proposal as of now with <paramref name="code"/>; without the proposal, its refusal (or why there is none).</summary>
    private ProposalView ViewOf(string id, long now, string? code)
    {
        if (!_state.Exists || _state.Proposals.GetValueOrDefault(id) is not { } p)
            return ProposalView.Refused(id, code ?? (_state.Exists ? Codes.ProposalNotFound : Codes.GovernorNotFound));
        return new ProposalView(p.Id, p.Proposer, p.Description, GovernorContract.StateOf(_state.Parameters, p, now), p.For, p.Against, p.Abstain,
            p.Quorum, p.Snapshot, p.Deadline, p.Eta, p.Operations, p.Results, code);
    }

    /// <summary>How an attempt's batch ended: its saga's outcome, or the refusal of the whole batch.</summary>
    private sealed record BatchOutcome(string Proposal, int Attempt, SagaOutcome? Outcome, string? Refusal) : INoSerializationVerificationNeeded;

    private sealed record BatchRetry(string Proposal, int Attempt) : INoSerializationVerificationNeeded;

    private sealed record BatchAgain(string Proposal, int Attempt) : INoSerializationVerificationNeeded;
}

/// <summary>What a governor persists: the events of one write (group commit), as one journal row.</summary>
public sealed record GovernorWrite(IGovernorEvent[] Events);
