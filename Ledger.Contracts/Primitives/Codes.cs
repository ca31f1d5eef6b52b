namespace Ledger.Contracts.Primitives;

/// <summary>Stable rejection codes of api.md; every one is produced by a test.</summary>
public static class Codes
{
    public const string InsufficientFunds = "insufficient_funds";
    public const string AccountNotFound = "account_not_found";
    public const string AssetNotFound = "asset_not_found";
    public const string AccountExists = "account_exists";
    public const string AssetExists = "asset_exists";
    public const string SameAccount = "same_account";
    public const string ZeroAmount = "zero_amount";
    public const string PendingNotFound = "pending_not_found";
    public const string PendingExpired = "pending_expired";
    public const string AlreadyPosted = "already_posted";
    public const string AlreadyVoided = "already_voided";
    public const string AmountExceedsPending = "amount_exceeds_pending";
    public const string SupplyOverflow = "supply_overflow";
    public const string IdConflict = "id_conflict";
    public const string TransactionNotFound = "transaction_not_found";
    public const string InvalidRequest = "invalid_request";
    public const string InvalidAmount = "invalid_amount";
    public const string InvalidId = "invalid_id";
    public const string BatchTooLarge = "batch_too_large";
    public const string Unavailable = "unavailable";
    public const string NotImplemented = "not_implemented";
    public const string NotFound = "not_found";
    public const string PoolNotFound = "pool_not_found";
    public const string PoolExists = "pool_exists";
    public const string AssetNotInPool = "asset_not_in_pool";
    public const string SlippageExceeded = "slippage_exceeded";
    public const string DeadlinePassed = "deadline_passed";
    public const string InsufficientLiquidity = "insufficient_liquidity";
    public const string InsufficientOutputAmount = "insufficient_output_amount";
    public const string LinkedOperationFailed = "linked_operation_failed";
    /// <summary>A multi-party transaction could not lock its participants before its locks expired; nothing changed.</summary>
    public const string LockTimeout = "lock_timeout";
    public const string MarketNotFound = "market_not_found";
    public const string MarketExists = "market_exists";
    public const string UnhealthyPosition = "unhealthy_position";
    public const string HealthyPosition = "healthy_position";
    /// <summary>A decision that needs an oracle price found none for one of the market's assets.</summary>
    public const string PriceNotSet = "price_not_set";
    /// <summary>A repayment to a position without debt.</summary>
    public const string NothingToRepay = "nothing_to_repay";
    public const string FarmNotFound = "farm_not_found";
    public const string FarmExists = "farm_exists";
    public const string OptionNotFound = "option_not_found";
    public const string OptionExists = "option_exists";
    /// <summary>Mint or burn from the series' expiry on.</summary>
    public const string OptionExpired = "option_expired";
    /// <summary>An expiry price set before the expiry.</summary>
    public const string OptionNotExpired = "option_not_expired";
    /// <summary>An expiry price replaced after the dispute window.</summary>
    public const string PriceFinal = "price_final";
    /// <summary>Redeem or settle before the expiry price is final.</summary>
    public const string PriceNotFinal = "price_not_final";
    /// <summary>A burn of more than the writer's short position.</summary>
    public const string ExceedsShort = "exceeds_short";
    /// <summary>A settle by an account that never wrote the series.</summary>
    public const string NoPosition = "no_position";
    public const string AlreadySettled = "already_settled";
    public const string PerpNotFound = "perp_not_found";
    public const string PerpExists = "perp_exists";
    /// <summary>Equity below the initial margin after an order or a withdrawal.</summary>
    public const string InsufficientMargin = "insufficient_margin";
    /// <summary>No key with that id, or it is revoked already.</summary>
    public const string KeyNotFound = "key_not_found";
    /// <summary>The caller may not do this (a treasury spending outside a proposal, a cancel by another than the proposer).</summary>
    public const string Forbidden = "forbidden";
    public const string GovernorNotFound = "governor_not_found";
    public const string GovernorExists = "governor_exists";
    public const string ProposalNotFound = "proposal_not_found";
    /// <summary>The proposer's votes one millisecond before proposing are below the governor's threshold.</summary>
    public const string BelowThreshold = "below_threshold";
    public const string AlreadyVoted = "already_voted";
    public const string ProposalNotActive = "proposal_not_active";
    public const string ProposalNotSucceeded = "proposal_not_succeeded";
    public const string ProposalNotPending = "proposal_not_pending";
    /// <summary>Execution before the proposal's eta.</summary>
    public const string Timelock = "timelock";
    /// <summary>A closed account refuses every operation that would move value in or out.</summary>
    public const string AccountClosed = "account_closed";
    /// <summary>A close of an account with a balance, a pending amount, a saga hold or a transfer still on its way.</summary>
    public const string AccountNotEmpty = "account_not_empty";
    public const string ChannelNotFound = "channel_not_found";
    /// <summary>A channel id opened before with other parameters (a channel id is never reused).</summary>
    public const string ChannelExists = "channel_exists";
    /// <summary>An account that is neither <c>a</c> nor <c>b</c> of the channel.</summary>
    public const string NotParticipant = "not_participant";
    /// <summary>A proof or close signature that does not verify under the signer's key (or names another signer).</summary>
    public const string InvalidSignature = "invalid_signature";
    /// <summary>A proof whose nonce is not above the one the channel holds for its signer.</summary>
    public const string StaleProof = "stale_proof";
    /// <summary>Cooperative balances that do not sum to the deposits.</summary>
    public const string InvalidBalances = "invalid_balances";
    /// <summary>A settle before the challenge window ended.</summary>
    public const string ChallengeOpen = "challenge_open";
    /// <summary>A deposit, close or update after the channel was closed (or its window ended).</summary>
    public const string ChannelClosed = "channel_closed";
    /// <summary>An update or settle of a channel nobody has closed.</summary>
    public const string ChannelOpen = "channel_open";
}
