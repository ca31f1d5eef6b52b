using Ledger.Contracts.Governance;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Protocol;

public interface IGovernorMessage : IEntityMessage
{
    GovernorId Governor { get; }
    string IEntityMessage.EntityId => Governor.Value;
}

public sealed record CreateGovernor(GovernorId Governor, GovernorParameters Parameters) : IGovernorMessage, IRejectableAsk<GovernorView>;

public sealed record GetGovernor(GovernorId Governor) : IGovernorMessage, IRejectableAsk<GovernorView>;

public sealed record GovernorView(GovernorId Id, GovernorParameters Parameters, int Proposals, bool Created) : ILedgerMessage;

/// <summary>A proposal; <see cref="ProposerVotes"/> is the proposer's token balance one millisecond before now.</summary>
public sealed record Propose(GovernorId Governor, AccountId Proposer, TxId Id, string Description, SagaOp[] Operations, Amount ProposerVotes)
    : IGovernorMessage, IVenueCommand, IAsk<ProposalView>;

/// <summary>A vote of <see cref="Weight"/> (the voter's balance at the snapshot), with the quorum at the snapshot.</summary>
public sealed record CastVote(GovernorId Governor, string Proposal, AccountId Voter, TxId Id, VoteSupport Support, Amount Weight, Amount Quorum)
    : IGovernorMessage, IVenueCommand, IAsk<ProposalView>;

public sealed record QueueProposal(GovernorId Governor, string Proposal, AccountId Account, TxId Id, Amount Quorum) : IGovernorMessage, IVenueCommand, IAsk<ProposalView>;

public sealed record CancelProposal(GovernorId Governor, string Proposal, AccountId Account, TxId Id) : IGovernorMessage, IVenueCommand, IAsk<ProposalView>;

/// <summary>Runs a queued proposal's operations as one atomic batch from the treasury, once; answered when the batch ends.</summary>
public sealed record ExecuteProposal(GovernorId Governor, string Proposal, AccountId Account, TxId Id) : IGovernorMessage, IVenueCommand, IAsk<ProposalView>;

public sealed record GetProposal(GovernorId Governor, string Proposal) : IGovernorMessage, IAsk<ProposalView>;

/// <summary>
/// A proposal as of now, or the refusal of a call about one (<see cref="Code"/> set; then the other fields describe
/// the proposal if it exists). <see cref="Quorum"/> is null until the first vote or the queueing recorded it.
/// </summary>
public sealed record ProposalView(string Id, AccountId Proposer, string Description, ProposalState State, Amount For, Amount Against, Amount Abstain,
    Amount? Quorum, long Snapshot, long Deadline, long? Eta, SagaOp[] Operations, OpOutcome[]? Results, string? Code) : ILedgerMessage
{
    public static ProposalView Refused(string id, string code) => new(id, default, "", ProposalState.Pending, default, default, default, null, 0, 0, null, [], null, code);
}
