using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Governance;

/// <summary>OpenZeppelin's simple counting: against, for, abstain.</summary>
public enum VoteSupport
{
    Against,
    For,
    Abstain,
}

public enum ProposalState
{
    Pending,
    Active,
    Canceled,
    Defeated,
    Succeeded,
    Queued,
    Expired,
    Executed,
}

/// <summary>A governor's rules (api.md 1.1, "Governance"): times in milliseconds, the quorum in basis points of the supply.</summary>
public sealed record GovernorParameters(AssetId Token, long VotingDelayMs, long VotingPeriodMs, Amount ProposalThreshold, int QuorumBps,
    long TimelockMs, long GraceMs);

/// <summary>Everything a governor persists (the durable schema: add fields only with defaults).</summary>
public interface IGovernorEvent;

/// <summary>A call's decision: what it changed, or its refusal (<see cref="Code"/>), remembered under the caller's (account, id).</summary>
public interface IGovernorCall : IGovernorEvent
{
    string? Code { get; }

    /// <summary>The request's idempotency fingerprint (<see cref="GovernorContract.FingerprintOf"/>); 0 in older events.</summary>
    ulong Fingerprint => 0;
}

public sealed record GovernorCreated(GovernorParameters Parameters, long At) : IGovernorEvent;

/// <summary>A proposal made (no code), or the refusal of one. <paramref name="Operations"/> are spent from the treasury.</summary>
public sealed record ProposalSubmitted(AccountId Proposer, TxId Id, string Description, SagaOp[] Operations, long Snapshot, long Deadline,
    string? Code, long At, ulong Fingerprint = 0) : IGovernorCall;

/// <summary>A vote of <paramref name="Weight"/> (the voter's balance at the snapshot); <paramref name="Quorum"/> is recorded with the first.</summary>
public sealed record VoteCast(AccountId Voter, TxId Id, string Proposal, VoteSupport Support, Amount Weight, Amount? Quorum, string? Code, long At,
    ulong Fingerprint = 0) : IGovernorCall;

public sealed record ProposalQueued(AccountId Account, TxId Id, string Proposal, Amount? Quorum, long Eta, string? Code, long At, ulong Fingerprint = 0)
    : IGovernorCall;

public sealed record ProposalCanceled(AccountId Account, TxId Id, string Proposal, string? Code, long At, ulong Fingerprint = 0) : IGovernorCall;

/// <summary>
/// Attempt <paramref name="Attempt"/> of the proposal's batch is about to run (recorded before it starts, so that after
/// a crash the governor asks the same batch for its outcome instead of starting another), or the refusal to run it.
/// </summary>
public sealed record ExecutionStarted(AccountId Account, TxId Id, string Proposal, int Attempt, string? Code, long At, ulong Fingerprint = 0) : IGovernorCall;

/// <summary>The batch of an attempt ended: committed, the proposal is executed; not, it stays queued.</summary>
public sealed record ExecutionEnded(string Proposal, int Attempt, bool Committed, OpOutcome[] Results, long At) : IGovernorEvent;

public sealed class Proposal
{
    public required string Id { get; init; }
    public required AccountId Proposer { get; init; }
    public required string Description { get; init; }
    public required SagaOp[] Operations { get; init; }
    public long Snapshot { get; init; }
    public long Deadline { get; init; }
    public Amount For { get; set; }
    public Amount Against { get; set; }
    public Amount Abstain { get; set; }
    public Dictionary<AccountId, VoteSupport> Voters { get; } = [];
    public Amount? Quorum { get; set; }
    public long? Eta { get; set; }
    public bool Canceled { get; set; }
    public bool Executed { get; set; }
    /// <summary>Batches started so far; the last is in flight while <see cref="Executing"/>.</summary>
    public int Attempts { get; set; }
    public bool Executing { get; set; }
    public OpOutcome[]? Results { get; set; }
}

public sealed class GovernorState
{
    public required GovernorId Id { get; init; }
    public bool Exists { get; set; }
    public GovernorParameters Parameters { get; set; } = null!;
    public long CreatedAt { get; set; }
    public Dictionary<string, Proposal> Proposals { get; } = [];
    public AnswerStore Answers { get; } = new();
}

