using Ledger.Contracts.Accounts;
using Ledger.Contracts.Farms;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Protocol;

/// <summary>Root of everything that travels between nodes; the wire serializer binds to it.</summary>
public interface ILedgerMessage;

/// <summary>A message for one sharded entity; the extractor routes on <see cref="EntityId"/>.</summary>
public interface IEntityMessage : ILedgerMessage
{
    string EntityId { get; }
}

public interface IAccountMessage : IEntityMessage
{
    AccountId Account { get; }
    string IEntityMessage.EntityId => Account.Value;
}

public interface IAssetMessage : IEntityMessage
{
    AssetId Asset { get; }
    string IEntityMessage.EntityId => Asset.Value;
}

// ---- accounts -------------------------------------------------------------------------------------------

public sealed record OpenAccount(AccountId Account, string Owner) : IAccountMessage;

public sealed record GetAccount(AccountId Account) : IAccountMessage;

/// <summary>Transfers initiated by one payer, decided together and persisted in one write (the batch path).</summary>
public sealed record SubmitTransfers(AccountId Account, TransferRequest[] Items) : IAccountMessage;

public sealed record PostPending(AccountId Account, TxId Id, Amount? Amount) : IAccountMessage;

public sealed record VoidPending(AccountId Account, TxId Id) : IAccountMessage;

public sealed record GetTransaction(AccountId Account, TxId Id) : IAccountMessage;

/// <summary>Newest first; <see cref="Before"/> is the cursor of a previous page.</summary>
public sealed record ListTransactions(AccountId Account, int Limit, int? Before) : IAccountMessage;

public sealed record GrantIssuer(AccountId Account, AssetId Asset) : IAccountMessage;

/// <summary>Payer → payee: the steps it owes. Answered with <see cref="DeliveryAck"/> once durable.</summary>
public sealed record Deliver(AccountId Account, AccountId From, DeliveryItem[] Items) : IAccountMessage;

/// <summary>Payee → payer (to the payer's actor directly).</summary>
public sealed record DeliveryAck(AccountId Payee, DeliveryResult[] Results) : ILedgerMessage;

public sealed record IssuerGrantedAck(AccountId Account, AssetId Asset) : ILedgerMessage;

/// <summary>Starts (recovers) the account if it is not running; nothing else.</summary>
public sealed record WakeUp(AccountId Account) : IAccountMessage;

/// <summary>A swap, deposit or withdrawal of <see cref="Account"/> on a pool; answered with a <see cref="TransferOutcome"/>.</summary>
public sealed record CallPool(AccountId Account, TxId Id, PoolCall Call) : IAccountMessage;

/// <summary>Pool → account (to the account's actor directly): the pool's durable answer to a call.</summary>
public sealed record PoolCallAnswer(PoolId Pool, TxId Id, PoolAnswer Answer) : ILedgerMessage;

/// <summary>What this account holds, for the supply audit; answered with <see cref="Holdings"/>.</summary>
public sealed record GetHoldings(AccountId Account) : IAccountMessage;

/// <summary>A market or farm operation of <see cref="Account"/>; answered with a <see cref="TransferOutcome"/>.</summary>
public sealed record CallVenue(AccountId Account, TxId Id, VenueCall Call) : IAccountMessage;

// ---- account wakers: remembered entities that restart accounts holding expiring reservations ------------

public interface IWakerMessage : IEntityMessage
{
    AccountId Account { get; }
    string IEntityMessage.EntityId => Account.Value;
}

public sealed record ArmWaker(AccountId Account) : IWakerMessage;

public sealed record DisarmWaker(AccountId Account) : IWakerMessage;

public sealed record WakerArmed(AccountId Account) : ILedgerMessage;

// ---- assets ---------------------------------------------------------------------------------------------

public sealed record CreateAsset(AssetId Asset, int Decimals, AccountId Issuer) : IAssetMessage;

public sealed record GetAsset(AssetId Asset) : IAssetMessage;

// ---- pools ----------------------------------------------------------------------------------------------

