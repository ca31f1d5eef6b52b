using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Protocol;

public interface IMarketMessage : IEntityMessage
{
    MarketId Market { get; }
    string IEntityMessage.EntityId => Market.Value;
}

public sealed record CreateMarket(MarketId Market, AssetId LoanAsset, AssetId CollateralAsset, int LoanDecimals, int CollateralDecimals, int LltvBps,
    RateModel Rate, int ReserveFactorBps, int LiquidationBonusBps) : IMarketMessage, IRejectableAsk<MarketView>;

public sealed record GetMarket(MarketId Market) : IMarketMessage, IRejectableAsk<MarketView>;

/// <summary>A market's state, accrued to now: amounts in the loan asset's units, rates per year in basis points.</summary>
public sealed record MarketView(MarketId Id, AssetId LoanAsset, AssetId CollateralAsset, int LltvBps, RateModel Rate, int ReserveFactorBps,
    int LiquidationBonusBps, Amount TotalSupplied, Amount TotalBorrowed, Amount Cash, Amount Collateral, Amount Reserves, int UtilizationBps,
    int BorrowRateBps, int SupplyRateBps, bool Created) : ILedgerMessage;

public sealed record GetMarketPosition(MarketId Market, AccountId Account) : IMarketMessage, IRejectableAsk<PositionView>;

/// <summary>A position accrued to now; <see cref="HealthFactor"/> in WAD at the current prices (null: no debt, or no prices).</summary>
public sealed record PositionView(Amount Supplied, Amount Borrowed, Amount Collateral, Amount? HealthFactor) : ILedgerMessage;

public sealed record GetMarketHoldings(MarketId Market) : IMarketMessage, IAsk<Holdings>;

/// <summary>Account → market: execute (or refuse) this call; its inputs are already debited. Answered with <see cref="VenueAnswer"/>.</summary>
public sealed record ExecuteMarketCall(MarketId Market, AccountId Account, TxId Id, MarketCall Call) : IMarketMessage;
