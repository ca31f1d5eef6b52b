using Ledger.Contracts.Accounts;
using Ledger.Contracts.Perps;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Protocol;

public interface IPerpMessage : IEntityMessage
{
    PerpId Perp { get; }
    string IEntityMessage.EntityId => Perp.Value;
}

public sealed record CreatePerp(PerpId Perp, PerpParameters Parameters) : IPerpMessage, IRejectableAsk<PerpView>;

public sealed record GetPerp(PerpId Perp) : IPerpMessage, IRejectableAsk<PerpView>;

/// <summary>A market as of now: skew and open interest (underlying base units), funding rate and velocity (WAD per day), the vault (margin base units), the mark price (WAD, null without one).</summary>
public sealed record PerpView(PerpId Id, PerpParameters Parameters, Int128 Skew, Amount LongOpenInterest, Amount ShortOpenInterest, Int128 FundingRate,
    Int128 FundingVelocity, Amount Vault, Amount? Price, bool Created) : ILedgerMessage;

public sealed record GetPerpPosition(PerpId Perp, AccountId Account) : IPerpMessage, IRejectableAsk<PerpPositionView>;

/// <summary>A position at the mark price: size (underlying base units), entry and liquidation prices (WAD), margin, pnl, funding and equity (margin base units).</summary>
public sealed record PerpPositionView(Int128 Size, Amount EntryPrice, Amount Margin, Int128 Pnl, Int128 Funding, Int128 Equity, Amount? LiquidationPrice,
    Amount VaultShares) : ILedgerMessage;

public sealed record GetPerpHoldings(PerpId Perp) : IPerpMessage, IAsk<Holdings>;

public sealed record ExecutePerpCall(PerpId Perp, AccountId Account, TxId Id, PerpCall Call) : IPerpMessage;
