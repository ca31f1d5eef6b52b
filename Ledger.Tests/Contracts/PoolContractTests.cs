using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

/// <summary>The pool's arithmetic against Uniswap v2's published vectors, and its rules one by one.</summary>
public class PoolContractTests(ITestOutputHelper output)
{
    private const long Now = 1_700_000_000_000;
    private static readonly BigInteger E18 = BigInteger.Pow(10, 18);
    private static readonly PoolId Id = new("p");
    private static readonly AssetId A = new("A"), B = new("B");
    private static readonly AccountId Lp = new("lp"), Trader = new("trader");

    private static Amount E(BigInteger v) => new((UInt128)v);

    // UniswapV2Pair.spec.ts "swap:token0" cases: (amount in, reserve in, reserve out) in whole tokens, exact output in wei.
    [Theory]
    [InlineData(1, 5, 10, "1662497915624478906")]
    [InlineData(1, 10, 5, "453305446940074565")]
    [InlineData(2, 5, 10, "2851015155847869602")]
    [InlineData(2, 10, 5, "831248957812239453")]
    [InlineData(1, 10, 10, "906610893880149131")]
    [InlineData(1, 100, 100, "987158034397061298")]
    [InlineData(1, 1000, 1000, "996006981039903216")]
    public void Amount_out_matches_uniswap_v2_to_the_unit(int amountIn, int reserveIn, int reserveOut, string expected) =>
        Assert.Equal(Amount.Parse(expected), PoolMath.AmountOut(E(amountIn * E18), E(reserveIn * E18), E(reserveOut * E18), 30));

    [Fact]
    public void Amount_in_for_an_exact_output_is_the_least_input_that_buys_it()
    {
        var (rIn, rOut) = (E(5 * E18), E(10 * E18));
        var amountIn = PoolMath.AmountIn(Amount.Parse("1662497915624478906"), rIn, rOut, 30)!.Value;
        Assert.True(PoolMath.AmountOut(amountIn, rIn, rOut, 30) >= Amount.Parse("1662497915624478906"));
        Assert.True(PoolMath.AmountOut(amountIn - 1, rIn, rOut, 30) < Amount.Parse("1662497915624478906") + 1);
    }

    [Fact]
    public void Square_root_rounds_down()
    {
        Assert.Equal(0, PoolMath.Sqrt(0));
        Assert.Equal(1, PoolMath.Sqrt(3));
        Assert.Equal(2, PoolMath.Sqrt(4));
        Assert.Equal(2, PoolMath.Sqrt(8));
        Assert.Equal(BigInteger.Pow(2, 128) - 1, PoolMath.Sqrt(BigInteger.Pow(BigInteger.Pow(2, 128) - 1, 2)));
    }

    private static PoolState NewPool(int feeBps = 30)
    {
        var s = new PoolState { Id = Id };
        PoolContract.Apply(s, new PoolCreated(A, B, feeBps, Now));
        return s;
    }

    private static PoolCallDecided Run(PoolState s, PoolCall call, string id = "t", AccountId? account = null)
    {
        var d = PoolContract.Decide(s, account ?? Lp, new TxId(id), call, Now);
        PoolContract.Apply(s, d);
        return d;
    }

    private static PoolCall Deposit(Amount a, Amount b, Amount minA = default, Amount minB = default) =>
        new(Id, PoolCallKind.Deposit, [new Leg(A, a), new Leg(B, b)], MinA: minA, MinB: minB);

    private static PoolCall Swap(AssetId assetIn, Amount amountIn, Amount minOut = default, long? deadline = null) =>
        new(Id, PoolCallKind.SwapExactIn, [new Leg(assetIn, amountIn)], assetIn == A ? B : A, MinOut: minOut, Deadline: deadline);

    [Fact]
    public void First_deposit_mints_the_root_of_the_product_and_locks_the_minimum()
    {
        var s = NewPool();
        var d = Run(s, Deposit(E(E18), E(4 * E18)));
        Assert.Null(d.Code);
        Assert.Equal([new Leg(Id.ShareAsset, E(2 * E18 - 1000))], d.Out);
        Assert.Equal(E(2 * E18), s.TotalShares);
        Assert.Equal((Amount)1000, s.LockedShares);
        Assert.Equal((E(E18), E(4 * E18)), (s.ReserveA, s.ReserveB));
    }

