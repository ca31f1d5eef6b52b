using System.Numerics;

namespace Ledger.Tests.Support;

/// <summary>
/// Uniswap v2's formulas written out again for the tests (UniswapV2Library.getAmountOut / getAmountIn, Router02's
/// quote), so that expected values never come from the production code they check.
/// The fee is in basis points: 30 bps gives the library's 997/1000.
/// </summary>
public static class UniswapV2
{
    /// <summary>getAmountOut: <c>in·(10000−fee)·R_out / (R_in·10000 + in·(10000−fee))</c>, rounded down.</summary>
    public static BigInteger AmountOut(BigInteger amountIn, BigInteger reserveIn, BigInteger reserveOut, int feeBps = 30)
    {
        var amountInWithFee = amountIn * (10_000 - feeBps);
        return amountInWithFee * reserveOut / (reserveIn * 10_000 + amountInWithFee);
    }

    /// <summary>getAmountIn: <c>R_in·out·10000 / ((R_out−out)·(10000−fee)) + 1</c>.</summary>
    public static BigInteger AmountIn(BigInteger amountOut, BigInteger reserveIn, BigInteger reserveOut, int feeBps = 30) =>
        reserveIn * amountOut * 10_000 / ((reserveOut - amountOut) * (10_000 - feeBps)) + 1;

}
