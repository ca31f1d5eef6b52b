using System.Numerics;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Markets;

public enum MarketCallKind
{
    /// <summary>In: the loan asset. The supplier earns through the supply index.</summary>
    Supply,
    /// <summary>Out: the loan asset, at most what the position is owed and what the market holds.</summary>
    Withdraw,
    /// <summary>In: the collateral asset.</summary>
    SupplyCollateral,
    /// <summary>Out: the collateral asset, only while the position stays healthy.</summary>
    WithdrawCollateral,
    /// <summary>Out: the loan asset, only while the position stays healthy and the market holds it.</summary>
    Borrow,
    /// <summary>In: the loan asset; what exceeds the debt comes back.</summary>
    Repay,
    /// <summary>In: the loan asset (the repay amount); out: the borrower's collateral worth it plus the bonus, and any excess.</summary>
    Liquidate,
}

/// <summary>One oracle reading, as used by a decision: the value of one whole token of each asset (WAD), and which reading.</summary>
public sealed record PriceReading(Amount Loan, Amount Collateral, long Version);

/// <summary>Everything a market persists (the durable schema: add fields only with defaults).</summary>
public interface IMarketEvent;

public sealed record MarketCreated(AssetId LoanAsset, AssetId CollateralAsset, int LoanDecimals, int CollateralDecimals, int LltvBps,
    RateModel Rate, int ReserveFactorBps, int LiquidationBonusBps, long At) : IMarketEvent;

/// <summary>
/// The market decided a call of <paramref name="Account"/>'s transaction <paramref name="Id"/> at time
/// <paramref name="At"/> (interest accrues to then first). It received <paramref name="In"/> and owes
/// <paramref name="Out"/> back; refused (<paramref name="Code"/>), Out is In. <paramref name="Scaled"/> is the
/// position's change in index-scaled units (supply or debt, by kind), <paramref name="Collateral"/> its change
/// of collateral; a liquidation changes <paramref name="Borrower"/>'s position. <paramref name="Prices"/>: the
/// oracle reading the decision used, if it needed one.
/// </summary>
public sealed record MarketCallDecided(AccountId Account, TxId Id, MarketCallKind Kind, Leg[] In, Leg[] Out, string? Code, Amount Scaled,
    Amount Collateral, AccountId? Borrower, PriceReading? Prices, long At) : IMarketEvent;

/// <summary>A position: supply and debt as index-scaled units (an amount divided by the index when it moved), collateral as is.</summary>
public sealed class Position
{
    public BigInteger ScaledSupply { get; set; }
    public BigInteger ScaledDebt { get; set; }
    public Amount Collateral { get; set; }
}

/// <summary>An isolated lending market (Morpho Blue's shape): one loan asset, one collateral asset, its positions.</summary>
public sealed class MarketState
{
    public required MarketId Id { get; init; }
    public bool Exists { get; set; }
    public AssetId LoanAsset { get; set; }
    public AssetId CollateralAsset { get; set; }
    public int LoanDecimals { get; set; }
    public int CollateralDecimals { get; set; }
    public int LltvBps { get; set; }
    public RateModel Rate { get; set; } = new(0, 0, 0, 1);
    public int ReserveFactorBps { get; set; }
    public int LiquidationBonusBps { get; set; }
    public long CreatedAt { get; set; }

    /// <summary>What one scaled unit of supply is worth, in RAY; grows with the suppliers' share of interest.</summary>
    public BigInteger SupplyIndex { get; set; } = Fixed.Ray;
    /// <summary>What one scaled unit of debt is worth, in RAY; grows with the borrow rate.</summary>
    public BigInteger BorrowIndex { get; set; } = Fixed.Ray;
    public long AccruedTo { get; set; }
    /// <summary>The loan asset the market holds (free liquidity).</summary>
    public Amount Cash { get; set; }
    public Amount CollateralHeld { get; set; }
    public BigInteger TotalScaledSupply { get; set; }
    public BigInteger TotalScaledDebt { get; set; }
    /// <summary>The reserve factor's share of all interest so far, plus rounding remainders (the market's own claim on its books).</summary>
    public BigInteger Reserves { get; set; }
    /// <summary>All interest ever charged to borrowers.</summary>
    public BigInteger InterestCharged { get; set; }
    public Dictionary<AccountId, Position> Positions { get; } = [];
    public AnswerStore Answers { get; } = new();

    public Position PositionOf(AccountId account)
    {
        if (!Positions.TryGetValue(account, out var p)) Positions[account] = p = new Position();
        return p;
    }

    /// <summary>All debt, rounded up.</summary>
    public BigInteger TotalDebt => Fixed.MulDivUp(TotalScaledDebt, BorrowIndex, Fixed.Ray);

