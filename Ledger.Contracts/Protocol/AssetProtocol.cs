using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Protocol;

public interface IAssetMessage : IEntityMessage
{
    AssetId Asset { get; }
    string IEntityMessage.EntityId => Asset.Value;
}

public sealed record CreateAsset(AssetId Asset, int Decimals, AccountId Issuer) : IAssetMessage;

public sealed record GetAsset(AssetId Asset) : IAssetMessage;

public sealed record AssetView(AssetId Id, int Decimals, AccountId Issuer, bool Created) : ILedgerMessage;