/// <summary>
/// The rules of a governor (OpenZeppelin Governor with simple counting and a timelock, Compound Bravo's states): pure
/// decisions against the state and the time of the call. Vote weights, the proposer's votes and the quorum come with
/// the calls, read from the token's balances at the proposal's snapshot (<c>balances?at=</c>), which cannot change
/// once the snapshot has passed.
/// </summary>
public static class GovernorContract
{
    /// <summary>Operations a proposal may hold (api.md).</summary>
    public const int OperationsMax = 10;

    /// <summary>State in api.md's order of precedence.</summary>
    public static ProposalState StateOf(GovernorParameters g, Proposal p, long now)
    {
        if (p.Executed) return ProposalState.Executed;
        if (p.Canceled) return ProposalState.Canceled;
        if (now <= p.Snapshot) return ProposalState.Pending;
        if (now <= p.Deadline) return ProposalState.Active;
        if (p.Eta is { } eta) return now > eta + g.GraceMs ? ProposalState.Expired : ProposalState.Queued;
        return Passed(p, p.Quorum) ? ProposalState.Succeeded : ProposalState.Defeated;
    }

    /// <summary>For and abstain reach the quorum, and for beats against (OpenZeppelin's GovernorCountingSimple).</summary>
    public static bool Passed(Proposal p, Amount? quorum) =>
        quorum is { } q && p.For.Value + p.Abstain.Value >= q.Value && p.For.Value > p.Against.Value;

    /// <summary><c>floor(supply · quorum_bps / 10000)</c>, supply being minus the issuer's balance at the snapshot.</summary>
    public static Amount Quorum(GovernorParameters g, Int128 issuerBalance) =>
        issuerBalance >= 0 ? Amount.Zero : new Amount((UInt128)(-issuerBalance) / 10_000 * (UInt128)g.QuorumBps
            + (UInt128)(-issuerBalance) % 10_000 * (UInt128)g.QuorumBps / 10_000);

    public static ProposalSubmitted Propose(GovernorState s, AccountId proposer, TxId id, string description, SagaOp[] operations,
        Amount proposerVotes, long now)
    {
        ProposalSubmitted Refuse(string code) => new(proposer, id, description, operations, 0, 0, code, now);
        if (!s.Exists) return Refuse(Codes.GovernorNotFound);
        var g = s.Parameters;
        if (operations.Length is 0 or > OperationsMax || operations.Any(o => o.Account != s.Id.Treasury)) return Refuse(Codes.InvalidRequest);
        if (s.Proposals.ContainsKey(id.Value)) return Refuse(Codes.IdConflict);
        if (proposerVotes.Value < g.ProposalThreshold.Value) return Refuse(Codes.BelowThreshold);
        var snapshot = now + g.VotingDelayMs;
        return new(proposer, id, description, operations, snapshot, snapshot + g.VotingPeriodMs, null, now);
    }

    public static VoteCast Vote(GovernorState s, AccountId voter, TxId id, string proposal, VoteSupport support, Amount weight, Amount quorum, long now)
    {
        VoteCast Refuse(string code) => new(voter, id, proposal, support, weight, null, code, now);
        if (Find(s, proposal) is not { } p) return Refuse(s.Exists ? Codes.ProposalNotFound : Codes.GovernorNotFound);
        if (StateOf(s.Parameters, p, now) != ProposalState.Active) return Refuse(Codes.ProposalNotActive);
        if (p.Voters.ContainsKey(voter)) return Refuse(Codes.AlreadyVoted);
        return new(voter, id, proposal, support, weight, p.Quorum ?? quorum, null, now);
    }

    public static ProposalQueued Queue(GovernorState s, AccountId account, TxId id, string proposal, Amount quorum, long now)
    {
        ProposalQueued Refuse(string code) => new(account, id, proposal, null, 0, code, now);
        if (Find(s, proposal) is not { } p) return Refuse(s.Exists ? Codes.ProposalNotFound : Codes.GovernorNotFound);
        var q = p.Quorum ?? quorum;
        if (p.Executed || p.Canceled || p.Eta is not null || now <= p.Deadline || !Passed(p, q)) return Refuse(Codes.ProposalNotSucceeded);
        return new(account, id, proposal, q, now + s.Parameters.TimelockMs, null, now);
    }

    public static ProposalCanceled Cancel(GovernorState s, AccountId account, TxId id, string proposal, long now)
    {
        ProposalCanceled Refuse(string code) => new(account, id, proposal, code, now);
        if (Find(s, proposal) is not { } p) return Refuse(s.Exists ? Codes.ProposalNotFound : Codes.GovernorNotFound);
        if (account != p.Proposer) return Refuse(Codes.Forbidden);
        if (StateOf(s.Parameters, p, now) != ProposalState.Pending) return Refuse(Codes.ProposalNotPending);
        return new(account, id, proposal, null, now);
    }

