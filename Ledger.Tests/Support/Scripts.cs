namespace Ledger.Tests.Support;

/// <summary>Helpers for property tests that read each generated number as one step of a script.</summary>
public static class Scripts
{
    /// <summary>
    /// Spreads a generated number over all 32 bits (FsCheck's numbers are small while its size is), so that
    /// every field read from it varies; distinct inputs stay distinct, so shrinking still works on the input.
    /// </summary>
    public static uint Mix(uint x)
    {
        x ^= x >> 16;
        x *= 0x7feb352d;
        x ^= x >> 15;
        x *= 0x846ca68b;
        x ^= x >> 16;
        return x;
    }
}
