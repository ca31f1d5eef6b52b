using System.Numerics;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

/// <summary>
/// The lending market against hand-computed values (rate model, accrual over a year, borrow limit, liquidation
/// seizure) and a property over random sequences of operations, price moves and time.
/// </summary>
public class MarketContractTests(ITestOutputHelper output)
{
    private static readonly AssetId Usd = new("USD"), Eth = new("ETH");
    private static readonly AccountId Alice = new("alice"), Bob = new("bob"), Liquidator = new("liq");
    private static readonly RateModel Rate = new(0, 400, 30_000, 8_000);
    private const long Year = Fixed.YearMs;

    private static MarketState Market(int loanDecimals = 0, int collateralDecimals = 0, int reserveFactor = 1_000)
    {
        var s = new MarketState { Id = new("m") };
        MarketContract.Apply(s, new MarketCreated(Usd, Eth, loanDecimals, collateralDecimals, 8_000, Rate, reserveFactor, 500, 0));
        return s;
    }

    private static PriceReading Prices(string usd, string eth) =>
        Fixed.TryParseWad(usd, out var u) && Fixed.TryParseWad(eth, out var e) ? new PriceReading(u, e, 1) : throw new ArgumentException("price");

    private static int _n;

    /// <summary>Decides and applies one call; returns the decision.</summary>
    private static MarketCallDecided Call(MarketState s, AccountId who, MarketCallKind kind, ulong amount, long at = 0, PriceReading? prices = null, AccountId? borrower = null)
    {
        var asset = kind switch
        {
            MarketCallKind.Supply or MarketCallKind.Repay or MarketCallKind.Liquidate => Usd,
            MarketCallKind.SupplyCollateral => Eth,
            _ => (AssetId?)null,
        };
        Leg[] @in = asset is { } a ? [new Leg(a, amount)] : [];
        var d = MarketContract.Decide(s, who, new TxId("c" + Interlocked.Increment(ref _n)), kind, @in, amount, borrower, prices, at);
        MarketContract.Apply(s, d);
        return d;
    }

    private static BigInteger Bps(BigInteger ray) => ray * Fixed.Bps / Fixed.Ray;

    [Theory]
    [InlineData(0, 0)]
    [InlineData(5_000, 250)]      // 400 · 0.5/0.8
    [InlineData(8_000, 400)]      // at the kink
    [InlineData(9_000, 15_400)]   // 400 + 30,000 · 0.1/0.2
    [InlineData(10_000, 30_400)]  // 400 + 30,000
    public void The_kinked_rate_model_gives_the_reference_rates(int utilizationBps, int expectedBps) =>
        Assert.Equal(expectedBps, Bps(Rate.BorrowRate((BigInteger)utilizationBps * Fixed.Ray / Fixed.Bps)));

    [Fact]
    public void A_year_at_half_utilisation_charges_borrowers_2_5_percent_and_pays_suppliers_90_percent_of_it()
    {
        var s = Market();
        Call(s, Alice, MarketCallKind.Supply, 1_000_000);
        Call(s, Bob, MarketCallKind.SupplyCollateral, 1_000_000);
        Assert.Null(Call(s, Bob, MarketCallKind.Borrow, 500_000, 0, Prices("1", "1")).Code);

        // U = 50 % → 2.5 %/year; one accrual after a year: index 1.025, debt 512,500, interest 12,500; 10 % reserve.
        var (supplyIndex, borrowIndex, interest, reserve) = MarketContract.Accrued(s, Year);
        Assert.Equal(12_500, interest);
        Assert.Equal(Fixed.Ray * 1_025 / 1_000, borrowIndex);
        Assert.Equal(1_250, reserve);
        var (supplied, _) = MarketContract.Balances(s.Positions[Alice], supplyIndex, borrowIndex);
        var (_, debt) = MarketContract.Balances(s.Positions[Bob], supplyIndex, borrowIndex);
        Assert.Equal(512_500, debt);
        Assert.Equal(1_011_250, supplied);

        // Repaying more than the debt repays the debt and gives the rest back; the supplier withdraws principal plus interest.
        var repay = Call(s, Bob, MarketCallKind.Repay, 600_000, Year);
        Assert.Equal([new Leg(Usd, 87_500)], repay.Out);
        Assert.Equal(0, s.Positions[Bob].ScaledDebt);
        Assert.Equal(Codes.InsufficientFunds, Call(s, Alice, MarketCallKind.Withdraw, 1_011_251, Year).Code);
        Assert.Null(Call(s, Alice, MarketCallKind.Withdraw, 1_011_250, Year).Code);
        Assert.Equal(1_250, (BigInteger)s.Cash.Value);
        Assert.Equal(1_250, s.Reserves);
    }

