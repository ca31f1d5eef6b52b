using System.Numerics;
using FsCheck.Xunit;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Tests.Contracts;

/// <summary>The pool's arithmetic against Uniswap v2's published vectors, and its rules one by one.</summary>
public class PoolContractTests
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
        var amountIn = PoolMath.AmountIn(Amount.Parse("1662497915624478906"), rIn, rOut, 30);
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
        var cost = PoolMath.AmountIn(want, s.ReserveA, s.ReserveB, 30);
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
        Assert.Equal(Known.Resident, s.Find(Lp, new TxId("d"), out var answer));
        Assert.Single(answer!.Out);
        s.Evict(0);
        Assert.Equal(Known.Evicted, s.Find(Lp, new TxId("d"), out _));
        Assert.Equal(Known.Absent, s.Find(Trader, new TxId("d"), out _));
    }

    [Fact]
    public void Snapshot_round_trip_keeps_reserves_answers_and_hashes()
    {
        var s = NewPool();
        Run(s, Deposit(1_000_000, 2_000_000), id: "d");
        Run(s, Swap(A, 1_000), id: "s", account: Trader);
        s.Evict(1);
        var back = PoolSnapshot.Of(s).Restore(new PoolState { Id = Id });
        Assert.Equal((s.ReserveA, s.ReserveB, s.TotalShares, s.LockedShares, s.FeeBps), (back.ReserveA, back.ReserveB, back.TotalShares, back.LockedShares, back.FeeBps));
        Assert.Equal(Known.Resident, back.Find(Trader, new TxId("s"), out _));
        Assert.Equal(Known.Evicted, back.Find(Lp, new TxId("d"), out _));
    }

    /// <summary>
    /// Any sequence of deposits, swaps both ways (exact in and out) and withdrawals: a swap never lowers the
    /// product of the reserves; no operation lowers the reserves per share (k / T² never falls — rounding favours
    /// the pool, shares never mint from nothing); and the reserves are exactly what came in minus what went out.
    /// </summary>
    [Property(MaxTest = 300)]
    public bool Reserves_per_share_never_fall_and_the_books_balance(ulong[] script)
    {
        var s = NewPool(script.Length > 0 ? (int)(script[0] % 100) : 30);
        BigInteger inA = 0, inB = 0, sharesOut = 0;
        var n = 0;
        foreach (var step in script)
        {
            var amount = new Amount((step >> 8) % 10_000_000_000 + 1);
            PoolCall call = (step % 5) switch
            {
                0 => Deposit(amount, new Amount((step >> 20) % 10_000_000_000 + 1)),
                1 => Swap(A, amount),
                2 => Swap(B, amount),
                3 => new PoolCall(Id, PoolCallKind.SwapExactOut, [new Leg(A, E(BigInteger.Pow(10, 30)))], B, AmountOut: new Amount(amount.Value % (s.ReserveB.Value + 1))),
                _ => new PoolCall(Id, PoolCallKind.Withdraw, [new Leg(Id.ShareAsset, new Amount(amount.Value % (s.SharesOutstanding.Value + 1)))]),
            };
            var (k, t) = (PoolMath.Product(s.ReserveA, s.ReserveB), (BigInteger)s.TotalShares.Value);
            var d = Run(s, call, id: (n++).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (d.Code is not null) continue;
            foreach (var leg in d.In) Count(leg, +1);
            foreach (var leg in d.Out) Count(leg, -1);
            var (k2, t2) = (PoolMath.Product(s.ReserveA, s.ReserveB), (BigInteger)s.TotalShares.Value);
            if (call.Kind is PoolCallKind.SwapExactIn or PoolCallKind.SwapExactOut && k2 < k) return false;
            if (t > 0 && k2 * t * t < k * t2 * t2) return false;
        }
        return inA == s.ReserveA.Value && inB == s.ReserveB.Value && sharesOut + s.LockedShares.Value == s.TotalShares.Value;

        void Count(Leg leg, int sign)
        {
            if (leg.Asset == A) inA += sign * (BigInteger)leg.Amount.Value;
            else if (leg.Asset == B) inB += sign * (BigInteger)leg.Amount.Value;
            else sharesOut -= sign * (BigInteger)leg.Amount.Value;
        }
    }
}
