using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Protocol;

// ---- oracle: one entity holding every price, so that a reading of two prices is consistent ----------------

public interface IOracleMessage : IEntityMessage
{
    string IEntityMessage.EntityId => "oracle";
}

/// <summary>The value of one whole token of <see cref="Asset"/> in the quote unit (WAD). Answered with <see cref="PricesRead"/>.</summary>
public sealed record SetPrice(AssetId Asset, Amount Price) : IOracleMessage, IAsk<PricesRead>;

/// <summary>Answered with <see cref="PricesRead"/>: the prices in the order asked (zero: not set), and the reading's version.</summary>
public sealed record ReadPrices(AssetId[] Assets) : IOracleMessage, IAsk<PricesRead>;

public sealed record PricesRead(Amount[] Prices, long Version) : ILedgerMessage;
