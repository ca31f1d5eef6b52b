using System.Numerics;
using Ledger.Contracts.Options;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

/// <summary>
/// Option series: Opyn Gamma's two integration cases as vectors (a naked put and a naked call, USDC with 6 decimals and
/// WETH with 18), the refusals api.md names, and a property over random series, writers, trades, prices and redemptions.
/// </summary>
public class OptionContractTests(ITestOutputHelper output)
{
    private static readonly AssetId Weth = new("WETH"), Usdc = new("USDC");
    private static readonly AccountId Writer = new("writer"), Holder = new("holder");
    private static readonly BigInteger Wad = BigInteger.Pow(10, 18);
    private const long Expiry = 1_000, Dispute = 100;
    private static int _n;

    private static OptionState Series(OptionKind kind, BigInteger strikeWad, int du = 18, int ds = 6, AssetId? underlying = null, AssetId? strikeAsset = null)
    {
        var s = new OptionState { Id = new("s") };
        OptionContract.Apply(s, new OptionCreated(underlying ?? Weth, strikeAsset ?? Usdc, kind, new Amount((UInt128)strikeWad), Expiry, Dispute, du, ds, 0));
        return s;
    }

    private static OptionCallDecided Call(OptionState s, AccountId who, OptionCallKind kind, BigInteger amount, long at, Leg[]? @in = null)
    {
        var a = new Amount((UInt128)amount);
        @in ??= kind switch
        {
            OptionCallKind.Mint => [new Leg(s.CollateralAsset, new Amount((UInt128)OptionContract.Collateral(s, amount)))],
            OptionCallKind.Settle => [],
            _ => [new Leg(s.Token, a)],
        };
        var d = OptionContract.Decide(s, who, new TxId("o" + Interlocked.Increment(ref _n)), kind, @in, a, at);
        OptionContract.Apply(s, d);
        return d;
    }

    private static void Price(OptionState s, BigInteger wad, long at)
    {
        var (set, code) = OptionContract.SetExpiryPrice(s, new Amount((UInt128)wad), at);
        Assert.Null(code);
        OptionContract.Apply(s, set!);
    }

    private static BigInteger Paid(OptionCallDecided d, AssetId asset) =>
        d.Out.Where(l => l.Asset == asset).Aggregate(BigInteger.Zero, (sum, l) => sum + l.Amount.Value);

    [Fact]
    public void Opyn_naked_put_strike_300_expiring_at_200_pays_the_holder_1000_and_the_writer_2000_usdc()
    {
        // 10 puts (WETH, 18 decimals) at strike 300 USDC (6 decimals): 3,000 USDC of collateral.
        var s = Series(OptionKind.Put, 300 * Wad);
        var mint = Call(s, Writer, OptionCallKind.Mint, 10 * Wad, 0);
        Assert.Null(mint.Code);
        Assert.Equal(3_000_000_000, (long)mint.In[0].Amount.Value);
        Assert.Equal([new Leg(s.Token, new Amount((UInt128)(10 * Wad)))], mint.Out);

        Price(s, 200 * Wad, Expiry);
        var redeem = Call(s, Holder, OptionCallKind.Redeem, 10 * Wad, Expiry + Dispute);
        var settle = Call(s, Writer, OptionCallKind.Settle, 0, Expiry + Dispute);
        Assert.Equal(1_000_000_000, (long)Paid(redeem, Usdc));
        Assert.Equal(2_000_000_000, (long)Paid(settle, Usdc));
        Assert.Equal(Amount.Zero, s.CollateralHeld);
        Assert.Equal(Amount.Zero, s.Outstanding);
    }

