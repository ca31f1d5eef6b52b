using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Protocol;

public interface IAssetMessage : IEntityMessage
{
    AssetId Asset { get; }
    string IEntityMessage.EntityId => Asset.Value;
}

public sealed record CreateAsset(AssetId Asset, int Decimals, AccountId Issuer) : IAssetMessage, IRejectableAsk<AssetView>;

public sealed record GetAsset(AssetId Asset) : IAssetMessage, IRejectableAsk<AssetView>;

public sealed record AssetView(AssetId Id, int Decimals, AccountId Issuer, bool Created) : ILedgerMessage;
