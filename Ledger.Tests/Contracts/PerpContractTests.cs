using System.Numerics;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Perps;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

/// <summary>
/// Perpetual futures arithmetic: Synthetix v3's worked funding value, dYdX's isolated liquidation price and that a
/// position is liquidatable exactly past it, and a property over random deposits, orders, prices, time and liquidations.
/// </summary>
public class PerpContractTests(ITestOutputHelper output)
{
    private static readonly BigInteger Wad = BigInteger.Pow(10, 18);
    private static readonly AssetId Eth = new("ETH"), Usdc = new("USDC");
    private static readonly AccountId Lp = new("lp"), Alice = new("alice"), Bob = new("bob"), Keeper = new("keeper");
    private static int _n;

    private static Amount A(BigInteger v) => new((UInt128)v);

    private static PerpParameters Parameters(BigInteger? skewScale = null, BigInteger? velocity = null) => new(Eth, Usdc, 18, 6,
        A(skewScale ?? 1_000_000 * Wad), A(velocity ?? Wad * 25 / 10_000), A(Wad / 10), A(Wad / 20), A(Wad / 100), 5);

    private static PerpState Market(PerpParameters? p = null)
    {
        var s = new PerpState { Id = new("eth-perp") };
        PerpContract.Apply(s, new PerpCreated(p ?? Parameters(), 0));
        return s;
    }

    private static PerpCallDecided Call(PerpState s, AccountId who, PerpCallKind kind, BigInteger amount, BigInteger price, long at, AccountId? target = null)
    {
        Leg[] @in = kind is PerpCallKind.VaultDeposit or PerpCallKind.MarginDeposit ? [new Leg(Usdc, A(amount))] : [];
        var d = PerpContract.Decide(s, who, new TxId("p" + Interlocked.Increment(ref _n)), kind, @in, amount, target, price, at);
        PerpContract.Apply(s, d);
        return d;
    }

    [Fact]
    public void Synthetix_funding_rate_after_29000_seconds_at_full_skew_and_velocity_0_0025_per_day_is_0_00083912()
    {
        var p = Parameters(skewScale: 1_000 * Wad, velocity: Wad * 25 / 10_000);
        var book = new PerpBook { LongInterest = 1_000 * Wad };
        var (rate, funding) = PerpMath.Accrued(p, book, 29_000_000, 2_000 * Wad);
        // 0.0025 · 29,000 / 86,400 = 0.000839120370370370…
        Assert.Equal(BigInteger.Parse("839120370370370", System.Globalization.CultureInfo.InvariantCulture), rate);
        Assert.Equal("0.00083912037037037", Fixed.FormatWad(rate));
        // The index moved by −(0 + rate)/2 · 29,000/86,400 · 2,000: longs pay.
        Assert.Equal(PerpMath.FloorDiv(-rate * 29_000_000 * 2_000 * Wad, 2 * PerpMath.DayMs * Wad), funding);
        Assert.True(funding < 0);
    }

    [Fact]
    public void DYdX_isolated_short_of_3_at_3000_with_1000_equity_and_5_percent_maintenance_liquidates_past_3174_60()
    {
        var s = Market(Parameters() with { MaintenanceMarginRatio = A(Wad / 20), InitialMarginRatio = A(Wad / 10), TakerFeeBps = 0 });
        Assert.Null(Call(s, Lp, PerpCallKind.VaultDeposit, 1_000_000_000_000, 3_000 * Wad, 0).Code);
        Assert.Null(Call(s, Alice, PerpCallKind.MarginDeposit, 1_000_000_000, 3_000 * Wad, 0).Code);
        Assert.Null(Call(s, Alice, PerpCallKind.Order, -3 * Wad, 3_000 * Wad, 0).Code);
        var position = s.PositionOf(Alice);
        Assert.Equal((-3 * Wad, 3_000 * Wad, (BigInteger)1_000_000_000), (position.Size, position.Entry, position.Margin));

        var liquidation = PerpMath.LiquidationPrice(s.Parameters, position, s.Book.Funding)!.Value;
        // 10,000 / 3.15 = 3,174.603174603174603174…
        Assert.Equal("3174.603174603174603174", Fixed.FormatWad(liquidation));
        // At 3,174.60 equity is 476.200000, maintenance 476.190000: healthy. At 3,174.61, 476.170000 < 476.191500.
        Assert.Equal(Codes.HealthyPosition, Call(s, Bob, PerpCallKind.Liquidate, 0, 317_460 * Wad / 100, 0, Alice).Code);
        var done = Call(s, Bob, PerpCallKind.Liquidate, 0, 317_461 * Wad / 100, 0, Alice);
        Assert.Null(done.Code);
        // The keeper's reward: 1 % of 3 · 3,174.61 = 95.2383 USDC, out of the 476.17 equity; the rest stays the trader's.
        Assert.Equal([new Leg(Usdc, A(95_238_300))], done.Out);
        Assert.Equal(476_170_000 - 95_238_300, (long)s.PositionOf(Alice).Margin);
        Assert.Equal(BigInteger.Zero, s.PositionOf(Alice).Size);
    }

