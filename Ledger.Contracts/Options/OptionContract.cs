using System.Numerics;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Options;

public enum OptionKind
{
    Call,
    Put,
}

public enum OptionCallKind
{
    /// <summary>In: the collateral; out: the series' tokens. The writer's short grows.</summary>
    Mint,
    /// <summary>In: tokens the writer holds; out: the collateral they no longer need.</summary>
    Burn,
    /// <summary>In: tokens; out: their payout at the expiry price (nothing out of the money).</summary>
    Redeem,
    /// <summary>In: nothing; out: the writer's collateral minus what its short owes holders.</summary>
    Settle,
}

/// <summary>Everything an option series persists (the durable schema: add fields only with defaults).</summary>
public interface IOptionEvent;

/// <summary>
/// A series: <paramref name="Strike"/> is the price of one whole underlying in whole strike asset, in WAD;
/// <paramref name="UnderlyingDecimals"/> and <paramref name="StrikeDecimals"/> are the two assets' decimals.
/// </summary>
public sealed record OptionCreated(AssetId Underlying, AssetId StrikeAsset, OptionKind Kind, Amount Strike, long Expiry, long DisputeMs,
    int UnderlyingDecimals, int StrikeDecimals, long At) : IOptionEvent;

/// <summary>The expiry price (WAD), set or replaced within the dispute window.</summary>
public sealed record ExpiryPriceSet(Amount Price, long At) : IOptionEvent;

/// <summary>The series decided a call: it received <paramref name="In"/> and owes <paramref name="Out"/>; refused, Out is In.</summary>
public sealed record OptionCallDecided(AccountId Account, TxId Id, OptionCallKind Kind, Amount Amount, Leg[] In, Leg[] Out, string? Code, long At)
    : IOptionEvent;

/// <summary>A writer's side of a series.</summary>
public sealed class WriterPosition
{
    /// <summary>Tokens written and not burned (the short position).</summary>
    public Amount Written { get; set; }
    /// <summary>Collateral locked for them.</summary>
    public Amount Collateral { get; set; }
    public bool Settled { get; set; }
}

/// <summary>
/// One option series (Opyn Gamma's fully collateralised, cash-settled European option): writers lock collateral and
/// receive the token <c>opt.&lt;id&gt;</c>, which is an ordinary asset; after expiry and the dispute window, holders
/// redeem tokens for their payout and writers settle for what their collateral does not owe.
/// </summary>
public sealed class OptionState
{
    public required OptionId Id { get; init; }
    public bool Exists { get; set; }
    public AssetId Underlying { get; set; }
    public AssetId StrikeAsset { get; set; }
    public OptionKind Kind { get; set; }
    /// <summary>WAD.</summary>
    public Amount Strike { get; set; }
    public long Expiry { get; set; }
    public long DisputeMs { get; set; }
    public int UnderlyingDecimals { get; set; }
    public int StrikeDecimals { get; set; }
    public long CreatedAt { get; set; }
    /// <summary>WAD; null until set.</summary>
    public Amount? ExpiryPrice { get; set; }
    /// <summary>Tokens in holders' hands: minted, less burned and redeemed.</summary>
    public Amount Outstanding { get; set; }
    /// <summary>The series' balance of its collateral asset: locked by writers, less what was paid out.</summary>
    public Amount CollateralHeld { get; set; }
    public Dictionary<AccountId, WriterPosition> Writers { get; } = [];
    public AnswerStore Answers { get; } = new();

    public AssetId Token => Id.Token;

    /// <summary>What writers lock and holders are paid in: the underlying for a call, the strike asset for a put.</summary>
    public AssetId CollateralAsset => Kind == OptionKind.Call ? Underlying : StrikeAsset;

    public bool Expired(long now) => now >= Expiry;

    /// <summary>The expiry price can no longer change: set, and the dispute window is over.</summary>
    public bool PriceFinal(long now) => ExpiryPrice is not null && now >= Expiry + DisputeMs;
}

