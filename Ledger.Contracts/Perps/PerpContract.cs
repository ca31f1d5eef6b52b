using System.Numerics;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Perps;

/// <summary>
/// A perpetual futures market's parameters (api.md 1.1, "Perpetual futures"). Ratios and the funding velocity are WAD
/// (10^18 = 1); the velocity is per day, per day; <see cref="SkewScale"/> is in base units of the underlying.
/// </summary>
public sealed record PerpParameters(AssetId Underlying, AssetId MarginAsset, int UnderlyingDecimals, int MarginDecimals, Amount SkewScale,
    Amount MaxFundingVelocity, Amount InitialMarginRatio, Amount MaintenanceMarginRatio, Amount LiquidationRewardRatio, int TakerFeeBps);

/// <summary>One trader's position: signed size in base units of the underlying, entry price and the funding index at entry (WAD), margin in base units of the margin asset.</summary>
public sealed record PerpPosition(BigInteger Size, BigInteger Entry, BigInteger FundingEntry, BigInteger Margin)
{
    public static readonly PerpPosition None = new(0, 0, 0, 0);
}

/// <summary>
/// A market's funding and open interest: the funding rate (WAD per day) and index (WAD, margin units per whole underlying)
/// as of <see cref="UpdatedAt"/>, and the sums over positions that make the vault's debt to them computable at once.
/// </summary>
public sealed class PerpBook
{
    public BigInteger Rate { get; set; }
    public BigInteger Funding { get; set; }
    public long UpdatedAt { get; set; }
    public BigInteger LongInterest { get; set; }
    public BigInteger ShortInterest { get; set; }
    /// <summary>Σ size · entry and Σ size · funding entry over every position (WAD · base units).</summary>
    public BigInteger SizeEntry { get; set; }
    public BigInteger SizeFundingEntry { get; set; }

    public BigInteger Skew => LongInterest - ShortInterest;
}

/// <summary>
/// The arithmetic of perpetual futures, exact and pure: funding as Synthetix v3 perps accrues it (velocity from the
/// proportional skew, the index moving by the average rate over the interval times the price), margins as dYdX's (ratios
/// of the notional). Values are rational until they become money; then what the market receives rounds up and what it
/// pays rounds down.
/// </summary>
public static class PerpMath
{
    public static readonly BigInteger Wad = Fixed.Wad;
    public const long DayMs = 86_400_000;

    /// <summary>The funding rate (WAD per day) and index (WAD) at <paramref name="now"/>, from the book's as of its last update, at <paramref name="price"/>.</summary>
    public static (BigInteger Rate, BigInteger Funding) Accrued(PerpParameters p, PerpBook b, long now, BigInteger price)
    {
        var dt = Math.Max(0, now - b.UpdatedAt);
        if (dt == 0) return (b.Rate, b.Funding);
        var rate = b.Rate + Velocity(p, b) * dt / DayMs;
        // The index moves by −(rate₀ + rate)/2 · Δt/day · price: longs pay shorts when the skew is long. Floored, so
        // every position reads the same index.
        var move = -(b.Rate + rate) * dt * price;
        return (rate, b.Funding + FloorDiv(move, 2 * DayMs * Wad));
    }

    /// <summary>clamp(skew / skew_scale, −1, 1) · max velocity, WAD per day per day (rounded toward zero).</summary>
    public static BigInteger Velocity(PerpParameters p, PerpBook b)
    {
        var scale = (BigInteger)p.SkewScale.Value;
        var proportional = scale.IsZero ? 0 : BigInteger.Clamp(b.Skew * Wad / scale, -Wad, Wad);
        return proportional * p.MaxFundingVelocity.Value / Wad;
    }

    /// <summary><c>x · 10^dm / (10^du · WAD)</c> as an exact fraction: a size times a WAD price, in base units of the margin asset.</summary>
    public static (BigInteger Num, BigInteger Den) Value(PerpParameters p, BigInteger sizeTimesWad) =>
        (sizeTimesWad * BigInteger.Pow(10, p.MarginDecimals), BigInteger.Pow(10, p.UnderlyingDecimals) * Wad);

    /// <summary>A position's profit and loss with funding, in margin base units, floored (a gain rounds down, a loss up).</summary>
    public static BigInteger Pnl(PerpParameters p, PerpPosition pos, BigInteger price, BigInteger funding)
    {
        var (num, den) = Value(p, pos.Size * (price - pos.Entry + funding - pos.FundingEntry));
        return FloorDiv(num, den);
    }

