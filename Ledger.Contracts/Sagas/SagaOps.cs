using System.Globalization;
using System.Text.Json.Serialization;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Sagas;

/// <summary>One operation of a multi-party transaction, initiated by <see cref="Account"/> under its own id.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(TransferOp), "transfer")]
[JsonDerivedType(typeof(SwapOp), "swap")]
public abstract record SagaOp(TxId Id, AccountId Account)
{
    /// <summary>The idempotency fingerprint; a transfer's equals that of the same single transfer.</summary>
    public abstract ulong Fingerprint();
}

/// <summary>
/// A transfer. <see cref="Balancing"/>: moves <c>min(Amount, available)</c> of the payer at its turn in the saga — the payer
/// works it out when it votes, and the saga records it as the operation's fill (<see cref="OpFill.Moved"/>).
/// </summary>
public sealed record TransferOp(TxId Id, AccountId Account, AccountId To, AssetId Asset, Amount Amount, string? UserData = null,
    bool Balancing = false) : SagaOp(Id, Account)
{
    public override ulong Fingerprint() => new TransferRequest(Id, To, Asset, Amount, false, null, UserData, Balancing).Fingerprint(Account);
}

/// <summary>
/// A swap along <see cref="Route"/> (pools, in order). Exact input: <see cref="AmountIn"/> in, at least
/// <see cref="MinOut"/> out. Exact output (<see cref="AmountOut"/> set): exactly that out, at most
/// <see cref="AmountIn"/> in.
/// </summary>
public sealed record SwapOp(TxId Id, AccountId Account, PoolId[] Route, AssetId AssetIn, Amount AmountIn, Amount? AmountOut = null,
    Amount MinOut = default, long? Deadline = null) : SagaOp(Id, Account)
{
    public bool ExactOut => AmountOut is not null;

    public override ulong Fingerprint() => Primitives.Fingerprint.Of([
        "swap", Account.Value, string.Join(",", Route.Select(p => p.Value)), AssetIn.Value, AmountIn.ToString(), AmountOut?.ToString(),
        MinOut.ToString(), Deadline?.ToString(CultureInfo.InvariantCulture)]);
}

/// <summary>
/// What a committed operation did. A swap: the asset after each hop (<see cref="Path"/>, starting with the
/// input) and the amount of each (<see cref="Amounts"/>, as Uniswap's router reports them: what went in, then
/// what each hop paid out). A transfer: both null; a balancing transfer: <see cref="Amounts"/> holds what it moved.
/// </summary>
public sealed record OpFill(AssetId[]? Path = null, Amount[]? Amounts = null)
{
    public static readonly OpFill Transfer = new();

    public static OpFill Balanced(Amount moved) => new(null, [moved]);

    /// <summary>What a transfer moved: its amount, or for a balancing transfer what the payer's vote worked out.</summary>
    public static Amount Moved(TransferOp t, OpFill? fill) => fill is { Path: null, Amounts: [var moved] } ? moved : t.Amount;

    [JsonIgnore]
    public Amount AmountIn => Amounts is { Length: > 0 } a ? a[0] : default;

    [JsonIgnore]
    public Amount AmountOut => Amounts is { Length: > 0 } a ? a[^1] : default;
}

/// <summary>
/// One balance movement of an account inside a saga, in operation order: a debit or a credit. <see cref="Balancing"/>: a
/// debit of at most <see cref="Amount"/>, which the voting account sets to what it has available at this leg.
/// </summary>
public sealed record SagaLeg(int Op, AssetId Asset, Amount Amount, bool Credit, bool Balancing = false);

/// <summary>What a balancing transfer (operation <see cref="Op"/>) moves, as its payer's vote worked it out.</summary>
public sealed record OpAmount(int Op, Amount Amount);

/// <summary>One hop a pool executes for a saga: it receives <see cref="AmountIn"/> and pays <see cref="AmountOut"/>.</summary>
public sealed record PoolHop(AssetId AssetIn, Amount AmountIn, AssetId AssetOut, Amount AmountOut);

/// <summary>A locked pool's state as the saga plans against it.</summary>
public sealed record PoolReserves(AssetId AssetA, AssetId AssetB, Amount ReserveA, Amount ReserveB, int FeeBps);

/// <summary>The outcome of one operation of a saga as the client sees it.</summary>
public sealed record OpOutcome(TxId Id, AccountId Account, bool Committed, string? Code, OpFill? Fill);
