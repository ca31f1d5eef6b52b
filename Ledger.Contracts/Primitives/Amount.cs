using System.Globalization;

namespace Ledger.Contracts.Primitives;

/// <summary>
/// An unsigned quantity of an asset in base units, below 2^128. All arithmetic is checked:
/// an overflow throws instead of wrapping, so money can never silently appear or vanish.
/// </summary>
public readonly record struct Amount(UInt128 Value) : IComparable<Amount>
{
    /// <summary>2^128 − 1 has 39 digits; anything longer is out of range before parsing.</summary>
    public const int MaxDigits = 39;

    public static readonly Amount Zero = new(UInt128.Zero);
    public static readonly Amount MaxValue = new(UInt128.MaxValue);

    public bool IsZero => Value == UInt128.Zero;

    /// <summary>
    /// Parses the wire form of api.md: one or more ASCII decimal digits and nothing else
    /// (no sign, no whitespace, no fraction, no exponent), below 2^128.
    /// </summary>
    public static bool TryParse(string? text, out Amount amount)
    {
        amount = Zero;
        if (string.IsNullOrEmpty(text) || text.Length > MaxDigits + 24) return false;
        foreach (var c in text)
            if (c is < '0' or > '9') return false;
        var digits = text.TrimStart('0');
        if (digits.Length == 0) return true;
        if (digits.Length > MaxDigits) return false;
        if (!UInt128.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return false;
        amount = new Amount(value);
        return true;
    }

    public static Amount Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not an amount");

    public static Amount operator +(Amount a, Amount b) => new(checked(a.Value + b.Value));
    public static Amount operator -(Amount a, Amount b) => new(checked(a.Value - b.Value));
    public static bool operator <(Amount a, Amount b) => a.Value < b.Value;
    public static bool operator >(Amount a, Amount b) => a.Value > b.Value;
    public static bool operator <=(Amount a, Amount b) => a.Value <= b.Value;
    public static bool operator >=(Amount a, Amount b) => a.Value >= b.Value;

    public static Amount Min(Amount a, Amount b) => a <= b ? a : b;

    public int CompareTo(Amount other) => Value.CompareTo(other.Value);

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);

    public static implicit operator Amount(ulong value) => new(value);
}

/// <summary>
/// Net balances are signed: only an asset's issuer may go below zero, to minus the supply.
/// Supply is therefore bounded by <see cref="Int128.MaxValue"/> (2^127 − 1).
/// </summary>
public static class SignedAmount
{
    public static bool TryToSigned(Amount amount, out Int128 value)
    {
        if (amount.Value > (UInt128)Int128.MaxValue) { value = 0; return false; }
        value = (Int128)amount.Value;
        return true;
    }

    public static string Format(Int128 value) => value.ToString(CultureInfo.InvariantCulture);
}