    [Fact]
    public void Opyn_naked_call_strike_300_expiring_at_400_pays_the_holder_2_5_and_the_writer_7_5_weth()
    {
        var s = Series(OptionKind.Call, 300 * Wad);
        var mint = Call(s, Writer, OptionCallKind.Mint, 10 * Wad, 0);
        Assert.Equal(new Leg(Weth, new Amount((UInt128)(10 * Wad))), mint.In.Single());

        Price(s, 400 * Wad, Expiry);
        var redeem = Call(s, Holder, OptionCallKind.Redeem, 10 * Wad, Expiry + Dispute);
        var settle = Call(s, Writer, OptionCallKind.Settle, 0, Expiry + Dispute);
        Assert.Equal(25 * Wad / 10, Paid(redeem, Weth));
        Assert.Equal(75 * Wad / 10, Paid(settle, Weth));
        Assert.Equal(Amount.Zero, s.CollateralHeld);
    }

    [Fact]
    public void Rounding_favours_the_series_collateral_up_payouts_down_and_the_dust_stays_held()
    {
        // 1 base unit of a put on an 8-decimal underlying at strike 0.000001: 10^-8 · 10^-6 USDC, locked as 1 unit.
        var s = Series(OptionKind.Put, Wad / 1_000_000, du: 8, ds: 6, underlying: new("WBTC"));
        var mint = Call(s, Writer, OptionCallKind.Mint, 3, 0);
        Assert.Equal(1, (long)mint.In[0].Amount.Value);
        Price(s, 1, Expiry);
        var redeem = Call(s, Holder, OptionCallKind.Redeem, 3, Expiry + Dispute);
        var settle = Call(s, Writer, OptionCallKind.Settle, 0, Expiry + Dispute);
        // The holder's 3·(10^-6 − 10^-18)·10^6/10^8 USDC is below one unit: nothing; the writer owes it, rounded up to 1.
        Assert.Empty(redeem.Out);
        Assert.Null(redeem.Code);
        Assert.Empty(settle.Out);
        Assert.Equal(1, (long)s.CollateralHeld.Value);
    }

    [Fact]
    public void Out_of_the_money_redeem_and_a_settle_owing_nothing_answer_without_legs_that_move_zero()
    {
        var s = Series(OptionKind.Call, 300 * Wad);
        Call(s, Writer, OptionCallKind.Mint, 5 * Wad, 0);
        Price(s, 250 * Wad, Expiry);
        var redeem = Call(s, Holder, OptionCallKind.Redeem, 5 * Wad, Expiry + Dispute);
        Assert.Null(redeem.Code);
        Assert.Empty(redeem.Out);
        var settle = Call(s, Writer, OptionCallKind.Settle, 0, Expiry + Dispute);
        Assert.Equal(5 * Wad, Paid(settle, Weth));
    }