public interface IPoolMessage : IEntityMessage
{
    PoolId Pool { get; }
    string IEntityMessage.EntityId => Pool.Value;
}

public sealed record CreatePool(PoolId Pool, AssetId AssetA, AssetId AssetB, int FeeBps) : IPoolMessage;

public sealed record GetPool(PoolId Pool) : IPoolMessage;

/// <summary>What this pool holds, for the supply audit; answered with <see cref="Holdings"/>.</summary>
public sealed record GetPoolHoldings(PoolId Pool) : IPoolMessage;

public sealed record QuoteSwap(PoolId Pool, AssetId AssetIn, Amount AmountIn) : IPoolMessage;

/// <summary>Account → pool: execute (or refuse) this call; the inputs are already debited. Redelivered until answered.</summary>
public sealed record ExecutePoolCall(PoolId Pool, AccountId Account, TxId Id, PoolCall Call) : IPoolMessage;

/// <summary>Saga → pool: take the lock (waits while another saga holds it). Answered with <see cref="PoolLockReply"/> once durable.</summary>
public sealed record LockPool(PoolId Pool, SagaKey Saga, long ExpiresAt) : IPoolMessage;

/// <summary>Pool → saga: locked at these reserves, or refused (<see cref="Code"/>).</summary>
public sealed record PoolLockReply(PoolId Pool, SagaKey Saga, PoolReserves? Reserves, string? Code) : ILedgerMessage;

/// <summary>Saga → pool: the decision; committed, the pool executes <see cref="Hops"/>. Answered with <see cref="PoolUnlockedAck"/>.</summary>
public sealed record UnlockPool(PoolId Pool, SagaKey Saga, bool Commit, PoolHop[] Hops) : IPoolMessage;

public sealed record PoolUnlockedAck(PoolId Pool, SagaKey Saga) : ILedgerMessage;

// ---- oracle: one entity holding every price, so that a reading of two prices is consistent ----------------

public interface IOracleMessage : IEntityMessage
{
    string IEntityMessage.EntityId => "oracle";
}

/// <summary>The value of one whole token of <see cref="Asset"/> in the quote unit (WAD). Answered with <see cref="PricesRead"/>.</summary>
public sealed record SetPrice(AssetId Asset, Amount Price) : IOracleMessage;

/// <summary>Answered with <see cref="PricesRead"/>: the prices in the order asked (zero: not set), and the reading's version.</summary>
public sealed record ReadPrices(AssetId[] Assets) : IOracleMessage;

public sealed record PricesRead(Amount[] Prices, long Version) : ILedgerMessage;

// ---- API keys: one entity holding the hash, id and owner of every key issued, and the keys revoked ---------------

public interface IKeyMessage : IEntityMessage
{
    string IEntityMessage.EntityId => "keys";
}

/// <summary>
/// Records a key by its hash (the key itself is never sent or stored) under <see cref="KeyId"/>, a public name for it.
/// Answered with <see cref="KeyIssueResult"/>: the key's entry, or null if the hash or the id is already taken.
/// </summary>
public sealed record IssueKey(string Hash, string Owner, string KeyId) : IKeyMessage;

public sealed record KeyIssueResult(KeyEntry? Key) : ILedgerMessage;

/// <summary>What may be shown of a key: never the key, never its hash.</summary>
public sealed record KeyEntry(string KeyId, string Owner, long CreatedAt) : ILedgerMessage;

/// <summary>
/// Answered with <see cref="KeyOwner"/>: the owner, or null for an unknown or revoked hash, with the store's
/// <see cref="KeyOwner.Version"/> (the number of revocations) at the time of the answer.
/// </summary>
public sealed record FindKey(string Hash) : IKeyMessage;

public sealed record KeyOwner(string? Owner, long Version) : ILedgerMessage;

/// <summary>Answered with <see cref="KeyList"/>: every key not revoked, newest first.</summary>
public sealed record ListKeys : IKeyMessage;

public sealed record KeyList(KeyEntry[] Items) : ILedgerMessage;

