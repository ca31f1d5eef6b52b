using FsCheck.Xunit;
using Ledger.Contracts.Primitives;

namespace Ledger.Tests.Contracts;

public class AmountTests
{
    private const string TwoTo128 = "340282366920938463463374607431768211456";
    private const string TwoTo128MinusOne = "340282366920938463463374607431768211455";

    [Fact]
    public void Largest_amount_is_2_to_the_128_minus_one()
    {
        Assert.True(Amount.TryParse(TwoTo128MinusOne, out var max));
        Assert.Equal(Amount.MaxValue, max);
        Assert.Equal(TwoTo128MinusOne, max.ToString());
    }

    [Theory]
    [InlineData(TwoTo128)]
    [InlineData("999999999999999999999999999999999999999999")]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("1E3")]
    [InlineData("0x10")]
    [InlineData("1_000")]
    [InlineData("1,000")]
    [InlineData("١٢")] // Arabic-Indic digits are not ASCII digits
    [InlineData(null)]
    public void Rejects_every_spelling_that_is_not_plain_decimal_digits_below_2_to_128(string? text) =>
        Assert.False(Amount.TryParse(text, out _));

    [Theory]
    [InlineData("0", "0")]
    [InlineData("000", "0")]
    [InlineData("0042", "42")]
    [InlineData("1500000000000000000", "1500000000000000000")]
    public void Parses_decimal_digits_and_formats_canonically(string text, string canonical)
    {
        Assert.True(Amount.TryParse(text, out var a));
        Assert.Equal(canonical, a.ToString());
    }

    [Fact]
    public void Addition_past_the_maximum_throws_instead_of_wrapping() =>
        Assert.Throws<OverflowException>(() => Amount.MaxValue + new Amount(1));

    [Fact]
    public void Subtraction_below_zero_throws_instead_of_wrapping() =>
        Assert.Throws<OverflowException>(() => new Amount(1) - new Amount(2));

    [Fact]
    public void Only_amounts_up_to_2_to_the_127_minus_one_fit_a_signed_balance()
    {
        Assert.True(SignedAmount.TryToSigned(new Amount((UInt128)Int128.MaxValue), out var v));
        Assert.Equal(Int128.MaxValue, v);
        Assert.False(SignedAmount.TryToSigned(new Amount((UInt128)Int128.MaxValue + 1), out _));
    }

    [Property(MaxTest = 500)]
    public bool Format_then_parse_is_identity(ulong high, ulong low)
    {
        var a = new Amount(new UInt128(high, low));
        return Amount.TryParse(a.ToString(), out var back) && back == a;
    }

    [Property(MaxTest = 500)]
    public bool Checked_sum_matches_big_integer_arithmetic(ulong ah, ulong al, ulong bh, ulong bl)
    {
        var a = new Amount(new UInt128(ah, al));
        var b = new Amount(new UInt128(bh, bl));
        var exact = (System.Numerics.BigInteger)a.Value + b.Value;
        try
        {
            return (System.Numerics.BigInteger)(a + b).Value == exact;
        }
        catch (OverflowException)
        {
            return exact > (System.Numerics.BigInteger)UInt128.MaxValue;
        }
    }
}

public class IdTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("Alice_01.x:y-z")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123")]
    public void Accepts_1_to_64_characters_of_the_id_alphabet(string id) => Assert.True(Id.IsValid(id));

    [Theory]
    [InlineData("")]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("é")]
    [InlineData("a\n")]
    [InlineData(null)]
    public void Rejects_anything_else(string? id) => Assert.False(Id.IsValid(id));
}