    [Fact]
    public void Every_refusal_names_its_code_gives_the_input_back_and_changes_nothing()
    {
        var s = Series(OptionKind.Put, 300 * Wad);
        Call(s, Writer, OptionCallKind.Mint, 2 * Wad, 0);
        var before = (s.Outstanding, s.CollateralHeld, s.Writers[Writer].Written, s.Writers[Writer].Collateral);

        void Refused(OptionCallDecided d, string code)
        {
            Assert.Equal(code, d.Code);
            Assert.Equal(d.In, d.Out);
            Assert.Equal(before, (s.Outstanding, s.CollateralHeld, s.Writers[Writer].Written, s.Writers[Writer].Collateral));
        }

        Refused(Call(s, Writer, OptionCallKind.Burn, 3 * Wad, 10), Codes.ExceedsShort);
        Refused(Call(s, Holder, OptionCallKind.Burn, 1, 10), Codes.ExceedsShort);
        Refused(Call(s, Writer, OptionCallKind.Mint, Wad, 10, [new Leg(Usdc, new Amount(1))]), Codes.InvalidRequest);
        Refused(Call(s, Writer, OptionCallKind.Mint, 0, 10), Codes.ZeroAmount);
        Refused(Call(s, Holder, OptionCallKind.Redeem, Wad, 10), Codes.PriceNotFinal);
        Refused(Call(s, Writer, OptionCallKind.Settle, 0, 10), Codes.PriceNotFinal);
        Refused(Call(s, Writer, OptionCallKind.Mint, Wad, Expiry), Codes.OptionExpired);
        Refused(Call(s, Writer, OptionCallKind.Burn, Wad, Expiry), Codes.OptionExpired);
        Assert.Equal(Codes.OptionNotExpired, OptionContract.SetExpiryPrice(s, new Amount(1), Expiry - 1).Rejection);
        Price(s, 250 * Wad, Expiry);
        // Replaceable within the dispute window, final after it.
        Price(s, 200 * Wad, Expiry + Dispute - 1);
        Assert.Equal(Codes.PriceFinal, OptionContract.SetExpiryPrice(s, new Amount(1), Expiry + Dispute).Rejection);
        Refused(Call(s, Holder, OptionCallKind.Redeem, Wad, Expiry + Dispute - 1), Codes.PriceNotFinal);
        Refused(Call(s, Holder, OptionCallKind.Settle, 0, Expiry + Dispute), Codes.NoPosition);
        Assert.Null(Call(s, Writer, OptionCallKind.Settle, 0, Expiry + Dispute).Code);
        Assert.Equal(Codes.AlreadySettled, Call(s, Writer, OptionCallKind.Settle, 0, Expiry + Dispute + 1).Code);
        Assert.Equal(Codes.OptionNotFound, OptionContract.Decide(new OptionState { Id = new("none") }, Writer, new("x"), OptionCallKind.Mint, [], new Amount(1), 0).Code);
    }

    [Fact]
    public void A_price_first_set_after_the_dispute_window_is_final_at_once()
    {
        var s = Series(OptionKind.Call, 300 * Wad);
        Call(s, Writer, OptionCallKind.Mint, Wad, 0);
        Price(s, 400 * Wad, Expiry + Dispute + 5);
        Assert.True(s.PriceFinal(Expiry + Dispute + 5));
        Assert.Equal(Codes.PriceFinal, OptionContract.SetExpiryPrice(s, new Amount(1), Expiry + Dispute + 6).Rejection);
        // The same price again (a retry) is answered as set, and changes nothing.
        Assert.Equal((null, null), OptionContract.SetExpiryPrice(s, new Amount((UInt128)(400 * Wad)), Expiry + Dispute + 6));
        Assert.Equal(Wad / 4, Paid(Call(s, Holder, OptionCallKind.Redeem, Wad, Expiry + Dispute + 6), Weth));
    }

    [Fact]
    public void A_writer_burning_part_of_its_short_keeps_exactly_the_collateral_of_what_remains()
    {
        var s = Series(OptionKind.Put, 1234_567 * Wad / 1000);
        Call(s, Writer, OptionCallKind.Mint, 7, 0);
        Call(s, Writer, OptionCallKind.Mint, 5, 0);
        var burn = Call(s, Writer, OptionCallKind.Burn, 4, 1);
        Assert.Null(burn.Code);
        Assert.Equal(OptionContract.Collateral(s, 8), (BigInteger)s.Writers[Writer].Collateral.Value);
        Assert.Equal(s.CollateralHeld, s.Writers[Writer].Collateral);
    }

    /// <summary>
    /// Random series (call or put, 6 to 18 decimals, strikes from 0.001 to 5,000), three writers minting and burning,
    /// tokens changing hands, an expiry price, then holders redeeming and writers settling. After every step every asset
    /// sums to zero over the accounts, the issuer and the series; each holder is paid the exact payout rounded down and
    /// each writer its collateral minus the exact amount its short owes, rounded down; the series never pays more than
    /// it holds, and what it keeps at the end is at most one unit per redemption and settlement.
    /// </summary>
    [Fact]
    public void Holders_are_always_covered_writers_get_the_rest_and_every_asset_sums_to_zero()
    {
        var seen = new Coverage();
        PropertyRun.Check(Gens.Script(Gens.Word, 2, 50), script => Holds(script, seen), maxTest: 300, seed: 20_23_01, shrink: PropertyRun.ShrinkScript);
        seen.AssertFloors(output,
            ("Mint", 1_000), ("Burn", 200), ("Transfer", 500), ("Redeem paying", 200), ("Redeem paying nothing", 50),
            ("Settle paying", 200), ("refused exceeds_short", 50), ("refused price_not_final", 50), ("refused option_expired", 50), ("call", 100), ("put", 100));
    }

