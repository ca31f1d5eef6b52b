using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Accounts;

/// <summary>
/// Everything an account actor persists. These records are the durable schema: add fields only with
/// defaults, never rename or remove (the serializer tags each with a versioned manifest).
/// Times are Unix milliseconds taken from the command, never from a clock.
/// </summary>
public interface IAccountEvent;

public sealed record AccountOpened(string Owner, long At) : IAccountEvent;

/// <summary>The account is closed: nothing moves in or out of it any more; it stays readable.</summary>
public sealed record AccountClosed(long At) : IAccountEvent;

/// <summary>This account is the issuer of <paramref name="Asset"/> and may go below zero in it.</summary>
public sealed record IssuerGranted(AssetId Asset) : IAccountEvent;

/// <summary>Payer: a transfer was refused; recorded so that a retry returns the same outcome.</summary>
public sealed record TransferRejected(TxId Id, AccountId To, AssetId Asset, Amount Amount, bool Pending, long? TimeoutMs,
    ulong Fingerprint, string Code, long At, string? UserData = null) : IAccountEvent;

/// <summary>Payer: the amount left <c>posted</c> (or went to <c>pending_out</c>); the credit is now owed to the payee.</summary>
public sealed record TransferDebited(TxId Id, AccountId To, AssetId Asset, Amount Amount, bool Pending, long? TimeoutMs,
    long? ExpiresAt, ulong Fingerprint, long At, string? UserData = null) : IAccountEvent;

/// <summary>Payer: the payee made delivery step <paramref name="Step"/> durable.</summary>
public sealed record DeliveryAcknowledged(TxId Id, int Step, long At) : IAccountEvent;

/// <summary>Payer: the payee refused the credit (no such account); the debit is given back.</summary>
public sealed record TransferCompensated(TxId Id, string Code, long At) : IAccountEvent;

/// <summary>Payer: a pending transfer was posted for <paramref name="Amount"/> (≤ the pending amount; the rest is released).</summary>
public sealed record PendingPosted(TxId Id, Amount Amount, Amount? Requested, long At) : IAccountEvent;

public sealed record PendingVoided(TxId Id, long At) : IAccountEvent;

public sealed record PendingExpired(TxId Id, long At) : IAccountEvent;

/// <summary>Payee: delivery step 1 landed.</summary>
public sealed record TransferCredited(AccountId From, TxId Id, AssetId Asset, Amount Amount, bool Pending, long? ExpiresAt, long At,
    string? UserData = null) : IAccountEvent;

/// <summary>Payee that does not exist: the refusal is recorded so a late duplicate can never land after the payer compensated.</summary>
public sealed record CreditRefused(AccountId From, TxId Id, AssetId Asset, Amount Amount, string Code, long At) : IAccountEvent;

/// <summary>Payee: delivery step 2 (the payer posted, voided or let expire a pending transfer).</summary>
public sealed record PendingResolved(AccountId From, TxId Id, TransferStatus Outcome, Amount PostedAmount, long At, AssetId? Asset = null) : IAccountEvent;

/// <summary>The account refused its own pool call (e.g. insufficient funds); recorded so a retry gets the same outcome.</summary>
public sealed record PoolCallRejected(TxId Id, PoolCall Call, ulong Fingerprint, string Code, long At) : IAccountEvent;

/// <summary>The call's inputs left <c>posted</c> and are in flight to the pool until it answers.</summary>
public sealed record PoolCallSent(TxId Id, PoolCall Call, ulong Fingerprint, long At) : IAccountEvent;

/// <summary>The pool answered (durably, on its side): <paramref name="Out"/> is credited; refused when <paramref name="Code"/> is set.</summary>
public sealed record PoolCallAnswered(TxId Id, Leg[] Out, string? Code, long At, OpFill? Fill = null) : IAccountEvent;

/// <summary>The account voted yes for a saga: <paramref name="Held"/> moved to <c>pending_out</c>; the operations it initiates are recorded, pending.</summary>
public sealed record SagaHeld(SagaKey Saga, SagaOpAt[] Ops, SagaLeg[] Legs, Leg[] Held, long ExpiresAt, long At) : IAccountEvent;

/// <summary>
/// The saga's decision reached the account: the hold is released and, committed, every leg applied (<paramref name="Legs"/>,
/// or those held for when absent); the operations it initiated end committed or rejected (<paramref name="Fills"/> per
/// operation of <paramref name="Ops"/>).
/// </summary>
public sealed record SagaApplied(SagaKey Saga, bool Commit, int FailedOp, string? Code, SagaOpAt[] Ops, OpFill[]? Fills, long At,
    SagaLeg[]? Legs = null) : IAccountEvent;

/// <summary>A market or farm call's inputs left <c>posted</c> and are in flight to the venue until it answers (with <see cref="PoolCallAnswered"/>).</summary>
public sealed record VenueCallSent(TxId Id, VenueCall Call, ulong Fingerprint, long At) : IAccountEvent;

/// <summary>The account refused its own market or farm call (e.g. insufficient funds).</summary>
public sealed record VenueCallRejected(TxId Id, VenueCall Call, ulong Fingerprint, string Code, long At) : IAccountEvent;

/// <summary>
/// The balances a write left, for <c>balances?at=</c>: those of the assets it changed, or all of them when
/// <paramref name="Full"/> (a checkpoint, every <see cref="AccountState.BalanceCheckpointRows"/> rows); the last event
/// of its row. <paramref name="At"/> never decreases along an account's journal, so the balances at an instant are
/// those after the last row recorded at or before it.
/// </summary>
public sealed record BalancesRecorded(SnapshotBalance[] Balances, bool Full, long At) : IAccountEvent;