/// <summary>Revokes a key for good, durably before the answer. Answered with <see cref="KeyRevocation"/> (false: no such key, or already revoked).</summary>
public sealed record RevokeKey(string KeyId) : IKeyMessage;

public sealed record KeyRevocation(bool Revoked, long Version) : ILedgerMessage;

/// <summary>
/// A gateway's poll: the hashes revoked after version <see cref="Since"/>. Answered with <see cref="KeyChanges"/>;
/// <see cref="KeyChanges.Reset"/> when the gap is too long to list (or the store is behind the asker): drop every cached key.
/// </summary>
public sealed record WatchKeys(long Since) : IKeyMessage;

public sealed record KeyChanges(long Version, string[] Revoked, bool Reset) : ILedgerMessage;

// ---- lending markets and staking farms ----------------------------------------------------------------------

public interface IMarketMessage : IEntityMessage
{
    MarketId Market { get; }
    string IEntityMessage.EntityId => Market.Value;
}

public sealed record CreateMarket(MarketId Market, AssetId LoanAsset, AssetId CollateralAsset, int LoanDecimals, int CollateralDecimals, int LltvBps,
    RateModel Rate, int ReserveFactorBps, int LiquidationBonusBps) : IMarketMessage;

public sealed record GetMarket(MarketId Market) : IMarketMessage;

public sealed record GetMarketPosition(MarketId Market, AccountId Account) : IMarketMessage;

public sealed record GetMarketHoldings(MarketId Market) : IMarketMessage;

/// <summary>Account → market: execute (or refuse) this call; its inputs are already debited. Answered with <see cref="PoolCallAnswer"/>.</summary>
public sealed record ExecuteMarketCall(MarketId Market, AccountId Account, TxId Id, MarketCall Call) : IMarketMessage;

/// <summary>A market's state, accrued to now: amounts in the loan asset's units, rates per year in basis points.</summary>
public sealed record MarketView(MarketId Id, AssetId LoanAsset, AssetId CollateralAsset, int LltvBps, RateModel Rate, int ReserveFactorBps,
    int LiquidationBonusBps, Amount TotalSupplied, Amount TotalBorrowed, Amount Cash, Amount Collateral, Amount Reserves, int UtilizationBps,
    int BorrowRateBps, int SupplyRateBps, bool Created) : ILedgerMessage;

/// <summary>A position accrued to now; <see cref="HealthFactor"/> in WAD at the current prices (null: no debt, or no prices).</summary>
public sealed record PositionView(Amount Supplied, Amount Borrowed, Amount Collateral, Amount? HealthFactor) : ILedgerMessage;

public interface IFarmMessage : IEntityMessage
{
    FarmId Farm { get; }
    string IEntityMessage.EntityId => Farm.Value;
}

public sealed record CreateFarm(FarmId Farm, AssetId StakeAsset, AssetId RewardAsset, long DurationMs) : IFarmMessage;

public sealed record GetFarm(FarmId Farm) : IFarmMessage;

public sealed record GetFarmPosition(FarmId Farm, AccountId Account) : IFarmMessage;

public sealed record GetFarmHoldings(FarmId Farm) : IFarmMessage;

public sealed record ExecuteFarmCall(FarmId Farm, AccountId Account, TxId Id, FarmCall Call) : IFarmMessage;

public sealed record FarmView(FarmId Id, AssetId StakeAsset, AssetId RewardAsset, long DurationMs, Amount TotalStaked, Amount RewardHeld,
    long PeriodFinish, bool Created) : ILedgerMessage;

public sealed record FarmPositionView(Amount Staked, Amount Earned) : ILedgerMessage;

// ---- sagas: multi-party transactions (routes, atomic batches) -------------------------------------------

public interface ISagaMessage : IEntityMessage
{
    SagaKey Key { get; }
    string IEntityMessage.EntityId => Key.EntityId;
}

/// <summary>Run <see cref="Ops"/> all or nothing; answered with <see cref="SagaOutcome"/> once every participant applied the decision.</summary>
public sealed record StartSaga(SagaKey Key, SagaOp[] Ops) : ISagaMessage;