    /// <summary>The funding part of the pnl alone, floored.</summary>
    public static BigInteger FundingPnl(PerpParameters p, PerpPosition pos, BigInteger funding)
    {
        var (num, den) = Value(p, pos.Size * (funding - pos.FundingEntry));
        return FloorDiv(num, den);
    }

    /// <summary><c>|size| · price · ratio</c> in margin base units, rounded up (a requirement).</summary>
    public static BigInteger Requirement(PerpParameters p, BigInteger size, BigInteger price, BigInteger ratio)
    {
        var (num, den) = Value(p, BigInteger.Abs(size) * price * ratio);
        return CeilDiv(num, den * Wad);
    }

    /// <summary>The taker fee of <paramref name="delta"/> at <paramref name="price"/>, rounded up.</summary>
    public static BigInteger Fee(PerpParameters p, BigInteger delta, BigInteger price)
    {
        var (num, den) = Value(p, BigInteger.Abs(delta) * price * p.TakerFeeBps);
        return CeilDiv(num, den * Fixed.Bps);
    }

    /// <summary>
    /// The price (WAD) at which the position's equity meets its maintenance margin, funding held where it is:
    /// margin + fundingPnl + size·(P − entry) = |size|·P·mmr, so P = (size·entry − (margin + fundingPnl)·c) / (size − |size|·mmr)
    /// with c converting margin units back to size·price. Null without a position, or when no price reaches it.
    /// </summary>
    public static BigInteger? LiquidationPrice(PerpParameters p, PerpPosition pos, BigInteger funding)
    {
        if (pos.Size.IsZero) return null;
        var mmr = (BigInteger)p.MaintenanceMarginRatio.Value;
        // In units of size · WAD-price: margin m (margin base units) is m · 10^du · WAD / 10^dm.
        var equityAtEntry = (pos.Margin * BigInteger.Pow(10, p.UnderlyingDecimals) * Wad + pos.Size * (funding - pos.FundingEntry) * BigInteger.Pow(10, p.MarginDecimals))
            / BigInteger.Pow(10, p.MarginDecimals);
        var num = pos.Size * pos.Entry - equityAtEntry;
        var den = pos.Size * Wad - BigInteger.Abs(pos.Size) * mmr;
        if (den.IsZero) return null;
        var price = num * Wad / den;
        return price.Sign > 0 ? price : null;
    }

    public static BigInteger FloorDiv(BigInteger a, BigInteger b)
    {
        var q = BigInteger.DivRem(a, b, out var r);
        return !r.IsZero && (r.Sign < 0) != (b.Sign < 0) ? q - 1 : q;
    }

    public static BigInteger CeilDiv(BigInteger a, BigInteger b) => -FloorDiv(-a, b);
}

public enum PerpCallKind
{
    /// <summary>In: margin asset; the account's vault shares grow.</summary>
    VaultDeposit,
    /// <summary>Out: margin asset, burning the account's vault shares.</summary>
    VaultWithdraw,
    MarginDeposit,
    MarginWithdraw,
    /// <summary>A signed size delta, filled at the mark price.</summary>
    Order,
    /// <summary>Closes another account's position below maintenance margin; out: the reward.</summary>
    Liquidate,
}

/// <summary>Everything a perpetual futures market persists (the durable schema: add fields only with defaults).</summary>
public interface IPerpEvent;

public sealed record PerpCreated(PerpParameters Parameters, long At) : IPerpEvent;

/// <summary>
/// A decided call, with everything it changed: the funding accrued to <paramref name="At"/> at <paramref name="Price"/>
/// (WAD), the position of <paramref name="Trader"/> as it now stands, the vault's balance change and the caller's shares.
/// Refused, Out is In and nothing else changes (the funding is still accrued: time passed).
/// </summary>
public sealed record PerpCallDecided(AccountId Account, TxId Id, PerpCallKind Kind, Leg[] In, Leg[] Out, string? Code, long At, Amount Price,
    AccountId Trader, Int128 Size, Amount Entry, Int128 FundingEntry, Amount Margin, Int128 VaultChange, Int128 SharesChange) : IPerpEvent;

/// <summary>A perpetual futures market: its parameters, vault, funding and positions.</summary>
public sealed class PerpState
{
    public required PerpId Id { get; init; }
    public bool Exists { get; set; }
    public PerpParameters Parameters { get; set; } = null!;
    public long CreatedAt { get; set; }
    public PerpBook Book { get; } = new();
    /// <summary>The vault's balance of the margin asset, and its shares by account.</summary>
    public BigInteger Vault { get; set; }
    public BigInteger VaultShares { get; set; }
    public Dictionary<AccountId, BigInteger> Shares { get; } = [];
    public Dictionary<AccountId, PerpPosition> Positions { get; } = [];
    public AnswerStore Answers { get; } = new();