    /// <summary>All that suppliers are owed, rounded down.</summary>
    public BigInteger TotalSupplied => Fixed.MulDivDown(TotalScaledSupply, SupplyIndex, Fixed.Ray);
}

/// <summary>
/// The lending market's rules: deterministic decisions and one <see cref="Apply"/>, with interest accrued by
/// index up to each decision's time (from the command, never a clock). This is where a loan is priced and its
/// health judged. Rounding always favours the market: debts round up, claims of suppliers and liquidators down.
/// </summary>
public static class MarketContract
{
    public const int BonusBpsMax = 5_000;

    public static (IReadOnlyList<IMarketEvent> Events, string? Rejection) Create(MarketState s, MarketCreated c)
    {
        if (!s.Exists) return ([c], null);
        return s.LoanAsset == c.LoanAsset && s.CollateralAsset == c.CollateralAsset && s.LltvBps == c.LltvBps && s.Rate == c.Rate
            && s.ReserveFactorBps == c.ReserveFactorBps && s.LiquidationBonusBps == c.LiquidationBonusBps
            ? ([], null)
            : ([], Codes.MarketExists);
    }

    /// <summary>
    /// The indexes after accruing interest to <paramref name="now"/>, the interest charged, and the reserves' share of
    /// it (the reserve factor's cut rounded up, plus what rounding down the suppliers' share leaves over).
    /// </summary>
    public static (BigInteger SupplyIndex, BigInteger BorrowIndex, BigInteger Interest, BigInteger ReserveCut) Accrued(MarketState s, long now)
    {
        if (now <= s.AccruedTo || s.TotalScaledDebt.IsZero) return (s.SupplyIndex, s.BorrowIndex, 0, 0);
        var debt = s.TotalDebt;
        var rate = s.Rate.BorrowRate(RateModel.Utilization((BigInteger)s.Cash.Value, debt));
        // Simple interest over the interval, compounded at every accrual: index ·= 1 + rate·Δt/year (rounded up).
        var growth = rate * (now - s.AccruedTo) / Fixed.YearMs;
        var borrowIndex = s.BorrowIndex + Fixed.MulDivUp(s.BorrowIndex, growth, Fixed.Ray);
        var interest = Fixed.MulDivUp(s.TotalScaledDebt, borrowIndex, Fixed.Ray) - debt;
        var reserveCut = Fixed.MulDivUp(interest, s.ReserveFactorBps, Fixed.Bps);
        if (s.TotalScaledSupply.IsZero) return (s.SupplyIndex, borrowIndex, interest, interest);
        // Suppliers' share spread over their scaled units, rounded down; the remainder stays with the market.
        var supplyIndex = s.SupplyIndex + (interest - reserveCut) * Fixed.Ray / s.TotalScaledSupply;
        var paid = Fixed.MulDivDown(s.TotalScaledSupply, supplyIndex, Fixed.Ray) - s.TotalSupplied;
        return (supplyIndex, borrowIndex, interest, interest - paid);
    }

    /// <summary>A position's supply (down) and debt (up) at the given indexes.</summary>
    public static (BigInteger Supplied, BigInteger Debt) Balances(Position p, BigInteger supplyIndex, BigInteger borrowIndex) =>
        (Fixed.MulDivDown(p.ScaledSupply, supplyIndex, Fixed.Ray), Fixed.MulDivUp(p.ScaledDebt, borrowIndex, Fixed.Ray));

    /// <summary>Healthy iff <c>collateral·price_c·lltv ≥ debt·price_l</c>, values per whole token.</summary>
    public static bool Healthy(MarketState s, Amount collateral, BigInteger debt, PriceReading prices) =>
        debt.IsZero || CollateralValue(s, collateral, prices) * s.LltvBps >= DebtValue(s, debt, prices) * Fixed.Bps;

    /// <summary>
    /// <c>collateral·price_c·lltv / (debt·price_l)</c> as WAD, rounded down; null without debt. Below 1 the position
    /// may be liquidated.
    /// </summary>
    public static BigInteger? HealthFactor(MarketState s, Amount collateral, BigInteger debt, PriceReading prices)
    {
        if (debt.IsZero) return null;
        var debtValue = DebtValue(s, debt, prices) * Fixed.Bps;
        return debtValue.IsZero ? null : CollateralValue(s, collateral, prices) * s.LltvBps * Fixed.Wad / debtValue;
    }

    // Both values are scaled by 10^(loan decimals + collateral decimals) so that they compare without division.
    private static BigInteger CollateralValue(MarketState s, Amount collateral, PriceReading p) =>
        (BigInteger)collateral.Value * p.Collateral.Value * BigInteger.Pow(10, s.LoanDecimals);

