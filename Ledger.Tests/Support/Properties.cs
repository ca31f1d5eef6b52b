using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;

namespace Ledger.Tests.Support;

/// <summary>
/// Generators with explicit ranges for the property tests. FsCheck's default numbers stay at or below its size
/// (at most 100), which left amounts at 1 and scripts made of one operation; these cover their whole range.
/// </summary>
public static class Gens
{
    /// <summary>A uniformly random 32-bit word: every bit field a script step reads from it varies.</summary>
    public static readonly Gen<uint> Word = Gen.Choose(int.MinValue, int.MaxValue).Select(i => unchecked((uint)i));

    /// <summary>A uniformly random 128-bit word.</summary>
    public static readonly Gen<UInt128> Word128 =
        from a in Word
        from b in Word
        from c in Word
        from d in Word
        select new UInt128(((ulong)a << 32) | b, ((ulong)c << 32) | d);

    /// <summary>
    /// A value of 1 to <paramref name="maxBits"/> bits, the bit length uniform, so that 1, 2^20, 2^64 and
    /// 2^127 are all as likely as each other rather than every value being either tiny or huge.
    /// </summary>
    public static Gen<UInt128> Magnitude(int maxBits) =>
        from bits in Gen.Choose(1, maxBits)
        from w in Word128
        select (w >> (128 - bits)) | (UInt128.One << (bits - 1));

    /// <summary>A script of <paramref name="min"/> to <paramref name="max"/> steps.</summary>
    public static Gen<T[]> Script<T>(Gen<T> step, int min, int max) =>
        from n in Gen.Choose(min, max)
        from steps in Gen.ArrayOf(step, n)
        select steps;
}

/// <summary>Runs a property over a generator with a fixed seed, so every run of the suite checks the same cases.</summary>
public static class PropertyRun
{
    public static void Check<T>(Gen<T> gen, Func<T, bool> property, int maxTest, ulong seed, Func<T, IEnumerable<T>>? shrink = null)
    {
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(maxTest)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed), FSharpOption<int>.None)));
        Prop.ForAll(shrink is null ? Arb.From(gen) : Arb.From(gen, shrink), property).Check(config);
    }

    /// <summary>Shrinks a failing script by dropping its second half, its first half, or one step.</summary>
    public static IEnumerable<T[]> ShrinkScript<T>(T[] script)
    {
        if (script.Length > 1)
        {
            yield return script[..(script.Length / 2)];
            yield return script[(script.Length / 2)..];
        }
        for (var i = 0; i < script.Length; i++) yield return [.. script[..i], .. script[(i + 1)..]];
    }
}

/// <summary>
/// How many operations of each kind a property's runs made succeed, summed over all its runs, so that a property
/// whose inputs never reach what it names fails instead of passing on nothing.
/// </summary>
public sealed class Coverage
{
    private readonly SortedDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(string kind, bool when = true)
    {
        if (when) _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
    }

    public long this[string kind] => _counts.GetValueOrDefault(kind);

    /// <summary>Prints every count, then fails naming each kind below its floor.</summary>
    public void AssertFloors(ITestOutputHelper output, params (string Kind, long Floor)[] floors)
    {
        foreach (var (kind, count) in _counts) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind}: {count}"));
        var missing = floors.Where(f => this[f.Kind] < f.Floor).Select(f => $"{f.Kind} {this[f.Kind]} < {f.Floor}").ToArray();
        Assert.True(missing.Length == 0, "too few operations reached: " + string.Join("; ", missing));
    }
}