    public PerpPosition PositionOf(AccountId account) => Positions.GetValueOrDefault(account) ?? PerpPosition.None;

    /// <summary>The margin the market holds for traders.</summary>
    public BigInteger Margins => Positions.Values.Aggregate(BigInteger.Zero, (sum, p) => sum + p.Margin);
}

/// <summary>The rules of a perpetual futures market (api.md 1.1): each call decided against the funding accrued to its time and the mark price.</summary>
public static class PerpContract
{
    /// <summary>
    /// What the vault would owe if every position closed now: Σ size·(price − entry + F − F_entry) over positions, in margin
    /// units, rounded up (the vault's debt). From the book's sums, without visiting the positions.
    /// </summary>
    public static BigInteger VaultDebt(PerpState s, BigInteger price, BigInteger funding)
    {
        var b = s.Book;
        var (num, den) = PerpMath.Value(s.Parameters, b.Skew * (price + funding) - b.SizeEntry - b.SizeFundingEntry);
        return PerpMath.CeilDiv(num, den);
    }

    public static PerpCallDecided Decide(PerpState s, AccountId account, TxId id, PerpCallKind kind, Leg[] @in, BigInteger amount, AccountId? target,
        BigInteger price, long now)
    {
        var p = s.Parameters;
        var trader = kind == PerpCallKind.Liquidate ? target ?? account : account;
        var pos = s.PositionOf(trader);
        PerpCallDecided Refuse(string code) => Decided(account, id, kind, @in, @in, code, now, price, trader, pos, 0, 0);
        if (!s.Exists) return Refuse(Codes.PerpNotFound);
        if (price.Sign <= 0) return Refuse(Codes.PriceNotSet);
        var (_, funding) = PerpMath.Accrued(p, s.Book, now, price);
        var margin = p.MarginAsset;
        switch (kind)
        {
            case PerpCallKind.VaultDeposit:
                {
                    if (amount.IsZero) return Refuse(Codes.ZeroAmount);
                    if (@in is not [var leg] || leg.Asset != margin || leg.Amount.Value != amount) return Refuse(Codes.InvalidRequest);
                    var shares = s.VaultShares.IsZero || s.Vault.IsZero ? amount : amount * s.VaultShares / s.Vault;
                    if (shares.IsZero) return Refuse(Codes.ZeroAmount);
                    return Decided(account, id, kind, @in, [], null, now, price, trader, pos, amount, shares);
                }
            case PerpCallKind.VaultWithdraw:
                {
                    if (amount.IsZero) return Refuse(Codes.ZeroAmount);
                    var owned = s.Shares.GetValueOrDefault(account);
                    // The shares it takes, rounded up; never more than the account owns.
                    var burn = s.Vault.IsZero ? owned + 1 : PerpMath.CeilDiv(amount * s.VaultShares, s.Vault);
                    if (burn > owned) return Refuse(Codes.InsufficientFunds);
                    if (s.Vault - amount < BigInteger.Max(0, VaultDebt(s, price, funding))) return Refuse(Codes.InsufficientLiquidity);
                    return Decided(account, id, kind, @in, [new Leg(margin, new Amount((UInt128)amount))], null, now, price, trader, pos, -amount, -burn);
                }
            case PerpCallKind.MarginDeposit:
                {
                    if (amount.IsZero) return Refuse(Codes.ZeroAmount);
                    if (@in is not [var leg] || leg.Asset != margin || leg.Amount.Value != amount) return Refuse(Codes.InvalidRequest);
                    return Decided(account, id, kind, @in, [], null, now, price, trader, pos with { Margin = pos.Margin + amount }, 0, 0);
                }
            case PerpCallKind.MarginWithdraw:
                {
                    if (amount.IsZero) return Refuse(Codes.ZeroAmount);
                    if (amount > pos.Margin) return Refuse(Codes.InsufficientMargin);
                    var equity = pos.Margin - amount + PerpMath.Pnl(p, pos, price, funding);
                    if (equity < PerpMath.Requirement(p, pos.Size, price, p.InitialMarginRatio.Value)) return Refuse(Codes.InsufficientMargin);
                    return Decided(account, id, kind, @in, [new Leg(margin, new Amount((UInt128)amount))], null, now, price, trader,
                        pos with { Margin = pos.Margin - amount }, 0, 0);
                }
            case PerpCallKind.Order:
                {
                    // amount carries the signed size delta.
                    if (amount.IsZero) return Refuse(Codes.ZeroAmount);
                    // Synthetix's way: the whole position's pnl and funding are realised into margin, and the new size
                    // starts from this fill; equity is the same as if only the closed part had been realised.
                    var pnl = PerpMath.Pnl(p, pos, price, funding);
                    var fee = PerpMath.Fee(p, amount, price);
                    var newMargin = pos.Margin + pnl - fee;
                    var size = pos.Size + amount;
                    if (newMargin < PerpMath.Requirement(p, size, price, p.InitialMarginRatio.Value)) return Refuse(Codes.InsufficientMargin);
                    var after = new PerpPosition(size, size.IsZero ? 0 : price, size.IsZero ? 0 : funding, newMargin);
                    var vaultChange = fee - pnl;
                    if (!Covered(s, pos, after, vaultChange, price, funding)) return Refuse(Codes.InsufficientLiquidity);
                    return Decided(account, id, kind, @in, [], null, now, price, trader, after, vaultChange, 0);
                }
            case PerpCallKind.Liquidate:
                {
                    if (target is null || target == account) return Refuse(Codes.InvalidRequest);
                    if (pos.Size.IsZero) return Refuse(Codes.HealthyPosition);
                    var pnl = PerpMath.Pnl(p, pos, price, funding);
                    var equity = pos.Margin + pnl;
                    if (equity >= PerpMath.Requirement(p, pos.Size, price, p.MaintenanceMarginRatio.Value)) return Refuse(Codes.HealthyPosition);
                    var (rewardNum, rewardDen) = PerpMath.Value(p, BigInteger.Abs(pos.Size) * price * p.LiquidationRewardRatio.Value);
                    var reward = BigInteger.Min(BigInteger.Max(equity, 0), rewardNum / (rewardDen * PerpMath.Wad));
                    // The vault takes the loss the margin covers; a shortfall (negative equity) is its bad debt.
                    var vaultChange = pos.Margin - BigInteger.Max(equity, 0);
                    var after = new PerpPosition(0, 0, 0, BigInteger.Max(equity, 0) - reward);
                    if (!Covered(s, pos, after, vaultChange, price, funding)) return Refuse(Codes.InsufficientLiquidity);
                    Leg[] @out = reward.IsZero ? [] : [new Leg(margin, new Amount((UInt128)reward))];
                    return Decided(account, id, kind, @in, @out, null, now, price, trader, after, vaultChange, 0);
                }
            default:
                return Refuse(Codes.InvalidRequest);
        }
    }