    private static readonly AccountId[] People = [new("w0"), new("w1"), new("w2"), new("h0"), new("h1")];
    private static readonly AccountId Bank = new("bank");

    private static bool Holds(uint[] script, Coverage seen)
    {
        var first = Scripts.Mix(script[0]);
        var kind = (first & 1) == 0 ? OptionKind.Call : OptionKind.Put;
        int[] decimals = [6, 8, 18];
        var (du, ds) = (decimals[(first >> 1) % 3], decimals[(first >> 3) % 3]);
        var strike = ((BigInteger)(first >> 8) % 5_000_000 + 1) * Wad / 1_000;
        var s = Series(kind, strike, du, ds, new("U"), new("K"));
        seen.Add(kind == OptionKind.Call ? "call" : "put");
        var balances = new Dictionary<(AccountId, AssetId), BigInteger>();
        BigInteger Bal(AccountId a, AssetId x) => balances.GetValueOrDefault((a, x));
        void Move(AccountId from, AccountId to, AssetId x, BigInteger v)
        {
            balances[(from, x)] = Bal(from, x) - v;
            balances[(to, x)] = Bal(to, x) + v;
        }
        var unit = BigInteger.Pow(10, du);
        var collateralAsset = s.CollateralAsset;
        BigInteger locked = 0, paidOut = 0;
        var settlements = 0;

        bool Balanced()
        {
            foreach (var asset in new[] { s.Underlying, s.StrikeAsset, s.Token })
            {
                var sum = balances.Where(b => b.Key.Item2 == asset).Aggregate(BigInteger.Zero, (t, b) => t + b.Value);
                sum += OptionContract.Holdings(s).Where(h => h.Asset == asset).Aggregate(BigInteger.Zero, (t, h) => t + (BigInteger)h.Held);
                if (sum != 0) return false;
            }
            return (BigInteger)s.Outstanding.Value == People.Aggregate(BigInteger.Zero, (t, p) => t + Bal(p, s.Token));
        }

        // Before the expiry: writers mint and burn, tokens change hands.
        long now = 0;
        for (var i = 1; i < script.Length; i++)
        {
            var v = Scripts.Mix(script[i] + (uint)i * 0x9E3779B9);
            var who = People[v % 3];
            var amount = (BigInteger)((v >> 4) % 1_000 + 1) * unit / 100;
            now = Math.Min(Expiry + 5, now + (v >> 28) * 3);
            switch ((v >> 2) % 4)
            {
                case 0 or 1:
                    {
                        var collateral = OptionContract.Collateral(s, amount);
                        Move(Bank, who, collateralAsset, collateral);
                        var d = Call(s, who, OptionCallKind.Mint, amount, now);
                        seen.Add(d.Code is null ? "Mint" : "refused " + d.Code);
                        if (d.Code is null)
                        {
                            balances[(who, collateralAsset)] -= collateral;
                            balances[(who, s.Token)] = Bal(who, s.Token) + amount;
                            locked += collateral;
                        }
                        break;
                    }
                case 2:
                    {
                        var held = Bal(who, s.Token);
                        // Sometimes all it holds, which may be more than it wrote (tokens it was given).
                        var burn = held == 0 ? amount : ((v >> 14) & 1) == 0 ? BigInteger.Min(held, amount) : held;
                        if (held < burn) break;
                        var d = Call(s, who, OptionCallKind.Burn, burn, now);
                        seen.Add(d.Code is null ? "Burn" : "refused " + d.Code);
                        if (d.Code is null)
                        {
                            balances[(who, s.Token)] -= burn;
                            balances[(who, collateralAsset)] = Bal(who, collateralAsset) + Paid(d, collateralAsset);
                            locked -= Paid(d, collateralAsset);
                            // What stays locked covers what stays written.
                            if ((BigInteger)s.Writers[who].Collateral.Value != OptionContract.Collateral(s, s.Writers[who].Written.Value)) return false;
                        }
                        break;
                    }
                default:
                    {
                        var from = People[v % 5];
                        var to = People[(v >> 12) % 5];
                        var moved = Bal(from, s.Token) * ((v >> 16) % 101) / 100;
                        if (moved == 0 || from == to) break;
                        Move(from, to, s.Token, moved);
                        seen.Add("Transfer");
                        break;
                    }
            }
            if (!Balanced()) return false;
        }

        // Too early: before the price is final nothing is redeemed or settled.
        var early = Call(s, People[3], OptionCallKind.Redeem, 1, Math.Max(now, Expiry) - 1);
        seen.Add("refused " + early.Code);
        if (early.Code != Codes.PriceNotFinal) return false;

        var price = ((BigInteger)(Scripts.Mix(first) % 2_000) + 1) * strike / 1_000;
        Price(s, price, Math.Max(now, Expiry));
        var final = Expiry + Dispute;
        var strikeNum = (BigInteger)s.Strike.Value;

        // The exact payout of n tokens as a fraction (numerator, denominator), computed from api.md's definition.
        (BigInteger Num, BigInteger Den) Exact(BigInteger n) => kind == OptionKind.Put
            ? (n * BigInteger.Max(0, strikeNum - price) * BigInteger.Pow(10, ds), unit * Wad)
            : (n * BigInteger.Max(0, price - strikeNum), price);

        foreach (var p in People)
        {
            var held = Bal(p, s.Token);
            if (held == 0) continue;
            var d = Call(s, p, OptionCallKind.Redeem, held, final);
            if (d.Code is not null) return false;
            var got = Paid(d, collateralAsset);
            seen.Add(got > 0 ? "Redeem paying" : "Redeem paying nothing");
            var (num, den) = Exact(held);
            // Rounded down: got ≤ exact < got + 1.
            if (got * den > num || (got + 1) * den <= num) return false;
            balances[(p, s.Token)] = 0;
            balances[(p, collateralAsset)] = Bal(p, collateralAsset) + got;
            paidOut += got;
            settlements++;
            if (!Balanced()) return false;
        }
        foreach (var w in People.Take(3))
        {
            if (!s.Writers.TryGetValue(w, out var position)) continue;
            var collateral = (BigInteger)position.Collateral.Value;
            var written = position.Written.Value;
            var d = Call(s, w, OptionCallKind.Settle, 0, final);
            if (d.Code is not null) return false;
            var got = Paid(d, collateralAsset);
            if (got > 0) seen.Add("Settle paying");
            var (num, den) = Exact(written);
            // The writer gets collateral − owed with owed the exact amount rounded up: kept · den ≥ num > (kept − 1) · den.
            var kept = collateral - got;
            if (kept * den < num || (kept - 1) * den >= num) return false;
            balances[(w, collateralAsset)] = Bal(w, collateralAsset) + got;
            paidOut += got;
            settlements++;
            if (!Balanced()) return false;
            if (Call(s, w, OptionCallKind.Settle, 0, final + 1).Code != Codes.AlreadySettled) return false;
        }
        // Never more out than in, and what remains is rounding dust, one unit at most per payment.
        var dust = (BigInteger)s.CollateralHeld.Value;
        return paidOut + dust == locked && dust <= settlements && s.Outstanding == Amount.Zero;
    }
}
