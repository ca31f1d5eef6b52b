using System.Globalization;
using System.Numerics;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Markets;

/// <summary>
/// Fixed-point arithmetic of lending: rates and indexes in RAY (10^27 = 1.0), prices in WAD (10^18 = 1.0),
/// all in arbitrary precision. The rounding direction of each function is in its name or its summary, and
/// always favours the market: what is owed to it rounds up, what it owes rounds down.
/// </summary>
public static class Fixed
{
    public static readonly BigInteger Ray = BigInteger.Pow(10, 27);
    public static readonly BigInteger Wad = BigInteger.Pow(10, 18);
    public const int Bps = 10_000;
    /// <summary>A year of 365 days, in milliseconds (rates are per year; time is in ms).</summary>
    public const long YearMs = 365L * 24 * 3600 * 1000;

    public static BigInteger MulDivDown(BigInteger a, BigInteger b, BigInteger c) => a * b / c;

    public static BigInteger MulDivUp(BigInteger a, BigInteger b, BigInteger c) => (a * b + c - 1) / c;

    /// <summary>
    /// A decimal string with up to 18 places ("1850.25") as WAD; false for anything else (signs, exponents,
    /// more places, empty parts, or a value of 2^128 WAD or more).
    /// </summary>
    public static bool TryParseWad(string? text, out Amount wad)
    {
        wad = default;
        if (string.IsNullOrEmpty(text) || text.Length > 60) return false;
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var (whole, fraction) = dot < 0 ? (text, "") : (text[..dot], text[(dot + 1)..]);
        if (whole.Length == 0 || (dot >= 0 && fraction.Length == 0) || fraction.Length > 18) return false;
        if (!whole.All(char.IsAsciiDigit) || !fraction.All(char.IsAsciiDigit)) return false;
        var value = BigInteger.Parse(whole + fraction.PadRight(18, '0'), NumberStyles.None, CultureInfo.InvariantCulture);
        if (value > (BigInteger)UInt128.MaxValue) return false;
        wad = new Amount((UInt128)value);
        return true;
    }

    /// <summary>A WAD value as a decimal string without trailing zeros ("1850.25", "3").</summary>
    public static string FormatWad(BigInteger wad)
    {
        var whole = BigInteger.DivRem(wad, Wad, out var rest);
        if (rest.IsZero) return whole.ToString(CultureInfo.InvariantCulture);
        return whole.ToString(CultureInfo.InvariantCulture) + "." + rest.ToString(CultureInfo.InvariantCulture).PadLeft(18, '0').TrimEnd('0');
    }
}

/// <summary>
/// The kinked borrow-rate model (Compound's JumpRateModel, Aave v3): per year,
/// <c>base + slope1·U/kink</c> up to the kink, then <c>base + slope1 + slope2·(U−kink)/(1−kink)</c>, with
/// utilisation <c>U = borrows / (cash + borrows)</c>. All in basis points; the kink lies strictly between 0 and 100%.
/// </summary>
public sealed record RateModel(int BaseBps, int Slope1Bps, int Slope2Bps, int KinkBps)
{
    /// <summary>Why this model is invalid, or null.</summary>
    public string? Invalid() =>
        BaseBps < 0 || Slope1Bps < 0 || Slope2Bps < 0 || BaseBps + Slope1Bps + Slope2Bps > 1_000_000 ? "rates are 0–1,000,000 bps in all"
        : KinkBps is <= 0 or >= Fixed.Bps ? "kink_bps is 1–9,999"
        : null;

    /// <summary>Utilisation in RAY, rounded down (0 for an empty market).</summary>
    public static BigInteger Utilization(BigInteger cash, BigInteger borrows) =>
        cash + borrows == 0 ? 0 : borrows * Fixed.Ray / (cash + borrows);

    /// <summary>The borrow rate per year in RAY at utilisation <paramref name="u"/> (RAY), rounded down.</summary>
    public BigInteger BorrowRate(BigInteger u)
    {
        var kink = (BigInteger)KinkBps * Fixed.Ray / Fixed.Bps;
        var rate = (BigInteger)BaseBps * Fixed.Ray / Fixed.Bps;
        if (u <= kink) return rate + (BigInteger)Slope1Bps * Fixed.Ray / Fixed.Bps * u / kink;
        return rate + (BigInteger)Slope1Bps * Fixed.Ray / Fixed.Bps + (BigInteger)Slope2Bps * Fixed.Ray / Fixed.Bps * (u - kink) / (Fixed.Ray - kink);
    }
}

/// <summary>The oracle's event: a new price for an asset, and the reading version it starts.</summary>
public sealed record PriceSet(AssetId Asset, Amount Price, long Version, long At);
