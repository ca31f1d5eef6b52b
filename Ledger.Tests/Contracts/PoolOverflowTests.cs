using System.Numerics;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Tests.Contracts;

/// <summary>Pool calls whose intermediate results pass 2^128: they must be refused, not thrown.</summary>
public class PoolOverflowTests
{
    private const long Now = 1_700_000_000_000;
    private static readonly PoolId Id = new("p");
    private static readonly AssetId A = new("A"), B = new("B");
    private static readonly AccountId Lp = new("lp"), Trader = new("trader");

    private static Amount E(BigInteger v) => new((UInt128)v);

    private static PoolState NewPool()
    {
        var s = new PoolState { Id = Id };
        PoolContract.Apply(s, new PoolCreated(A, B, 30, Now));
        return s;
    }

    private static void Run(PoolState s, PoolCall call) => PoolContract.Apply(s, PoolContract.Decide(s, Lp, new TxId("d"), call, Now));

    private static PoolCall Deposit(Amount a, Amount b) => new(Id, PoolCallKind.Deposit, [new Leg(A, a), new Leg(B, b)]);

    // Found by the pool property (issue 20, item 7): PoolMath narrowed its results to UInt128 before the contract compared
    // them, so a quote or a needed input of 2^128 or more threw out of PoolContract.Decide instead of being refused — for
    // calls an account can fund (every amount below 2^127). In the actor that failed the pool's whole batch, again on
    // each of the trader's resends.
    [Fact]
    public void A_deposit_far_from_the_pool_ratio_is_decided_not_thrown()
    {
        var s = NewPool();
        Run(s, Deposit(1_000_000, E(BigInteger.Pow(2, 120))));
        // Router02's quote of 2^80 A is 2^80 · 2^120 / 10^6 B, past 2^128: the router takes the other branch.
        var d = PoolContract.Decide(s, Lp, new TxId("far"), Deposit(E(BigInteger.Pow(2, 80)), 1), Now);
        Assert.Equal(Codes.InsufficientLiquidity, d.Code);
    }

    [Fact]
    public void An_exact_output_needing_more_than_2_to_the_128_is_refused_as_slippage_not_thrown()
    {
        var s = NewPool();
        Run(s, Deposit(E(BigInteger.Pow(2, 120)), E(BigInteger.Pow(2, 120))));
        // All but one unit of B needs about 2^120 · 2^120 A (UniswapV2Library.getAmountIn), far above any input.
        var call = new PoolCall(Id, PoolCallKind.SwapExactOut, [new Leg(A, E(BigInteger.Pow(2, 126)))], B, AmountOut: E(BigInteger.Pow(2, 120) - 1));
        Assert.Equal(Codes.SlippageExceeded, PoolContract.Decide(s, Trader, new TxId("big"), call, Now).Code);
    }
}