/// <summary>
/// The series' rules (api.md 1.1, "Options"): pure, exact, rounding in the series' favour — what it takes rounds up,
/// what it pays rounds down — so that holders are always covered.
/// </summary>
public static class OptionContract
{
    /// <summary>The longest dispute window: 30 days.</summary>
    public const long DisputeMsMax = 30L * 24 * 3600 * 1000;

    private static BigInteger Pow10(int n) => BigInteger.Pow(10, n);

    /// <summary>A put's collateral for <paramref name="amount"/> base units: ceil(amount · K · 10^ds / 10^du) in strike asset; a call's is the amount itself.</summary>
    public static BigInteger Collateral(OptionKind kind, Amount strike, int underlyingDecimals, int strikeDecimals, BigInteger amount) => kind == OptionKind.Call
        ? amount
        : Fixed.MulDivUp(amount * strike.Value, Pow10(strikeDecimals), Pow10(underlyingDecimals) * Fixed.Wad);

    public static BigInteger Collateral(OptionState s, BigInteger amount) => Collateral(s.Kind, s.Strike, s.UnderlyingDecimals, s.StrikeDecimals, amount);

    /// <summary>What <paramref name="amount"/> tokens are worth at expiry price <paramref name="price"/>, rounded down (paid to a holder) or up (owed by a writer).</summary>
    public static BigInteger Payout(OptionState s, BigInteger amount, BigInteger price, bool roundUp)
    {
        var strike = (BigInteger)s.Strike.Value;
        if (s.Kind == OptionKind.Put)
        {
            if (price >= strike) return 0;
            var (num, den) = (amount * (strike - price) * Pow10(s.StrikeDecimals), Pow10(s.UnderlyingDecimals) * Fixed.Wad);
            return roundUp ? (num + den - 1) / den : num / den;
        }
        if (price <= strike) return 0;
        return roundUp ? Fixed.MulDivUp(amount, price - strike, price) : Fixed.MulDivDown(amount, price - strike, price);
    }

    /// <summary>A new series, or nothing if it exists alike; <c>option_exists</c> if it exists otherwise.</summary>
    public static (IReadOnlyList<IOptionEvent> Events, string? Rejection) Create(OptionState s, OptionCreated c)
    {
        if (!s.Exists) return ([c], null);
        var same = s.Underlying == c.Underlying && s.StrikeAsset == c.StrikeAsset && s.Kind == c.Kind && s.Strike == c.Strike
            && s.Expiry == c.Expiry && s.DisputeMs == c.DisputeMs;
        return ([], same ? null : Codes.OptionExists);
    }

    /// <summary>
    /// Sets the expiry price from the expiry on, or replaces it until the dispute window ends. A price first set after the
    /// window is final at once (a series left unpriced must still settle). Null and null: it is final at that price already.
    /// </summary>
    public static (ExpiryPriceSet? Set, string? Rejection) SetExpiryPrice(OptionState s, Amount price, long now)
    {
        if (!s.Exists) return (null, Codes.OptionNotFound);
        if (price == Amount.Zero) return (null, Codes.InvalidRequest);
        if (!s.Expired(now)) return (null, Codes.OptionNotExpired);
        // The same price again is the same request again (a retry after a timeout): nothing to change.
        if (s.PriceFinal(now)) return (null, s.ExpiryPrice == price ? null : Codes.PriceFinal);
        return (new ExpiryPriceSet(price, now), null);
    }