    /// <summary>After the change, the vault is not below zero nor below what the remaining positions would take from it.</summary>
    private static bool Covered(PerpState s, PerpPosition before, PerpPosition after, BigInteger vaultChange, BigInteger price, BigInteger funding)
    {
        var vault = s.Vault + vaultChange;
        if (vault.Sign < 0) return false;
        var b = s.Book;
        var (num, den) = PerpMath.Value(s.Parameters,
            (b.Skew - before.Size + after.Size) * (price + funding)
            - (b.SizeEntry - before.Size * before.Entry + after.Size * after.Entry)
            - (b.SizeFundingEntry - before.Size * before.FundingEntry + after.Size * after.FundingEntry));
        return vault >= PerpMath.CeilDiv(num, den);
    }

    private static PerpCallDecided Decided(AccountId account, TxId id, PerpCallKind kind, Leg[] @in, Leg[] @out, string? code, long now,
        BigInteger price, AccountId trader, PerpPosition pos, BigInteger vaultChange, BigInteger sharesChange) =>
        new(account, id, kind, @in, @out, code, now, new Amount((UInt128)BigInteger.Max(price, 0)), trader, (Int128)pos.Size, new Amount((UInt128)pos.Entry),
            (Int128)pos.FundingEntry, new Amount((UInt128)pos.Margin), (Int128)vaultChange, (Int128)sharesChange);