    [Fact]
    public void Borrowing_stops_exactly_at_the_lltv_and_withdrawing_collateral_likewise()
    {
        // USD with 6 decimals at 1.00, ETH with 18 decimals at 2,000.00; LLTV 80 %: 1 ETH carries 1,600 USD of debt.
        var s = Market(loanDecimals: 6, collateralDecimals: 18);
        var prices = Prices("1", "2000");
        Call(s, Alice, MarketCallKind.Supply, 10_000_000_000);
        Call(s, Bob, MarketCallKind.SupplyCollateral, 1_000_000_000_000_000_000);
        Assert.Equal(Codes.UnhealthyPosition, Call(s, Bob, MarketCallKind.Borrow, 1_600_000_001, 0, prices).Code);
        Assert.Null(Call(s, Bob, MarketCallKind.Borrow, 1_600_000_000, 0, prices).Code);
        Assert.Equal(Codes.UnhealthyPosition, Call(s, Bob, MarketCallKind.WithdrawCollateral, 1, 0, prices).Code);
        Assert.Equal(Fixed.Wad, MarketContract.HealthFactor(s, s.Positions[Bob].Collateral, 1_600_000_000, prices));
        Assert.Equal(Codes.InsufficientLiquidity, Call(s, Alice, MarketCallKind.Withdraw, 9_000_000_000, 0).Code);
        Assert.Equal(Codes.PriceNotSet, Call(s, Bob, MarketCallKind.Borrow, 1, 0, null).Code);
    }

    [Fact]
    public void A_price_drop_makes_a_position_liquidatable_and_the_liquidator_gets_exactly_the_bonus()
    {
        var s = Market(loanDecimals: 6, collateralDecimals: 18);
        Call(s, Alice, MarketCallKind.Supply, 10_000_000_000);
        Call(s, Bob, MarketCallKind.SupplyCollateral, 1_000_000_000_000_000_000);
        Call(s, Bob, MarketCallKind.Borrow, 1_500_000_000, 0, Prices("1", "2000"));
        Assert.Equal(Codes.HealthyPosition, Call(s, Liquidator, MarketCallKind.Liquidate, 100_000_000, 0, Prices("1", "2000"), Bob).Code);

        // ETH falls to 1,800: 1,440 of borrowing power against 1,500 of debt.
        var d = Call(s, Liquidator, MarketCallKind.Liquidate, 1_000_000_000, 0, Prices("1", "1800"), Bob);
        Assert.Null(d.Code);
        // 1,000 USD · 1.05 / 1,800 per ETH = 0.583333333333333333 ETH, rounded down.
        Assert.Equal([new Leg(Eth, 583_333_333_333_333_333)], d.Out);
        var (_, debt) = MarketContract.Balances(s.Positions[Bob], s.SupplyIndex, s.BorrowIndex);
        Assert.Equal(500_000_000, debt);
        Assert.Equal(1_000_000_000_000_000_000 - 583_333_333_333_333_333UL, s.Positions[Bob].Collateral.Value);

        // A crash to 100: the bonus is worth more than the collateral left, which is all the liquidator gets; repaying
        // more than the debt gives the excess back.
        var rest = Call(s, Liquidator, MarketCallKind.Liquidate, 700_000_000, 0, Prices("1", "100"), Bob);
        Assert.Equal([new Leg(Eth, 416_666_666_666_666_667), new Leg(Usd, 200_000_000)], rest.Out);
        Assert.Equal(0, s.Positions[Bob].ScaledDebt);
    }

    [Fact]
    public void Prices_are_decimal_strings_with_up_to_18_places()
    {
        Assert.True(Fixed.TryParseWad("1850.25", out var p));
        Assert.Equal(UInt128.Parse("1850250000000000000000", System.Globalization.CultureInfo.InvariantCulture), p.Value);
        Assert.Equal("1850.25", Fixed.FormatWad((BigInteger)p.Value));
        foreach (var bad in new[] { "", "-1", "1.", ".5", "1e3", "1.0000000000000000001", " 1", "1,5" })
            Assert.False(Fixed.TryParseWad(bad, out _), bad);
    }

    private static readonly AccountId[] Users = [Alice, Bob, Liquidator];

