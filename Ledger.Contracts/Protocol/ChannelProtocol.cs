using Ledger.Contracts.Accounts;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Protocol;

public interface IChannelMessage : IEntityMessage
{
    ChannelId Channel { get; }
    string IEntityMessage.EntityId => Channel.Value;
}

/// <summary>A new channel (api.md: <c>POST /v1/channels</c>); keys are 64 lowercase hex digits.</summary>
public sealed record OpenChannel(ChannelId Channel, AssetId Asset, AccountId A, AccountId B, string KeyA, string KeyB, long ChallengeMs)
    : IChannelMessage, IRejectableAsk<ChannelView>;

public sealed record GetChannel(ChannelId Channel) : IChannelMessage, IRejectableAsk<ChannelView>;

/// <summary>A unilateral close by a participant, with the other side's newest proof (or none).</summary>
public sealed record CloseChannel(ChannelId Channel, AccountId Account, TxId Id, BalanceProof? Proof) : IChannelMessage, IVenueCommand, IRejectableAsk<ChannelView>;

/// <summary>A cooperative close: the final balances and both participants' signatures of them.</summary>
public sealed record CloseChannelTogether(ChannelId Channel, AccountId Account, TxId Id, Amount BalanceA, Amount BalanceB, string SignatureA,
    string SignatureB) : IChannelMessage, IVenueCommand, IRejectableAsk<ChannelView>;

/// <summary>A newer proof during the challenge window, by anyone but its signer.</summary>
public sealed record UpdateChannel(ChannelId Channel, AccountId Account, TxId Id, BalanceProof Proof) : IChannelMessage, IVenueCommand, IRejectableAsk<ChannelView>;

/// <summary>Settles after the challenge window (by anyone); answered once the settlement is paid.</summary>
public sealed record SettleChannel(ChannelId Channel, AccountId Account, TxId Id) : IChannelMessage, IVenueCommand, IRejectableAsk<ChannelView>;

/// <summary>A channel as api.md shows it; the settlement amounts are zero until it is settled.</summary>
public sealed record ChannelView(ChannelId Id, AssetId Asset, AccountId A, AccountId B, string KeyA, string KeyB, long ChallengeMs, Amount DepositA,
    Amount DepositB, ChannelStatus State, long? ClosesAt, BalanceProof? ProofA, BalanceProof? ProofB, Amount SettleA, Amount SettleB, bool Created)
    : ILedgerMessage;

public sealed record GetChannelHoldings(ChannelId Channel) : IChannelMessage, IAsk<Holdings>;

public sealed record ExecuteChannelCall(ChannelId Channel, AccountId Account, TxId Id, ChannelCall Call) : IChannelMessage;