    [Fact]
    public void Later_deposit_uses_the_router_amounts_and_returns_the_rest()
    {
        var s = NewPool();
        Run(s, Deposit(1_000_000, 4_000_000));
        // Desired 100 A and 1,000 B: B is worth only 400 at the pool's ratio, so 600 B come back.
        var d = Run(s, Deposit(100, 1_000), id: "t2");
        Assert.Null(d.Code);
        Assert.Equal([new Leg(Id.ShareAsset, 200), new Leg(B, 600)], d.Out);
        var refused = Run(s, Deposit(100, 1_000, minB: 401), id: "t3");
        Assert.Equal(Codes.SlippageExceeded, refused.Code);
        Assert.Equal(refused.In, refused.Out);
    }

    [Fact]
    public void Withdrawal_pays_pro_rata_rounded_down()
    {
        var s = NewPool();
        Run(s, Deposit(E(3 * E18), E(3 * E18)));
        var d = Run(s, new PoolCall(Id, PoolCallKind.Withdraw, [new Leg(Id.ShareAsset, E(3 * E18 - 1000))]), id: "w");
        Assert.Equal([new Leg(A, E(3 * E18 - 1000)), new Leg(B, E(3 * E18 - 1000))], d.Out);
        Assert.Equal(((Amount)1000, (Amount)1000, (Amount)1000), (s.ReserveA, s.ReserveB, s.TotalShares));
    }

    [Fact]
    public void Swap_refusals_carry_their_codes_and_return_the_input()
    {
        var s = NewPool();
        Assert.Equal(Codes.InsufficientLiquidity, Run(s, Swap(A, 10), id: "empty").Code);
        Run(s, Deposit(E(5 * E18), E(10 * E18)));
        Assert.Equal(Codes.SlippageExceeded, Run(s, Swap(A, E(E18), minOut: Amount.Parse("1662497915624478907")), id: "s1").Code);
        Assert.Equal(Codes.DeadlinePassed, Run(s, Swap(A, E(E18), deadline: Now - 1), id: "s2").Code);
        Assert.Equal(Codes.AssetNotInPool, Run(s, Swap(new AssetId("C"), 10), id: "s3").Code);
        Assert.Equal(Codes.InsufficientOutputAmount, Run(s, Swap(B, 1), id: "s4").Code);
        Assert.Equal(Codes.PoolNotFound, PoolContract.Decide(new PoolState { Id = new("none") }, Trader, new("x"), Swap(A, 1), Now).Code);
        Assert.Equal((E(5 * E18), E(10 * E18)), (s.ReserveA, s.ReserveB));
        var ok = Run(s, Swap(A, E(E18), minOut: Amount.Parse("1662497915624478906"), deadline: Now), id: "s5");
        Assert.Equal([new Leg(B, Amount.Parse("1662497915624478906"))], ok.Out);
    }

    [Fact]
    public void Exact_output_swap_charges_the_uniswap_input_and_returns_the_change()
    {
        var s = NewPool();
        Run(s, Deposit(E(5 * E18), E(10 * E18)));
        var want = Amount.Parse("1662497915624478906");
        // UniswapV2Library.getAmountIn, written in the test: 5e18·want·1000 / ((10e18 − want)·997) + 1.
        var cost = E(5 * E18 * (BigInteger)want.Value * 1_000 / ((10 * E18 - want.Value) * 997) + 1);
        var call = new PoolCall(Id, PoolCallKind.SwapExactOut, [new Leg(A, E(2 * E18))], B, AmountOut: want);
        var d = Run(s, call, id: "x");
        Assert.Equal([new Leg(B, want), new Leg(A, E(2 * E18) - cost)], d.Out);
        Assert.Equal(new PoolCallResult(cost, want, default, default, default), PoolCallResult.Of(call, d.Out));
        Assert.Equal(Codes.SlippageExceeded, Run(s, call with { In = [new Leg(A, 1)] }, id: "y").Code);
    }