    [Fact]
    public void Orders_beyond_the_initial_margin_or_the_vault_and_withdrawals_below_it_are_refused_and_change_nothing()
    {
        var s = Market();
        var price = 2_000 * Wad;
        Call(s, Lp, PerpCallKind.VaultDeposit, 100_000_000, price, 0);
        Call(s, Alice, PerpCallKind.MarginDeposit, 1_000_000_000, price, 0);
        // 10 % initial margin: 1,000 USDC carries 5 ETH at 2,000 less the fee; 5 ETH exactly does not fit after the fee.
        Assert.Equal(Codes.InsufficientMargin, Call(s, Alice, PerpCallKind.Order, 5 * Wad, price, 0).Code);
        Assert.Null(Call(s, Alice, PerpCallKind.Order, 4 * Wad, price, 0).Code);
        Assert.Equal(Codes.InsufficientMargin, Call(s, Alice, PerpCallKind.MarginWithdraw, 300_000_000, price, 1).Code);
        // The vault holds 100 USDC and a little fee; a price rise of 30 would owe alice 120: the vault cannot let her close,
        // nor can its provider withdraw below what it owes.
        Assert.Equal(Codes.InsufficientLiquidity, Call(s, Lp, PerpCallKind.VaultWithdraw, 100_000_000, 2_030 * Wad, 2).Code);
        Assert.Equal(Codes.InsufficientLiquidity, Call(s, Alice, PerpCallKind.Order, -4 * Wad, 2_030 * Wad, 2).Code);
        Assert.Equal(4 * Wad, s.PositionOf(Alice).Size);
        Assert.Equal(Codes.ZeroAmount, Call(s, Alice, PerpCallKind.Order, 0, price, 3).Code);
        Assert.Equal(Codes.PriceNotSet, Call(s, Alice, PerpCallKind.Order, Wad, 0, 3).Code);
        Assert.Equal(Codes.PerpNotFound, PerpContract.Decide(new PerpState { Id = new("none") }, Alice, new("x"), PerpCallKind.Order, [], Wad, null, price, 0).Code);
    }

    /// <summary>
    /// Random vault deposits, margin, orders both ways, prices from 500 to 4,000, hours passing and liquidation attempts
    /// over four traders. After every step the market holds exactly what came in less what went out (vault plus margins),
    /// the vault is never below zero, the open interest and the sums the vault's debt is read from match the positions
    /// (so every position's funding is read from the one index the vault's is), a liquidation succeeds only below
    /// maintenance (checked with exact fractions), and after everyone closed, the vault and the margins hold what went in.
    /// </summary>
    [Fact]
    public void Money_is_conserved_healthy_positions_stand_and_the_books_match_the_positions()
    {
        var seen = new Coverage();
        PropertyRun.Check(Gens.Script(Gens.Word, 1, 80), script => Holds(script, seen), maxTest: 200, seed: 20_24_01, shrink: PropertyRun.ShrinkScript);
        seen.AssertFloors(output,
            ("VaultDeposit", 200), ("MarginDeposit", 500), ("Order", 1_000), ("MarginWithdraw", 50), ("Liquidate", 20),
            ("refused healthy_position", 200), ("refused insufficient_margin", 100), ("closed", 200));
    }

    private static readonly AccountId[] Traders = [new("t0"), new("t1"), new("t2"), new("t3")];