    private static BigInteger DebtValue(MarketState s, BigInteger debt, PriceReading p) =>
        debt * p.Loan.Value * BigInteger.Pow(10, s.CollateralDecimals);

    /// <summary>Whether a call of this kind needs an oracle reading.</summary>
    public static bool NeedsPrices(MarketCallKind kind) => kind is MarketCallKind.Borrow or MarketCallKind.WithdrawCollateral or MarketCallKind.Liquidate;

    /// <summary>
    /// Decides one call. <paramref name="in"/> is what the account already sent (the kinds that bring assets);
    /// <paramref name="amount"/> is the amount asked for (for those, the same). The caller checks answers by key first.
    /// </summary>
    public static MarketCallDecided Decide(MarketState s, AccountId account, TxId id, MarketCallKind kind, Leg[] @in, Amount amount,
        AccountId? borrower, PriceReading? prices, long now)
    {
        MarketCallDecided Refuse(string code) => new(account, id, kind, @in, @in, code, default, default, borrower, prices, now);
        MarketCallDecided Done(Leg[] @out, Amount scaled = default, Amount collateral = default) =>
            new(account, id, kind, @in, @out, null, scaled, collateral, borrower, prices, now);

        if (!s.Exists) return Refuse(Codes.MarketNotFound);
        var expectedIn = kind switch
        {
            MarketCallKind.Supply or MarketCallKind.Repay or MarketCallKind.Liquidate => s.LoanAsset,
            MarketCallKind.SupplyCollateral => s.CollateralAsset,
            _ => (AssetId?)null,
        };
        if (expectedIn is { } asset ? @in is not [var leg] || leg.Asset != asset || leg.Amount != amount : @in.Length != 0) return Refuse(Codes.InvalidRequest);
        if (amount.IsZero) return Refuse(Codes.ZeroAmount);
        if (NeedsPrices(kind) && (prices is null || prices.Loan.IsZero || prices.Collateral.IsZero)) return Refuse(Codes.PriceNotSet);

        var (supplyIndex, borrowIndex, _, _) = Accrued(s, now);
        var position = s.Positions.GetValueOrDefault(account) ?? new Position();
        var (supplied, debt) = Balances(position, supplyIndex, borrowIndex);
        var value = (BigInteger)amount.Value;
        var cash = (BigInteger)s.Cash.Value;
        switch (kind)
        {
            case MarketCallKind.Supply:
                {
                    // Scaled units minted rounded down: the supplier is owed at most what it brought.
                    var scaled = value * Fixed.Ray / supplyIndex;
                    return scaled.IsZero ? Refuse(Codes.ZeroAmount) : Done([], Narrow(scaled));
                }
            case MarketCallKind.Withdraw:
                {
                    if (value > supplied) return Refuse(Codes.InsufficientFunds);
                    if (value > cash) return Refuse(Codes.InsufficientLiquidity);
                    // Scaled units burned rounded up (never more than the position holds).
                    var scaled = BigInteger.Min(Fixed.MulDivUp(value, Fixed.Ray, supplyIndex), position.ScaledSupply);
                    return Done([new Leg(s.LoanAsset, amount)], Narrow(scaled));
                }
            case MarketCallKind.SupplyCollateral:
                return Done([], default, amount);
            case MarketCallKind.WithdrawCollateral:
                if (amount > position.Collateral) return Refuse(Codes.InsufficientFunds);
                if (!Healthy(s, position.Collateral - amount, debt, prices!)) return Refuse(Codes.UnhealthyPosition);
                return Done([new Leg(s.CollateralAsset, amount)], default, amount);
            case MarketCallKind.Borrow:
                {
                    if (value > cash) return Refuse(Codes.InsufficientLiquidity);
                    // Debt minted rounded up: the borrower owes at least what it took.
                    var scaled = Fixed.MulDivUp(value, Fixed.Ray, borrowIndex);
                    var after = Fixed.MulDivUp(position.ScaledDebt + scaled, borrowIndex, Fixed.Ray);
                    if (!Healthy(s, position.Collateral, after, prices!)) return Refuse(Codes.UnhealthyPosition);
                    return Done([new Leg(s.LoanAsset, amount)], Narrow(scaled));
                }
            case MarketCallKind.Repay:
                {
                    if (debt.IsZero) return Refuse(Codes.NothingToRepay);
                    var (paid, scaled) = Repaid(position, value, debt, borrowIndex);
                    return Done(Change(s.LoanAsset, value - paid), Narrow(scaled));
                }
            case MarketCallKind.Liquidate:
                {
                    if (borrower is not { } b) return Refuse(Codes.InvalidRequest);
                    var target = s.Positions.GetValueOrDefault(b) ?? new Position();
                    var (_, owed) = Balances(target, supplyIndex, borrowIndex);
                    if (Healthy(s, target.Collateral, owed, prices!)) return Refuse(Codes.HealthyPosition);
                    var (paid, scaled) = Repaid(target, value, owed, borrowIndex);
                    // Collateral worth what was repaid plus the bonus, at the reading's prices, rounded down, at most all of it.
                    var seized = paid * prices!.Loan.Value * (Fixed.Bps + s.LiquidationBonusBps) * BigInteger.Pow(10, s.CollateralDecimals)
                        / ((BigInteger)prices.Collateral.Value * Fixed.Bps * BigInteger.Pow(10, s.LoanDecimals));
                    var collateral = Narrow(BigInteger.Min(seized, (BigInteger)target.Collateral.Value));
                    Leg[] @out = [.. collateral.IsZero ? [] : new[] { new Leg(s.CollateralAsset, collateral) }, .. Change(s.LoanAsset, value - paid)];
                    return Done(@out, Narrow(scaled), collateral);
                }
            default:
                return Refuse(Codes.InvalidRequest);
        }
    }

