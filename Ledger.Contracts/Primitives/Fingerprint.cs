namespace Ledger.Contracts.Primitives;

/// <summary>
/// A stable 64-bit digest (FNV-1a over the UTF-16 code units, with a separator between parts) of a request's
/// canonical fields. Stored with the idempotency record so that the same key with a different body is
/// recognised (<c>id_conflict</c>) without keeping the body. Not cryptographic, and it need not be: it only
/// tells a retry from a conflicting request under one key, and a forged collision gets the original outcome
/// back, nothing more. Persisted, so the algorithm must never change.
/// </summary>
public static class Fingerprint
{
    private const ulong Offset = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Of(params ReadOnlySpan<string?> parts)
    {
        var h = Offset;
        foreach (var part in parts)
        {
            if (part is null) h = (h ^ 0xFFFF) * Prime;
            else
                foreach (var c in part)
                {
                    h = (h ^ (byte)c) * Prime;
                    h = (h ^ (byte)(c >> 8)) * Prime;
                }
            h = (h ^ 0x1F) * Prime;
        }
        return h;
    }
}
