using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Protocol;

public interface IFarmMessage : IEntityMessage
{
    FarmId Farm { get; }
    string IEntityMessage.EntityId => Farm.Value;
}

public sealed record CreateFarm(FarmId Farm, AssetId StakeAsset, AssetId RewardAsset, long DurationMs) : IFarmMessage, IRejectableAsk<FarmView>;

public sealed record GetFarm(FarmId Farm) : IFarmMessage, IRejectableAsk<FarmView>;

public sealed record FarmView(FarmId Id, AssetId StakeAsset, AssetId RewardAsset, long DurationMs, Amount TotalStaked, Amount RewardHeld,
    long PeriodFinish, bool Created) : ILedgerMessage;

public sealed record GetFarmPosition(FarmId Farm, AccountId Account) : IFarmMessage, IRejectableAsk<FarmPositionView>;

public sealed record FarmPositionView(Amount Staked, Amount Earned) : ILedgerMessage;

public sealed record GetFarmHoldings(FarmId Farm) : IFarmMessage, IAsk<Holdings>;

public sealed record ExecuteFarmCall(FarmId Farm, AccountId Account, TxId Id, FarmCall Call) : IFarmMessage;