    [Fact]
    public void A_decided_call_is_remembered_by_key()
    {
        var s = NewPool();
        Run(s, Deposit(1_000_000, 1_000_000), id: "d");
        Assert.Equal(Known.Resident, s.Answers.Find(Lp, new TxId("d"), out var answer));
        Assert.Single(answer!.Out);
        s.Answers.Evict(0);
        Assert.Equal(Known.Evicted, s.Answers.Find(Lp, new TxId("d"), out _));
        Assert.Equal(Known.Absent, s.Answers.Find(Trader, new TxId("d"), out _));
    }

    [Fact]
    public void Snapshot_round_trip_keeps_reserves_answers_and_hashes()
    {
        var s = NewPool();
        Run(s, Deposit(1_000_000, 2_000_000), id: "d");
        Run(s, Swap(A, 1_000), id: "s", account: Trader);
        s.Answers.Evict(1);
        var back = PoolSnapshot.Of(s).Restore(new PoolState { Id = Id });
        Assert.Equal((s.ReserveA, s.ReserveB, s.TotalShares, s.LockedShares, s.FeeBps), (back.ReserveA, back.ReserveB, back.TotalShares, back.LockedShares, back.FeeBps));
        Assert.Equal(Known.Resident, back.Answers.Find(Trader, new TxId("s"), out _));
        Assert.Equal(Known.Evicted, back.Answers.Find(Lp, new TxId("d"), out _));
    }

    private sealed record PoolStep(int Kind, UInt128 X, UInt128 Y, int PerMille, int Variant);

    private sealed record PoolScript(int FeeBps, PoolStep[] Steps);

    /// <summary>
    /// Deposits, swaps both ways (exact in and exact out) and withdrawals, in equal shares. Absolute amounts take any
    /// bit length up to 100 and the first deposit up to 120, so reserves range from a few thousand units to 2^121;
    /// most swap and withdrawal sizes are a fraction of what the pool holds, so that they succeed at every scale;
    /// <see cref="PoolStep.Variant"/> 3 asks for the exact boundary (the minimum out, the input allowed) or one past it.
    /// </summary>
    private static readonly Gen<PoolScript> PoolScripts =
        from fee in Gen.Elements(0, 1, 5, 30, 100, 1_000)
        from first in Gens.Magnitude(120)
        from second in Gens.Magnitude(120)
        from rest in Gens.Script(
            from kind in Gen.Choose(0, 5)
            from x in Gens.Magnitude(100)
            from y in Gens.Magnitude(100)
            from perMille in Gen.Choose(0, 1_000)
            from variant in Gen.Choose(0, 3)
            select new PoolStep(kind, x, y, perMille, variant), 0, 40)
        select new PoolScript(fee, [new PoolStep(0, first, second, 0, 0), .. rest]);

    /// <summary>No reserve goes past 2^126: supply is below 2^127 per asset, so no account could send more.</summary>
    private static readonly BigInteger ReserveCap = BigInteger.Pow(2, 126);

    private static readonly BigInteger Max128 = (BigInteger)UInt128.MaxValue;

    /// <summary>
    /// Any sequence of deposits, swaps both ways (exact in and out) and withdrawals: every answer — its refusal code or
    /// every leg it pays — is what Uniswap v2's formulas (<see cref="UniswapV2"/>, written in the test) give for the
    /// reserves a model of the pool holds; a swap never lowers the product of the reserves; no operation lowers the
    /// reserves per share (k / T² never falls — rounding favours the pool, shares never mint from nothing); and the
    /// reserves are exactly what came in minus what went out. Over all runs, every kind of operation must have
    /// succeeded often, and the boundaries (a minimum out met exactly, an exact input with no change) been reached.
    /// </summary>
    [Fact]
    public void Reserves_per_share_never_fall_and_the_books_balance()
    {
        var seen = new Coverage();
        PropertyRun.Check(PoolScripts, script => Holds(script, seen), maxTest: 300, seed: 20_07,
            shrink: p => PropertyRun.ShrinkScript(p.Steps).Select(steps => p with { Steps = steps }));
        seen.AssertFloors(output,
            ("first deposit", 250), ("deposit", 100), ("deposit returning A", 100), ("deposit returning B", 100),
            ("swap exact in A→B", 300), ("swap exact in B→A", 300), ("swap exact in at its minimum", 20),
            ("swap exact out", 300), ("swap exact out with no change", 20), ("withdraw", 300),
            ("refused slippage_exceeded", 50), ("refused insufficient_liquidity", 20), ("refused zero_amount", 20),
            ("reserve above 2^100", 100));
    }