    public static void Apply(PerpState s, IPerpEvent e)
    {
        switch (e)
        {
            case PerpCreated c:
                s.Exists = true;
                s.Parameters = c.Parameters;
                s.CreatedAt = c.At;
                s.Book.UpdatedAt = c.At;
                break;
            case PerpCallDecided d:
                s.Answers.Remember(d.Account, d.Id, new CallAnswer(d.Out, d.Code));
                if (!s.Exists || d.Price.IsZero) break;
                var (rate, funding) = PerpMath.Accrued(s.Parameters, s.Book, d.At, d.Price.Value);
                (s.Book.Rate, s.Book.Funding, s.Book.UpdatedAt) = (rate, funding, Math.Max(s.Book.UpdatedAt, d.At));
                if (d.Code is not null) break;
                var before = s.PositionOf(d.Trader);
                var after = new PerpPosition(d.Size, d.Entry.Value, d.FundingEntry, d.Margin.Value);
                Move(s.Book, before, -1);
                Move(s.Book, after, +1);
                if (after == PerpPosition.None) s.Positions.Remove(d.Trader);
                else s.Positions[d.Trader] = after;
                s.Vault += d.VaultChange;
                if (d.SharesChange != 0)
                {
                    s.VaultShares += d.SharesChange;
                    var shares = s.Shares.GetValueOrDefault(d.Account) + d.SharesChange;
                    if (shares.IsZero) s.Shares.Remove(d.Account);
                    else s.Shares[d.Account] = shares;
                }
                break;
            default:
                throw new ArgumentException($"unknown perp event {e.GetType().Name}", nameof(e));
        }
    }

    /// <summary>A position restored from a snapshot, counted in the book's sums.</summary>
    internal static void Open(PerpState s, AccountId account, PerpPosition pos)
    {
        Move(s.Book, pos, +1);
        s.Positions[account] = pos;
    }

    private static void Move(PerpBook b, PerpPosition pos, int sign)
    {
        if (pos.Size.Sign > 0) b.LongInterest += sign * pos.Size;
        else b.ShortInterest -= sign * pos.Size;
        b.SizeEntry += sign * pos.Size * pos.Entry;
        b.SizeFundingEntry += sign * pos.Size * pos.FundingEntry;
    }

    /// <summary>The market's real balance of its margin asset: the vault and every trader's margin.</summary>
    public static Protocol.Holding[] Holdings(PerpState s) => s.Exists
        ? [new(s.Parameters.MarginAsset, (Int128)(s.Vault + s.Margins), default, default)]
        : [];
}

/// <summary>The persisted form of a <see cref="PerpState"/>: big numbers as decimal strings, answers as the venues keep them.</summary>
public sealed record PerpSnapshot(PerpParameters? Parameters, long CreatedAt, string Rate, string Funding, long UpdatedAt, string Vault, string VaultShares,
    PerpShareEntry[] Shares, PerpPositionEntry[] Positions, PoolAnswerEntry[] Answers, byte[] Seen, byte[] SeenRuns)
{
    public static PerpSnapshot Of(PerpState s)
    {
        var (answers, seen, runs) = s.Answers.ToSnapshot();
        return new(s.Exists ? s.Parameters : null, s.CreatedAt, MarketSnapshot.Text(s.Book.Rate), MarketSnapshot.Text(s.Book.Funding), s.Book.UpdatedAt,
            MarketSnapshot.Text(s.Vault), MarketSnapshot.Text(s.VaultShares),
            [.. s.Shares.Select(kv => new PerpShareEntry(kv.Key, MarketSnapshot.Text(kv.Value)))],
            [.. s.Positions.Select(kv => new PerpPositionEntry(kv.Key, MarketSnapshot.Text(kv.Value.Size), MarketSnapshot.Text(kv.Value.Entry),
                MarketSnapshot.Text(kv.Value.FundingEntry), MarketSnapshot.Text(kv.Value.Margin)))],
            answers, seen, runs);
    }

    public PerpState Restore(PerpState s)
    {
        if (Parameters is not null) PerpContract.Apply(s, new PerpCreated(Parameters, CreatedAt));
        (s.Book.Rate, s.Book.Funding, s.Book.UpdatedAt) = (MarketSnapshot.Number(Rate), MarketSnapshot.Number(Funding), UpdatedAt);
        (s.Vault, s.VaultShares) = (MarketSnapshot.Number(Vault), MarketSnapshot.Number(VaultShares));
        foreach (var e in Shares) s.Shares[e.Account] = MarketSnapshot.Number(e.Shares);
        foreach (var e in Positions)
            PerpContract.Open(s, e.Account, new PerpPosition(MarketSnapshot.Number(e.Size), MarketSnapshot.Number(e.Entry), MarketSnapshot.Number(e.FundingEntry),
                MarketSnapshot.Number(e.Margin)));
        s.Answers.Restore(Answers, Seen, SeenRuns);
        return s;
    }
}

public sealed record PerpShareEntry(AccountId Account, string Shares);

public sealed record PerpPositionEntry(AccountId Account, string Size, string Entry, string FundingEntry, string Margin);