    /// <summary>
    /// Random supplies, withdrawals, collateral moves, borrows, repayments and liquidations, with the collateral
    /// price moving and time passing: every borrow or collateral withdrawal that succeeds leaves the position
    /// healthy at the reading it used; debt never falls but by a repayment or a liquidation; the market holds exactly
    /// what came in minus what went out; and its books balance — cash + debt − what suppliers are owed equals the
    /// reserves, which are the reserve factor's share of all interest charged, give or take one scaled unit of rounding
    /// per operation, always in the market's favour; and suppliers are never owed more than their principal and share.
    /// </summary>
    [Fact]
    public void Health_debt_and_books_hold_after_every_operation()
    {
        var seen = new Coverage();
        // Uniform words, up to 150 a script (FsCheck's own numbers stay below its size): a position needs a borrow, then
        // prices falling over several steps, before a liquidation can succeed.
        PropertyRun.Check(Gens.Script(Gens.Word, 0, 150), script => Holds(script, seen), maxTest: 300, seed: 20_07_02, shrink: PropertyRun.ShrinkScript);
        seen.AssertFloors(output,
            ("Supply", 300), ("Withdraw", 50), ("SupplyCollateral", 300), ("WithdrawCollateral", 100), ("Borrow", 150), ("Repay", 80),
            ("Liquidate", 40), ("refused unhealthy_position", 50), ("refused healthy_position", 100), ("refused insufficient_liquidity", 50));
    }

    private static bool Holds(uint[] script, Coverage seen)
    {
        var s = Market(reserveFactor: 1_500);
        var price = 2_000UL;
        long now = 0;
        BigInteger cashIn = 0, cashOut = 0, principal = 0, slack = 0;
        var steps = 0;
        foreach (var raw in script)
        {
            // Mixing in the position gives a step repeated by shrinking a value of its own.
            var v = Scripts.Mix(raw + (uint)steps * 0x9E3779B9);
            var who = Users[v % 3];
            var amount = 1 + (ulong)((v >> 4) % 5_000);
            now += (long)((v >> 20) % 4) * Year / 12;
            if ((v >> 24) % 5 == 0) price = Math.Max(1, price + ((v >> 27) % 2 == 0 ? 150UL : 0) - ((v >> 28) % 2 == 0 ? 150UL : 0));
            var prices = new PriceReading(new Amount((UInt128)Fixed.Wad), new Amount((UInt128)(Fixed.Wad * price / 1_000)), steps);
            var kind = (MarketCallKind)((v >> 12) % 7);
            var debtsBefore = Users.ToDictionary(u => u, u => MarketContract.Balances(s.PositionOf(u), s.SupplyIndex, s.BorrowIndex).Debt);
            var indexBefore = s.BorrowIndex;
            var d = Call(s, who, kind, amount, now, prices, kind == MarketCallKind.Liquidate ? Users[(v >> 30) % 3] : null);
            steps++;
            seen.Add(d.Code is null ? kind.ToString() : "refused " + d.Code);
            if (d.Code is null)
            {
                cashIn += d.In.Where(l => l.Asset == Usd).Aggregate(BigInteger.Zero, (sum, l) => sum + l.Amount.Value);
                cashOut += d.Out.Where(l => l.Asset == Usd).Aggregate(BigInteger.Zero, (sum, l) => sum + l.Amount.Value);
                principal += kind == MarketCallKind.Supply ? amount : kind == MarketCallKind.Withdraw ? -(BigInteger)amount : 0;
                var p = s.PositionOf(who);
                var (_, debt) = MarketContract.Balances(p, s.SupplyIndex, s.BorrowIndex);
                if (kind is MarketCallKind.Borrow or MarketCallKind.WithdrawCollateral && !MarketContract.Healthy(s, p.Collateral, debt, prices)) return false;
            }
            if (s.BorrowIndex < indexBefore) return false;
            foreach (var u in Users)
            {
                var after = MarketContract.Balances(s.PositionOf(u), s.SupplyIndex, s.BorrowIndex).Debt;
                var repaid = d.Code is null && (kind == MarketCallKind.Repay && u == who || kind == MarketCallKind.Liquidate && u == d.Borrower);
                if (after < debtsBefore[u] && !repaid) return false;
            }
            if ((BigInteger)s.Cash.Value != cashIn - cashOut) return false;
            if (s.CollateralHeld != s.Positions.Values.Aggregate(Amount.Zero, (sum, p) => sum + p.Collateral)) return false;
            // Rounding of a scaled amount moves at most one scaled unit, worth an index (≥ 1 unit): per step, in the market's favour.
            slack += 2 + (s.SupplyIndex + s.BorrowIndex) / Fixed.Ray;
            var surplus = (BigInteger)s.Cash.Value + s.TotalDebt - s.TotalSupplied - s.Reserves;
            if (surplus < 0 || surplus > slack) return false;
            // The reserves hold the reserve factor's share of all interest, and what rounding left over: a unit or two per accrual.
            var cut = s.InterestCharged * s.ReserveFactorBps / Fixed.Bps;
            if (s.Reserves < cut || s.Reserves > cut + slack) return false;
            // Suppliers are never owed more than they brought plus their share of the interest (exactly: rounding is the market's).
            if (s.TotalSupplied > principal + s.InterestCharged * (Fixed.Bps - s.ReserveFactorBps) / Fixed.Bps) return false;
        }
        return true;
    }
}