    private static bool Holds(PoolScript script, Coverage seen)
    {
        var s = NewPool(script.FeeBps);
        var fee = script.FeeBps;
        // The model: reserves, all shares (the locked minimum included), the locked minimum.
        BigInteger ra = 0, rb = 0, total = 0, locked = 0;
        BigInteger inA = 0, inB = 0, sharesOut = 0;
        var n = 0;
        foreach (var step in script.Steps)
        {
            var (call, label, expectedCode, expectedOut) = Interpret(step);
            if (call is null)
            {
                seen.Add("skipped (past the reserve cap or 2^128)");
                continue;
            }
            var (k, t) = (ra * rb, total);
            var d = Run(s, call, id: (n++).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (d.Code != expectedCode) return false;
            if (d.Code is not null)
            {
                seen.Add("refused " + d.Code);
                if (!d.Out.SequenceEqual(d.In)) return false;
                continue;
            }
            if (!d.Out.SequenceEqual(expectedOut!)) return false;
            seen.Add(label);
            foreach (var leg in d.In) Count(leg, +1);
            foreach (var leg in d.Out) Count(leg, -1);
            total += d.Locked.Value;
            locked += d.Locked.Value;
            if ((ra, rb, total, locked) != (s.ReserveA.Value, s.ReserveB.Value, s.TotalShares.Value, s.LockedShares.Value)) return false;
            seen.Add("reserve above 2^100", BigInteger.Max(ra, rb) > BigInteger.Pow(2, 100));
            if (call.Kind is PoolCallKind.SwapExactIn or PoolCallKind.SwapExactOut && ra * rb < k) return false;
            if (t > 0 && ra * rb * t * t < k * total * total) return false;
        }
        return inA == s.ReserveA.Value && inB == s.ReserveB.Value && sharesOut + s.LockedShares.Value == s.TotalShares.Value;

        void Count(Leg leg, int sign)
        {
            var v = (BigInteger)leg.Amount.Value;
            if (leg.Asset == A) { inA += sign * v; ra += sign * v; }
            else if (leg.Asset == B) { inB += sign * v; rb += sign * v; }
            else { sharesOut -= sign * v; total -= sign * v; }
        }

        // The call a step makes against the model's reserves, and the answer Uniswap v2 gives it (null code: success).
        (PoolCall? Call, string Label, string? Code, Leg[]? Out) Interpret(PoolStep step)
        {
            var (x, y) = ((BigInteger)step.X, (BigInteger)step.Y);
            var tight = step.Variant == 3;
            switch (step.Kind)
            {
                case 0:
                    {
                        // At the pool's ratio give or take a unit (both router branches), or at any ratio.
                        var (da, db) = ra > 0 && step.Variant != 0 ? (x, BigInteger.Max(1, x * rb / ra + step.PerMille % 3 - 1)) : (x, y);
                        if (ra + da > ReserveCap || rb + db > ReserveCap) return (null, "", null, null);
                        var call = Deposit(E(da), E(db));
                        BigInteger a = da, b = db;
                        if (ra > 0 || rb > 0)
                        {
                            var optimalB = da * rb / ra;
                            (a, b) = optimalB <= db ? (da, optimalB) : (db * ra / rb, db);
                            // Kept below 2^128 until PoolMath stops narrowing first (A_deposit_far_from_the_pool_ratio_is_decided_not_thrown).
                            if (optimalB > Max128 || a * total / ra > Max128 || b * total / rb > Max128) return (null, "", null, null);
                        }
                        BigInteger shares;
                        var first = total == 0;
                        if (first)
                        {
                            var root = Root(a * b);
                            if (root <= 1_000) return (call, "", Codes.InsufficientLiquidity, null);
                            shares = root - 1_000;
                        }
                        else
                        {
                            shares = BigInteger.Min(a * total / ra, b * total / rb);
                            if (shares == 0) return (call, "", Codes.InsufficientLiquidity, null);
                        }
                        Leg[] @out = [new Leg(Id.ShareAsset, E(shares)), .. da > a ? [new Leg(A, E(da - a))] : Array.Empty<Leg>(), .. db > b ? [new Leg(B, E(db - b))] : Array.Empty<Leg>()];
                        return (call, first ? "first deposit" : da > a ? "deposit returning A" : db > b ? "deposit returning B" : "deposit", null, @out);
                    }
                case 1 or 2:
                    {
                        var (assetIn, rIn, rOut) = step.Kind == 1 ? (A, ra, rb) : (B, rb, ra);
                        var amountIn = step.Variant == 0 ? x : rIn * step.PerMille / 1_000;
                        if (rIn + amountIn > ReserveCap) return (null, "", null, null);
                        var quoted = rIn > 0 && rOut > 0 ? UniswapV2.AmountOut(amountIn, rIn, rOut, fee) : 0;
                        var minOut = tight ? quoted + step.PerMille % 2 : 0;
                        var call = Swap(assetIn, E(amountIn), minOut: E(minOut));
                        if (amountIn == 0) return (call, "", Codes.ZeroAmount, null);
                        if (rIn == 0 || rOut == 0) return (call, "", Codes.InsufficientLiquidity, null);
                        if (quoted == 0) return (call, "", Codes.InsufficientOutputAmount, null);
                        if (quoted < minOut) return (call, "", Codes.SlippageExceeded, null);
                        return (call, tight ? "swap exact in at its minimum" : step.Kind == 1 ? "swap exact in A→B" : "swap exact in B→A", null, [new Leg(step.Kind == 1 ? B : A, E(quoted))]);
                    }
                case 3 or 4:
                    {
                        var (assetIn, assetOut, rIn, rOut) = step.Kind == 3 ? (A, B, ra, rb) : (B, A, rb, ra);
                        // At most 90 % of the reserve, so that the input needed stays within ten times the other reserve.
                        var amountOut = rOut * Math.Min(step.PerMille, 900) / 1_000;
                        var needed = rIn > 0 && amountOut > 0 && amountOut < rOut ? UniswapV2.AmountIn(amountOut, rIn, rOut, fee) : 0;
                        // The exact input needed or one unit less, or that plus change.
                        var maxIn = needed == 0 ? x : tight ? needed - step.PerMille % 2 : needed + (x >> 40);
                        if (rIn + maxIn > ReserveCap) return (null, "", null, null);
                        var call = new PoolCall(Id, PoolCallKind.SwapExactOut, [new Leg(assetIn, E(maxIn))], assetOut, AmountOut: E(amountOut));
                        if (amountOut == 0) return (call, "", Codes.ZeroAmount, null);
                        if (rIn == 0 || amountOut >= rOut) return (call, "", Codes.InsufficientLiquidity, null);
                        if (needed > maxIn) return (call, "", Codes.SlippageExceeded, null);
                        return maxIn == needed
                            ? (call, "swap exact out with no change", null, [new Leg(assetOut, E(amountOut))])
                            : (call, "swap exact out", null, [new Leg(assetOut, E(amountOut)), new Leg(assetIn, E(maxIn - needed))]);
                    }
                default:
                    {
                        var outstanding = total - locked;
                        // A share of what is outstanding, or one share more than is (which no account can hold).
                        var shares = tight ? outstanding + 1 : outstanding * step.PerMille / 1_000;
                        var call = new PoolCall(Id, PoolCallKind.Withdraw, [new Leg(Id.ShareAsset, E(shares))]);
                        if (shares == 0) return (call, "", Codes.ZeroAmount, null);
                        if (shares > outstanding) return (call, "", Codes.InsufficientLiquidity, null);
                        var (a, b) = (shares * ra / total, shares * rb / total);
                        if (a == 0 || b == 0) return (call, "", Codes.InsufficientLiquidity, null);
                        return (call, "withdraw", null, [new Leg(A, E(a)), new Leg(B, E(b))]);
                    }
            }
        }
    }

    /// <summary>floor(sqrt(n)) by bisection: not the production's Newton iteration.</summary>
    private static BigInteger Root(BigInteger n)
    {
        BigInteger lo = 0, hi = BigInteger.One << (int)(n.GetBitLength() / 2 + 1);
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (mid * mid <= n) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }
}