    private static bool Holds(uint[] script, Coverage seen)
    {
        var s = Market(Parameters(skewScale: 100 * Wad, velocity: Wad / 10) with { TakerFeeBps = 10 });
        BigInteger inside = 0;
        long now = 0;
        var price = 2_000 * Wad;
        Call(s, Lp, PerpCallKind.VaultDeposit, 50_000_000_000, price, now);
        inside += 50_000_000_000;
        for (var i = 0; i < script.Length; i++)
        {
            var v = Scripts.Mix(script[i] + (uint)i * 0x9E3779B9);
            var who = Traders[v % 4];
            now += (long)((v >> 2) % 8) * 900_000;
            if ((v >> 5) % 2 == 0) price = BigInteger.Max(500 * Wad, BigInteger.Min(4_000 * Wad, price + ((int)((v >> 7) % 601) - 300) * Wad));
            var amount = (BigInteger)((v >> 16) % 2_000 + 1) * 1_000_000;
            var (kind, delta) = ((v >> 27) % 8) switch
            {
                0 => (PerpCallKind.VaultDeposit, amount * 10),
                1 or 2 => (PerpCallKind.MarginDeposit, amount),
                3 => (PerpCallKind.MarginWithdraw, amount / 4),
                6 => (PerpCallKind.Liquidate, BigInteger.Zero),
                _ => (PerpCallKind.Order, ((BigInteger)((v >> 16) % 200) - 100) * Wad / 20),
            };
            var target = kind == PerpCallKind.Liquidate ? Traders[(v >> 12) % 4] : (AccountId?)null;
            var before = target is { } t ? s.PositionOf(t) : null;
            var funding = PerpMath.Accrued(s.Parameters, s.Book, now, price).Funding;
            var d = Call(s, kind == PerpCallKind.VaultDeposit ? Lp : kind == PerpCallKind.Liquidate ? Keeper : who, kind, delta, price, now, target);
            seen.Add(d.Code is null ? kind.ToString() : "refused " + d.Code);
            if (d.Code is null)
            {
                inside += d.In.Aggregate(BigInteger.Zero, (sum, l) => sum + l.Amount.Value) - d.Out.Aggregate(BigInteger.Zero, (sum, l) => sum + l.Amount.Value);
                if (kind == PerpCallKind.Liquidate && before is not null)
                {
                    // Below maintenance, by exact fractions: (margin·D + size·(P − entry + F − F_entry)·10^dm) < |size|·P·mmr·10^dm / WAD,
                    // D = 10^du · WAD; the market's rounding (equity down, requirement up) may bring it forward by one unit.
                    var den = BigInteger.Pow(10, 18) * Wad;
                    var equity = before.Margin * den + before.Size * (price - before.Entry + funding - before.FundingEntry) * 1_000_000;
                    var maintenance = BigInteger.Abs(before.Size) * price * s.Parameters.MaintenanceMarginRatio.Value * 1_000_000 / Wad;
                    if (equity >= maintenance + 2 * den) return false;
                }
            }
            // The market holds what came in less what went out, the vault is never negative.
            if (s.Vault + s.Margins != inside || s.Vault.Sign < 0) return false;
            var held = PerpContract.Holdings(s).Single();
            if ((BigInteger)held.Held != inside) return false;
            var positions = s.Positions.Values;
            if (s.Book.LongInterest != positions.Where(p => p.Size.Sign > 0).Aggregate(BigInteger.Zero, (sum, p) => sum + p.Size)
                || s.Book.ShortInterest != positions.Where(p => p.Size.Sign < 0).Aggregate(BigInteger.Zero, (sum, p) => sum - p.Size)
                || s.Book.SizeEntry != positions.Aggregate(BigInteger.Zero, (sum, p) => sum + p.Size * p.Entry)
                || s.Book.SizeFundingEntry != positions.Aggregate(BigInteger.Zero, (sum, p) => sum + p.Size * p.FundingEntry)) return false;
        }
        // Everyone closes (those the vault or margin cannot carry are liquidated or left), then the books balance.
        foreach (var t in Traders)
        {
            var size = s.PositionOf(t).Size;
            if (size.IsZero) continue;
            var close = Call(s, t, PerpCallKind.Order, -size, price, now + 1);
            if (close.Code is null)
            {
                seen.Add("closed");
                if (!s.PositionOf(t).Size.IsZero) return false;
            }
        }
        if (s.Positions.Values.All(p => p.Size.IsZero) && (s.Book.LongInterest != 0 || s.Book.ShortInterest != 0 || s.Book.SizeEntry != 0)) return false;
        return s.Vault + s.Margins == inside;
    }
}