    /// <summary>What a repayment of <paramref name="offered"/> pays (at most the debt) and the scaled debt it retires.</summary>
    private static (BigInteger Paid, BigInteger Scaled) Repaid(Position p, BigInteger offered, BigInteger debt, BigInteger borrowIndex)
    {
        if (offered >= debt) return (debt, p.ScaledDebt);
        // Scaled debt retired rounded down: what remains owed rounds up.
        return (offered, offered * Fixed.Ray / borrowIndex);
    }

    private static Leg[] Change(AssetId asset, BigInteger change) => change.IsZero ? [] : [new Leg(asset, Narrow(change))];

    private static Amount Narrow(BigInteger v) => new((UInt128)v);

    public static void Apply(MarketState s, IMarketEvent e)
    {
        switch (e)
        {
            case MarketCreated c:
                s.Exists = true;
                s.LoanAsset = c.LoanAsset;
                s.CollateralAsset = c.CollateralAsset;
                s.LoanDecimals = c.LoanDecimals;
                s.CollateralDecimals = c.CollateralDecimals;
                s.LltvBps = c.LltvBps;
                s.Rate = c.Rate;
                s.ReserveFactorBps = c.ReserveFactorBps;
                s.LiquidationBonusBps = c.LiquidationBonusBps;
                s.CreatedAt = s.AccruedTo = c.At;
                break;
            case MarketCallDecided d:
                Accrue(s, d.At);
                s.Answers.Remember(d.Account, d.Id, new CallAnswer(d.Out, d.Code));
                if (d.Code is not null) break;
                foreach (var leg in d.In) Move(s, leg, +1);
                foreach (var leg in d.Out) Move(s, leg, -1);
                var p = s.PositionOf(d.Kind == MarketCallKind.Liquidate ? d.Borrower!.Value : d.Account);
                var scaled = (BigInteger)d.Scaled.Value;
                switch (d.Kind)
                {
                    case MarketCallKind.Supply: p.ScaledSupply += scaled; s.TotalScaledSupply += scaled; break;
                    case MarketCallKind.Withdraw: p.ScaledSupply -= scaled; s.TotalScaledSupply -= scaled; break;
                    case MarketCallKind.Borrow: p.ScaledDebt += scaled; s.TotalScaledDebt += scaled; break;
                    case MarketCallKind.SupplyCollateral: p.Collateral += d.Collateral; break;
                    case MarketCallKind.WithdrawCollateral: p.Collateral -= d.Collateral; break;
                    case MarketCallKind.Repay or MarketCallKind.Liquidate:
                        p.ScaledDebt -= scaled;
                        s.TotalScaledDebt -= scaled;
                        p.Collateral -= d.Collateral;
                        break;
                }
                break;
            default:
                throw new ArgumentException($"unknown market event {e.GetType().Name}", nameof(e));
        }
    }

    private static void Accrue(MarketState s, long now)
    {
        var (supplyIndex, borrowIndex, interest, reserveCut) = Accrued(s, now);
        (s.SupplyIndex, s.BorrowIndex) = (supplyIndex, borrowIndex);
        s.InterestCharged += interest;
        s.Reserves += reserveCut;
        s.AccruedTo = Math.Max(s.AccruedTo, now);
    }

    private static void Move(MarketState s, Leg leg, int sign)
    {
        if (leg.Asset == s.LoanAsset) s.Cash = sign > 0 ? s.Cash + leg.Amount : s.Cash - leg.Amount;
        else if (leg.Asset == s.CollateralAsset) s.CollateralHeld = sign > 0 ? s.CollateralHeld + leg.Amount : s.CollateralHeld - leg.Amount;
        else throw new InvalidOperationException($"market {s.Id} moved {leg.Asset}, which it does not hold");
    }
}