    /// <summary>The next attempt of a queued proposal whose timelock has passed (null: it is executed or one is in flight).</summary>
    public static ExecutionStarted? Execute(GovernorState s, AccountId account, TxId id, string proposal, long now)
    {
        ExecutionStarted Refuse(string code) => new(account, id, proposal, 0, code, now);
        if (Find(s, proposal) is not { } p) return Refuse(s.Exists ? Codes.ProposalNotFound : Codes.GovernorNotFound);
        if (p.Executed || p.Executing) return null;
        var state = StateOf(s.Parameters, p, now);
        if (state != ProposalState.Queued) return Refuse(Codes.ProposalNotSucceeded);
        if (now < p.Eta) return Refuse(Codes.Timelock);
        return new(account, id, proposal, p.Attempts + 1, null, now);
    }

    /// <summary>
    /// The batch an attempt runs: the proposal's operations under ids of their own (<c>proposal:attempt:index</c>, unique
    /// in the treasury), so that a failed attempt's refusals do not answer the next one; the same for the same attempt,
    /// so that after a crash the saga answers with the outcome it reached.
    /// </summary>
    public static SagaOp[] Batch(Proposal p, int attempt) =>
        [.. p.Operations.Select((op, i) =>
        {
            var id = new TxId($"{p.Id}:{attempt}:{i}");
            return op switch
            {
                TransferOp t => t with { Id = id },
                SwapOp w => (SagaOp)(w with { Id = id }),
                _ => throw new ArgumentException($"unknown operation {op.GetType().Name}"),
            };
        })];

    /// <summary>An attempt's outcomes under the proposal's own operation ids.</summary>
    public static OpOutcome[] Results(Proposal p, OpOutcome[] outcomes) =>
        [.. outcomes.Select((o, i) => o with { Id = p.Operations[i].Id })];

    private static Proposal? Find(GovernorState s, string proposal) => s.Exists ? s.Proposals.GetValueOrDefault(proposal) : null;

    public static void Apply(GovernorState s, IGovernorEvent e)
    {
        switch (e)
        {
            case GovernorCreated c:
                (s.Exists, s.Parameters, s.CreatedAt) = (true, c.Parameters, c.At);
                break;
            case ProposalSubmitted p:
                Remember(s, p);
                if (p.Code is null)
                    s.Proposals[p.Id.Value] = new Proposal
                    {
                        Id = p.Id.Value,
                        Proposer = p.Proposer,
                        Description = p.Description,
                        Operations = p.Operations,
                        Snapshot = p.Snapshot,
                        Deadline = p.Deadline,
                    };
                break;
            case VoteCast v:
                Remember(s, v);
                if (v.Code is null && s.Proposals.GetValueOrDefault(v.Proposal) is { } voted)
                {
                    voted.Voters[v.Voter] = v.Support;
                    voted.Quorum ??= v.Quorum;
                    switch (v.Support)
                    {
                        case VoteSupport.For: voted.For = new(checked(voted.For.Value + v.Weight.Value)); break;
                        case VoteSupport.Against: voted.Against = new(checked(voted.Against.Value + v.Weight.Value)); break;
                        default: voted.Abstain = new(checked(voted.Abstain.Value + v.Weight.Value)); break;
                    }
                }
                break;
            case ProposalQueued q:
                Remember(s, q);
                if (q.Code is null && s.Proposals.GetValueOrDefault(q.Proposal) is { } queued) (queued.Quorum, queued.Eta) = (q.Quorum, q.Eta);
                break;
            case ProposalCanceled c:
                Remember(s, c);
                if (c.Code is null && s.Proposals.GetValueOrDefault(c.Proposal) is { } canceled) canceled.Canceled = true;
                break;
            case ExecutionStarted x:
                Remember(s, x);
                if (x.Code is null && s.Proposals.GetValueOrDefault(x.Proposal) is { } started) (started.Attempts, started.Executing) = (x.Attempt, true);
                break;
            case ExecutionEnded x:
                if (s.Proposals.GetValueOrDefault(x.Proposal) is { } ended && ended.Attempts == x.Attempt)
                    (ended.Executing, ended.Executed, ended.Results) = (false, x.Committed, x.Results);
                break;
            default:
                throw new ArgumentException($"unknown governor event {e.GetType().Name}", nameof(e));
        }
    }

