using Ledger.Contracts.Accounts;
using Ledger.Contracts.Options;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Protocol;

public interface IOptionMessage : IEntityMessage
{
    OptionId Series { get; }
    string IEntityMessage.EntityId => Series.Value;
}

/// <summary>A new series (api.md: <c>POST /v1/options</c>); the decimals are the two assets'.</summary>
public sealed record CreateOption(OptionId Series, AssetId Underlying, AssetId StrikeAsset, OptionKind Kind, Amount Strike, long Expiry, long DisputeMs,
    int UnderlyingDecimals, int StrikeDecimals) : IOptionMessage, IRejectableAsk<OptionView>;

public sealed record GetOption(OptionId Series) : IOptionMessage, IRejectableAsk<OptionView>;

public sealed record SetExpiryPrice(OptionId Series, Amount Price) : IOptionMessage, IRejectableAsk<OptionView>;

/// <summary>A series; <paramref name="OpenInterest"/> is its tokens in holders' hands, <paramref name="Collateral"/> what it holds to pay them.</summary>
public sealed record OptionView(OptionId Id, AssetId Underlying, AssetId StrikeAsset, OptionKind Kind, Amount Strike, long Expiry, long DisputeMs,
    int UnderlyingDecimals, int StrikeDecimals, Amount OpenInterest, Amount Collateral, Amount? ExpiryPrice, bool PriceFinal, bool Created) : ILedgerMessage;

public sealed record GetOptionPosition(OptionId Series, AccountId Account) : IOptionMessage, IRejectableAsk<OptionPositionView>;

public sealed record OptionPositionView(Amount Written, Amount Collateral, bool Settled) : ILedgerMessage;

public sealed record GetOptionHoldings(OptionId Series) : IOptionMessage, IAsk<Holdings>;

public sealed record ExecuteOptionCall(OptionId Series, AccountId Account, TxId Id, OptionCall Call) : IOptionMessage;