/// <summary>Participant → saga: my hold or lock expired and I have no decision (presumed abort: undecided means abort).</summary>
public sealed record QuerySaga(SagaKey Key, AccountId? Account, PoolId? Pool) : ISagaMessage;

public sealed record SagaOutcome(SagaKey Key, bool Committed, OpOutcome[] Results) : ILedgerMessage;

/// <summary>Saga → account: vote on your part. Answered with <see cref="SagaVote"/> once the hold is durable.</summary>
public sealed record PrepareSaga(AccountId Account, SagaKey Saga, SagaOpAt[] Ops, SagaLeg[] Legs, long ExpiresAt) : IAccountMessage;

/// <summary>Account → saga: yes (no code), or the first of its operations that cannot run, with the code.</summary>
public sealed record SagaVote(AccountId Account, SagaKey Saga, int FailedOp, string? Code) : ILedgerMessage;

/// <summary>Saga → account: the decision, with what this account's operations did. Answered with <see cref="SagaResolvedAck"/>.</summary>
public sealed record ResolveSaga(AccountId Account, SagaKey Saga, bool Commit, int FailedOp, string? Code, SagaOpAt[] Ops, OpFill[]? Fills)
    : IAccountMessage;

public sealed record SagaResolvedAck(AccountId Account, SagaKey Saga) : ILedgerMessage;

// ---- replies --------------------------------------------------------------------------------------------

/// <summary>A refusal that changed nothing (not found, id conflict, exists…).</summary>
public sealed record Rejected(string Code) : ILedgerMessage;

/// <summary>
/// The entity's write to the journal failed: the outcome of the request is unknown (the write may have landed) and
/// the entity restarts from the journal; retry with the same id.
/// </summary>
public sealed record JournalUnavailable(string Entity) : ILedgerMessage;

public sealed record BalanceView(AssetId Asset, Int128 Posted, Amount PendingOut, Amount PendingIn)
{
    public Int128 Available => Posted - (Int128)PendingOut.Value;
}

public sealed record AccountView(AccountId Id, string Owner, BalanceView[] Balances, bool Created) : ILedgerMessage;

public sealed record AssetView(AssetId Id, int Decimals, AccountId Issuer, bool Created) : ILedgerMessage;

public sealed record TransferView(TxId Id, AccountId From, AccountId To, AssetId Asset, Amount Amount, bool Pending,
    TransferStatus Status, string? Code, Amount? PostedAmount, long? ExpiresAt, long CreatedAt, long? CompletedAt,
    PoolCall? Call = null, Leg[]? Returned = null, SagaOp? Op = null, OpFill? Fill = null, VenueCall? Venue = null)
{
    public static TransferView Of(Transfer t) => new(t.Id, t.From, t.To, t.Asset, t.Amount, t.IsPending, t.Status, t.Code,
        t.PostedAmount, t.ExpiresAt, t.CreatedAt, t.CompletedAt, t.Call, t.Returned, t.Op, t.Fill, t.Venue);
}

public sealed record PoolView(PoolId Id, AssetId AssetA, AssetId AssetB, Amount ReserveA, Amount ReserveB, Amount TotalShares,
    Amount LockedShares, int FeeBps, bool Created) : ILedgerMessage;

public sealed record QuoteView(Amount AmountOut) : ILedgerMessage;

/// <summary>
/// One entity's part of the supply audit, per asset: its net holding (negative for an issuer), the value it
/// has sent that is still in flight, and the supply it has issued.
/// </summary>
public sealed record Holding(AssetId Asset, Int128 Held, Amount InFlight, Amount Issued);

public sealed record Holdings(Holding[] Items) : ILedgerMessage;

/// <summary>The outcome of one operation: the recorded transaction, or a refusal that recorded nothing.</summary>
public sealed record TransferOutcome(TransferView? Transaction, string? Code) : ILedgerMessage;

public sealed record TransferResults(TransferOutcome[] Results) : ILedgerMessage;

public sealed record TransactionPage(TransferView[] Items, int? Next) : ILedgerMessage;