    /// <summary>
    /// Decides one call of <paramref name="account"/>. <paramref name="in"/> is what its account already debited; a
    /// refusal gives it back (Out = In). The caller has checked the call is not a redelivery (<see cref="AnswerStore"/>).
    /// </summary>
    public static OptionCallDecided Decide(OptionState s, AccountId account, TxId id, OptionCallKind kind, Leg[] @in, Amount amount, long now)
    {
        OptionCallDecided Refuse(string code) => new(account, id, kind, amount, @in, @in, code, now);
        OptionCallDecided Pay(params Leg[] @out) => new(account, id, kind, amount, @in, [.. @out.Where(l => l.Amount != Amount.Zero)], null, now);

        if (!s.Exists) return Refuse(Codes.OptionNotFound);
        if (kind != OptionCallKind.Settle && amount == Amount.Zero) return Refuse(Codes.ZeroAmount);
        var writer = s.Writers.GetValueOrDefault(account);
        switch (kind)
        {
            case OptionCallKind.Mint:
                {
                    if (s.Expired(now)) return Refuse(Codes.OptionExpired);
                    var collateral = Collateral(s, amount.Value);
                    if (collateral > (BigInteger)UInt128.MaxValue) return Refuse(Codes.SupplyOverflow);
                    if (@in is not [var leg] || leg.Asset != s.CollateralAsset || leg.Amount.Value != collateral) return Refuse(Codes.InvalidRequest);
                    if ((BigInteger)s.Outstanding.Value + amount.Value > (BigInteger)UInt128.MaxValue
                        || (BigInteger)s.CollateralHeld.Value + collateral > (BigInteger)UInt128.MaxValue) return Refuse(Codes.SupplyOverflow);
                    return Pay(new Leg(s.Token, amount));
                }
            case OptionCallKind.Burn:
                {
                    if (s.Expired(now)) return Refuse(Codes.OptionExpired);
                    if (@in is not [var leg] || leg.Asset != s.Token || leg.Amount != amount) return Refuse(Codes.InvalidRequest);
                    if (writer is null || writer.Written < amount) return Refuse(Codes.ExceedsShort);
                    // What stays locked is exactly the collateral of the short that remains; the rest goes back.
                    var keep = Collateral(s, writer.Written.Value - amount.Value);
                    return Pay(new Leg(s.CollateralAsset, new Amount((UInt128)((BigInteger)writer.Collateral.Value - keep))));
                }
            case OptionCallKind.Redeem:
                {
                    if (!s.PriceFinal(now)) return Refuse(Codes.PriceNotFinal);
                    if (@in is not [var leg] || leg.Asset != s.Token || leg.Amount != amount) return Refuse(Codes.InvalidRequest);
                    var payout = Payout(s, amount.Value, s.ExpiryPrice!.Value.Value, roundUp: false);
                    if (payout > s.CollateralHeld.Value)
                        throw new InvalidOperationException($"option {s.Id}: a payout of {payout} exceeds the collateral held, {s.CollateralHeld}");
                    return Pay(new Leg(s.CollateralAsset, new Amount((UInt128)payout)));
                }
            case OptionCallKind.Settle:
                {
                    if (!s.PriceFinal(now)) return Refuse(Codes.PriceNotFinal);
                    if (@in.Length != 0) return Refuse(Codes.InvalidRequest);
                    if (writer is null) return Refuse(Codes.NoPosition);
                    if (writer.Settled) return Refuse(Codes.AlreadySettled);
                    var owed = Payout(s, writer.Written.Value, s.ExpiryPrice!.Value.Value, roundUp: true);
                    return Pay(new Leg(s.CollateralAsset, new Amount((UInt128)((BigInteger)writer.Collateral.Value - owed))));
                }
            default:
                return Refuse(Codes.InvalidRequest);
        }
    }

    public static void Apply(OptionState s, IOptionEvent e)
    {
        switch (e)
        {
            case OptionCreated c:
                s.Exists = true;
                (s.Underlying, s.StrikeAsset, s.Kind, s.Strike, s.Expiry, s.DisputeMs) = (c.Underlying, c.StrikeAsset, c.Kind, c.Strike, c.Expiry, c.DisputeMs);
                (s.UnderlyingDecimals, s.StrikeDecimals, s.CreatedAt) = (c.UnderlyingDecimals, c.StrikeDecimals, c.At);
                break;
            case ExpiryPriceSet p:
                s.ExpiryPrice = p.Price;
                break;
            case OptionCallDecided d:
                s.Answers.Remember(d.Account, d.Id, new CallAnswer(d.Out, d.Code));
                if (d.Code is null) Execute(s, d);
                break;
            default:
                throw new ArgumentException($"unknown option event {e.GetType().Name}", nameof(e));
        }
    }