    private static void Remember(GovernorState s, IGovernorCall call)
    {
        var (account, id) = AnswerKey(call);
        s.Answers.Remember(account, id, AnswerOf(call));
    }

    /// <summary>Where a call's answer is remembered: under its caller's (account, id).</summary>
    public static (AccountId Account, TxId Id) AnswerKey(IGovernorCall call) => call switch
    {
        ProposalSubmitted p => (p.Proposer, p.Id),
        VoteCast v => (v.Voter, v.Id),
        ProposalQueued q => (q.Account, q.Id),
        ProposalCanceled c => (c.Account, c.Id),
        ExecutionStarted x => (x.Account, x.Id),
        _ => throw new ArgumentException($"unknown governor call {call.GetType().Name}", nameof(call)),
    };

    public static CallAnswer AnswerOf(IGovernorCall call) => new([], call.Code, call.Fingerprint);

    /// <summary>
    /// The idempotency fingerprint of a governor call, from what the caller asked (not the weights the gateway read for
    /// it): the same (account, id) with another request is <c>id_conflict</c>.
    /// </summary>
    public static ulong FingerprintOf(Protocol.IGovernorMessage call) => call switch
    {
        Protocol.Propose p => Fingerprint.Of("propose", p.Description, SagaContract.FingerprintOf(p.Operations).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Protocol.CastVote v => Fingerprint.Of("vote", v.Proposal, v.Support.ToString()),
        Protocol.QueueProposal q => Fingerprint.Of("queue", q.Proposal),
        Protocol.CancelProposal c => Fingerprint.Of("cancel", c.Proposal),
        Protocol.ExecuteProposal x => Fingerprint.Of("execute", x.Proposal),
        _ => throw new ArgumentException($"not a governor call: {call.GetType().Name}", nameof(call)),
    };
}

/// <summary>The persisted form of a <see cref="GovernorState"/>, answers as the venues keep them.</summary>
public sealed record GovernorSnapshot(GovernorParameters? Parameters, long CreatedAt, ProposalEntry[] Proposals, PoolAnswerEntry[] Answers, byte[] Seen,
    byte[] SeenRuns)
{
    public static GovernorSnapshot Of(GovernorState s)
    {
        var (answers, seen, runs) = s.Answers.ToSnapshot();
        return new(s.Exists ? s.Parameters : null, s.CreatedAt, [.. s.Proposals.Values.Select(ProposalEntry.Of)], answers, seen, runs);
    }

    public GovernorState Restore(GovernorState s)
    {
        if (Parameters is not null) GovernorContract.Apply(s, new GovernorCreated(Parameters, CreatedAt));
        foreach (var p in Proposals) s.Proposals[p.Id] = p.Restore();
        s.Answers.Restore(Answers, Seen, SeenRuns);
        return s;
    }
}

public sealed record VoterEntry(AccountId Voter, VoteSupport Support);

public sealed record ProposalEntry(string Id, AccountId Proposer, string Description, SagaOp[] Operations, long Snapshot, long Deadline, Amount For,
    Amount Against, Amount Abstain, VoterEntry[] Voters, Amount? Quorum, long? Eta, bool Canceled, bool Executed, int Attempts, bool Executing,
    OpOutcome[]? Results)
{
    public static ProposalEntry Of(Proposal p) => new(p.Id, p.Proposer, p.Description, p.Operations, p.Snapshot, p.Deadline, p.For, p.Against, p.Abstain,
        [.. p.Voters.Select(v => new VoterEntry(v.Key, v.Value))], p.Quorum, p.Eta, p.Canceled, p.Executed, p.Attempts, p.Executing, p.Results);

    public Proposal Restore()
    {
        var p = new Proposal
        {
            Id = Id,
            Proposer = Proposer,
            Description = Description,
            Operations = Operations,
            Snapshot = Snapshot,
            Deadline = Deadline,
            For = For,
            Against = Against,
            Abstain = Abstain,
            Quorum = Quorum,
            Eta = Eta,
            Canceled = Canceled,
            Executed = Executed,
            Attempts = Attempts,
            Executing = Executing,
            Results = Results,
        };
        foreach (var v in Voters) p.Voters[v.Voter] = v.Support;
        return p;
    }
}
