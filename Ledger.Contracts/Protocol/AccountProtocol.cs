using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Protocol;

public interface IAccountMessage : IEntityMessage
{
    AccountId Account { get; }
    string IEntityMessage.EntityId => Account.Value;
}

// ---- accounts -------------------------------------------------------------------------------------------

public sealed record OpenAccount(AccountId Account, string Owner) : IAccountMessage, IRejectableAsk<AccountView>;

public sealed record GetAccount(AccountId Account) : IAccountMessage, IRejectableAsk<AccountView>;

/// <summary>Transfers initiated by one payer, decided together and persisted in one write (the batch path).</summary>
public sealed record SubmitTransfers(AccountId Account, TransferRequest[] Items) : IAccountMessage, IAsk<TransferResults>;

public sealed record PostPending(AccountId Account, TxId Id, Amount? Amount) : IAccountMessage, IAsk<TransferOutcome>;

public sealed record VoidPending(AccountId Account, TxId Id) : IAccountMessage, IAsk<TransferOutcome>;

public sealed record GetTransaction(AccountId Account, TxId Id) : IAccountMessage, IAsk<TransferOutcome>;

/// <summary>Newest first; <see cref="Before"/> is the cursor of a previous page.</summary>
public sealed record ListTransactions(AccountId Account, int Limit, int? Before) : IAccountMessage, IRejectableAsk<TransactionPage>;

public sealed record GrantIssuer(AccountId Account, AssetId Asset) : IAccountMessage;

public sealed record IssuerGrantedAck(AccountId Account, AssetId Asset) : ILedgerMessage;

/// <summary>Payer → payee: the steps it owes. Answered with <see cref="DeliveryAck"/> once durable.</summary>
public sealed record Deliver(AccountId Account, AccountId From, DeliveryItem[] Items) : IAccountMessage;

/// <summary>Payee → payer (to the payer's actor directly).</summary>
public sealed record DeliveryAck(AccountId Payee, DeliveryResult[] Results) : ILedgerMessage;

/// <summary>Starts (recovers) the account if it is not running; nothing else.</summary>
public sealed record WakeUp(AccountId Account) : IAccountMessage;

/// <summary>A swap, deposit or withdrawal of <see cref="Account"/> on a pool; answered with a <see cref="TransferOutcome"/>.</summary>
public sealed record CallPool(AccountId Account, TxId Id, PoolCall Call) : IAccountMessage, IAsk<TransferOutcome>;

/// <summary>What this account holds, for the supply audit; answered with <see cref="Holdings"/>.</summary>
public sealed record GetHoldings(AccountId Account) : IAccountMessage, IAsk<Holdings>;

/// <summary>The balances as they stood at an instant (Unix ms): every change recorded at or before it, none after.</summary>
public sealed record GetBalancesAt(AccountId Account, long At) : IAccountMessage, IRejectableAsk<BalancesAtView>;

/// <summary>A market or farm operation of <see cref="Account"/>; answered with a <see cref="TransferOutcome"/>.</summary>
public sealed record CallVenue(AccountId Account, TxId Id, VenueCall Call) : IAccountMessage, IAsk<TransferOutcome>;

// ---- account replies ------------------------------------------------------------------------------------

public sealed record BalanceView(AssetId Asset, Int128 Posted, Amount PendingOut, Amount PendingIn)
{
    public Int128 Available => Posted - (Int128)PendingOut.Value;
}

/// <summary>An account as the gateway shows it; <paramref name="Venues"/> and <paramref name="VenueCalls"/> are for closing it, not shown.</summary>
public sealed record AccountView(AccountId Id, string Owner, BalanceView[] Balances, bool Created, bool Closed = false, VenueRef[]? Venues = null,
    long VenueCalls = 0) : ILedgerMessage;

/// <summary>
/// Closes an empty account (api.md 1.1); answered with the account. <paramref name="VenueCallsSeen"/>: the venue calls the
/// account had made when its venues were found holding nothing of it; refused if it has made another since.
/// </summary>
public sealed record CloseAccount(AccountId Account, long? VenueCallsSeen = null) : IAccountMessage, IRejectableAsk<AccountView>;

public sealed record BalancesAtView(AccountId Id, long At, BalanceView[] Balances) : ILedgerMessage;

public sealed record TransferView(TxId Id, AccountId From, AccountId To, AssetId Asset, Amount Amount, bool Pending,
    TransferStatus Status, string? Code, Amount? PostedAmount, long? ExpiresAt, long CreatedAt, long? CompletedAt,
    PoolCall? Call = null, Leg[]? Returned = null, SagaOp? Op = null, OpFill? Fill = null, VenueCall? Venue = null, string? UserData = null)
{
    public static TransferView Of(Transfer t) => new(t.Id, t.From, t.To, t.Asset, t.Amount, t.IsPending, t.Status, t.Code,
        t.PostedAmount, t.ExpiresAt, t.CreatedAt, t.CompletedAt, t.Call, t.Returned, t.Op, t.Fill, t.Venue, t.UserData ?? (t.Op as TransferOp)?.UserData);
}

/// <summary>The outcome of one operation: the recorded transaction, or a refusal that recorded nothing.</summary>
public sealed record TransferOutcome(TransferView? Transaction, string? Code) : ILedgerMessage;

public sealed record TransferResults(TransferOutcome[] Results) : ILedgerMessage;

public sealed record TransactionPage(TransferView[] Items, int? Next) : ILedgerMessage;

// ---- an account as a saga's participant: it votes on its part, then applies the decision ------------------

/// <summary>
/// Saga → account: vote on your part. Answered with <see cref="SagaVote"/> once the hold is durable. With
/// <paramref name="WorstCase"/> the legs are the most the operations can take and the least they can bring (sent before
/// the pools are locked, so that the vote does not hold the locks up); a yes to it covers the exact legs.
/// </summary>
public sealed record PrepareSaga(AccountId Account, SagaKey Saga, SagaOpAt[] Ops, SagaLeg[] Legs, long ExpiresAt, bool WorstCase = false) : IAccountMessage;

/// <summary>
/// Account → saga: yes (no code), or the first of its operations that cannot run, with the code; for the prepare it answers.
/// A yes names what the balancing transfers the account pays move (<paramref name="Balanced"/>).
/// </summary>
public sealed record SagaVote(AccountId Account, SagaKey Saga, int FailedOp, string? Code, bool WorstCase = false, OpAmount[]? Balanced = null)
    : ILedgerMessage;

/// <summary>
/// Saga → account: the decision, with what this account's operations did and, committed, the legs to apply (null: the
/// legs it held for). Answered with <see cref="SagaResolvedAck"/>.
/// </summary>
public sealed record ResolveSaga(AccountId Account, SagaKey Saga, bool Commit, int FailedOp, string? Code, SagaOpAt[] Ops, OpFill[]? Fills,
    SagaLeg[]? Legs = null) : IAccountMessage;

public sealed record SagaResolvedAck(AccountId Account, SagaKey Saga) : ILedgerMessage;

// ---- account wakers: remembered entities that restart accounts holding expiring reservations ------------

public interface IWakerMessage : IEntityMessage
{
    AccountId Account { get; }
    string IEntityMessage.EntityId => Account.Value;
}

public sealed record ArmWaker(AccountId Account) : IWakerMessage;

public sealed record DisarmWaker(AccountId Account) : IWakerMessage;

public sealed record WakerArmed(AccountId Account) : ILedgerMessage;