    private static void Execute(OptionState s, OptionCallDecided d)
    {
        var paid = d.Out.Where(l => l.Asset == s.CollateralAsset).Aggregate(Amount.Zero, (sum, l) => sum + l.Amount);
        switch (d.Kind)
        {
            case OptionCallKind.Mint:
                {
                    var w = WriterOf(s, d.Account);
                    w.Written += d.Amount;
                    w.Collateral += d.In[0].Amount;
                    s.Outstanding += d.Amount;
                    s.CollateralHeld += d.In[0].Amount;
                    break;
                }
            case OptionCallKind.Burn:
                {
                    var w = WriterOf(s, d.Account);
                    w.Written -= d.Amount;
                    w.Collateral -= paid;
                    s.Outstanding -= d.Amount;
                    s.CollateralHeld -= paid;
                    break;
                }
            case OptionCallKind.Redeem:
                s.Outstanding -= d.Amount;
                s.CollateralHeld -= paid;
                break;
            case OptionCallKind.Settle:
                {
                    var w = WriterOf(s, d.Account);
                    w.Settled = true;
                    w.Collateral = Amount.Zero;
                    s.CollateralHeld -= paid;
                    break;
                }
        }
    }

    private static WriterPosition WriterOf(OptionState s, AccountId account)
    {
        if (!s.Writers.TryGetValue(account, out var w)) s.Writers[account] = w = new WriterPosition();
        return w;
    }

    /// <summary>The series' real balances: its collateral asset held, and its token as issued (−outstanding).</summary>
    public static Protocol.Holding[] Holdings(OptionState s) => s.Exists
        ?
        [
            new(s.CollateralAsset, (Int128)s.CollateralHeld.Value, default, default),
            new(s.Token, -(Int128)s.Outstanding.Value, default, s.Outstanding),
        ]
        : [];
}

/// <summary>The persisted form of an <see cref="OptionState"/> (answers as the venues keep them).</summary>
public sealed record OptionSnapshot(OptionCreated? Definition, Amount? ExpiryPrice, Amount Outstanding, Amount CollateralHeld,
    OptionWriterEntry[] Writers, PoolAnswerEntry[] Answers, byte[] Seen, byte[] SeenRuns)
{
    public static OptionSnapshot Of(OptionState s)
    {
        var (answers, seen, runs) = s.Answers.ToSnapshot();
        return new(!s.Exists ? null : new OptionCreated(s.Underlying, s.StrikeAsset, s.Kind, s.Strike, s.Expiry, s.DisputeMs, s.UnderlyingDecimals, s.StrikeDecimals, s.CreatedAt),
            s.ExpiryPrice, s.Outstanding, s.CollateralHeld,
            [.. s.Writers.Select(w => new OptionWriterEntry(w.Key, w.Value.Written, w.Value.Collateral, w.Value.Settled))], answers, seen, runs);
    }

    public OptionState Restore(OptionState s)
    {
        if (Definition is not null) OptionContract.Apply(s, Definition);
        (s.ExpiryPrice, s.Outstanding, s.CollateralHeld) = (ExpiryPrice, Outstanding, CollateralHeld);
        foreach (var w in Writers) s.Writers[w.Account] = new WriterPosition { Written = w.Written, Collateral = w.Collateral, Settled = w.Settled };
        s.Answers.Restore(Answers, Seen, SeenRuns);
        return s;
    }
}

public sealed record OptionWriterEntry(AccountId Account, Amount Written, Amount Collateral, bool Settled);
