using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

public class AmountTests(ITestOutputHelper output)
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

    /// <summary>
    /// Amounts of every bit length up to 128, and values within a few units of 2^64, 2^127 and 2^128 where the checked
    /// arithmetic and the signed conversion change branch.
    /// </summary>
    private static readonly Gen<UInt128> Amounts = Gen.OneOf(
        Gens.Magnitude(128),
        from edge in Gen.Elements(UInt128.One << 64, UInt128.One << 127)
        from delta in Gen.Choose(0, 6)
        select edge + (UInt128)delta - 3,
        from below in Gen.Choose(0, 3)
        select UInt128.MaxValue - (UInt128)below);

    [Fact]
    public void Format_then_parse_is_identity()
    {
        var seen = new Coverage();
        PropertyRun.Check(Amounts, v =>
        {
            var a = new Amount(v);
            seen.Add("39 digits", a.ToString().Length == Amount.MaxDigits);
            seen.Add("at most 20 digits", a.ToString().Length <= 20);
            return Amount.TryParse(a.ToString(), out var back) && back == a;
        }, maxTest: 500, seed: 20_07_05);
        seen.AssertFloors(output, ("39 digits", 50), ("at most 20 digits", 50));
    }

    /// <summary>Checked addition against BigInteger: the sum when it is below 2^128, OverflowException when it is not.</summary>
    [Fact]
    public void Checked_sum_matches_big_integer_arithmetic()
    {
        var seen = new Coverage();
        PropertyRun.Check(Gen.Zip(Amounts, Amounts), pair =>
        {
            var (a, b) = (new Amount(pair.Item1), new Amount(pair.Item2));
            var exact = (BigInteger)a.Value + b.Value;
            try
            {
                var sum = (a + b).Value;
                seen.Add("sum at or above 2^127", exact >= BigInteger.Pow(2, 127));
                seen.Add("sum", true);
                return sum == exact;
            }
            catch (OverflowException)
            {
                seen.Add("overflow");
                seen.Add("overflow by at most 3", exact - BigInteger.Pow(2, 128) < 3);
                return exact >= BigInteger.Pow(2, 128);
            }
        }, maxTest: 500, seed: 20_07_05);
        seen.AssertFloors(output, ("sum", 150), ("sum at or above 2^127", 30), ("overflow", 100), ("overflow by at most 3", 5));
    }

    /// <summary>Checked subtraction against BigInteger: the difference when it is not negative, OverflowException when it is.</summary>
    [Fact]
    public void Checked_difference_matches_big_integer_arithmetic()
    {
        var seen = new Coverage();
        PropertyRun.Check(Gen.Zip(Amounts, Amounts), pair =>
        {
            var (a, b) = (new Amount(pair.Item1), new Amount(pair.Item2));
            var exact = (BigInteger)a.Value - b.Value;
            try
            {
                var difference = (a - b).Value;
                seen.Add("difference");
                return difference == exact;
            }
            catch (OverflowException)
            {
                seen.Add("below zero");
                return exact < 0;
            }
        }, maxTest: 500, seed: 20_07_05);
        seen.AssertFloors(output, ("difference", 150), ("below zero", 150));
    }

    /// <summary>A balance holds an amount exactly when it is at most 2^127 − 1.</summary>
    [Fact]
    public void An_amount_fits_a_signed_balance_exactly_when_it_is_below_2_to_the_127()
    {
        var seen = new Coverage();
        PropertyRun.Check(Amounts, v =>
        {
            var fits = SignedAmount.TryToSigned(new Amount(v), out var signed);
            seen.Add(fits ? "fits" : "too large");
            seen.Add("2^127 − 1 or 2^127", v == (UInt128)Int128.MaxValue || v == (UInt128)Int128.MaxValue + 1);
            return fits ? (BigInteger)signed == v : (BigInteger)v > (BigInteger)Int128.MaxValue && signed == 0;
        }, maxTest: 500, seed: 20_07_05);
        seen.AssertFloors(output, ("fits", 150), ("too large", 100), ("2^127 − 1 or 2^127", 5));
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
