using System.Numerics;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Pools;

/// <summary>
/// Constant-product arithmetic exactly as Uniswap v2 computes it (UniswapV2Library, UniswapV2Pair, Router02's
/// addLiquidity), generalised from 30 bps to any fee. Products are taken in arbitrary precision, so nothing
/// overflows; every division rounds down, and where that could favour the trader the formula adds one (the
/// exact-out input), so rounding always favours the pool. All functions are pure.
/// </summary>
public static class PoolMath
{
    public const int BpsDenominator = 10_000;

    /// <summary>Shares minted to nobody on the first deposit, so the share price can never be inflated to zero.</summary>
    public static readonly Amount MinimumLiquidity = 1_000;

    /// <summary>Output for an exact input: <c>in·(10000−fee)·R_out / (R_in·10000 + in·(10000−fee))</c>, rounded down.</summary>
    public static Amount AmountOut(Amount amountIn, Amount reserveIn, Amount reserveOut, int feeBps)
    {
        var inWithFee = Big(amountIn) * (BpsDenominator - feeBps);
        return Narrow(inWithFee * Big(reserveOut) / (Big(reserveIn) * BpsDenominator + inWithFee));
    }

    /// <summary>
    /// Input for an exact output: <c>R_in·out·10000 / ((R_out−out)·(10000−fee)) + 1</c>. Requires out &lt; R_out. Null when
    /// it is 2^128 or more: more than any amount, so no maximum a client can send covers it.
    /// </summary>
    public static Amount? AmountIn(Amount amountOut, Amount reserveIn, Amount reserveOut, int feeBps)
    {
        if (amountOut >= reserveOut) throw new ArgumentOutOfRangeException(nameof(amountOut), "output must be below the reserve");
        var numerator = Big(reserveIn) * Big(amountOut) * BpsDenominator;
        var denominator = (Big(reserveOut) - Big(amountOut)) * (BpsDenominator - feeBps);
        return NarrowOrNull(numerator / denominator + 1);
    }

    /// <summary>
    /// The router's <c>quote</c>: the amount of B worth <paramref name="amountA"/> at the current ratio, rounded down; null
    /// when it is 2^128 or more (far from the pool's ratio, more than any desired amount).
    /// </summary>
    public static Amount? Quote(Amount amountA, Amount reserveA, Amount reserveB) => NarrowOrNull(Big(amountA) * Big(reserveB) / Big(reserveA));

    /// <summary><c>a·b/c</c> rounded down, without overflow.</summary>
    public static Amount MulDiv(Amount a, Amount b, Amount c) => Narrow(Big(a) * Big(b) / Big(c));

    /// <summary>Shares of a first deposit before the locked minimum is taken: <c>floor(sqrt(a·b))</c>.</summary>
    public static Amount SqrtProduct(Amount a, Amount b) => Narrow(Sqrt(Big(a) * Big(b)));

    /// <summary>The product of the reserves (the invariant a swap may only increase).</summary>
    public static BigInteger Product(Amount a, Amount b) => Big(a) * Big(b);

    /// <summary>Integer square root rounded down (Newton's method, as Uniswap's Math.sqrt).</summary>
    public static BigInteger Sqrt(BigInteger y)
    {
        if (y.Sign < 0) throw new ArgumentOutOfRangeException(nameof(y));
        if (y < 4) return y.IsZero ? 0 : 1;
        var z = y;
        var x = y / 2 + 1;
        while (x < z)
        {
            z = x;
            x = (y / x + x) / 2;
        }
        return z;
    }

    private static BigInteger Big(Amount a) => a.Value;

    private static Amount Narrow(BigInteger v) => new((UInt128)v);

    private static Amount? NarrowOrNull(BigInteger v) => v <= UInt128.MaxValue ? new Amount((UInt128)v) : null;
}
