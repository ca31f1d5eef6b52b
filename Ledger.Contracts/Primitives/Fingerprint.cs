using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Ledger.Contracts.Primitives;

/// <summary>
/// A stable 64-bit digest of a request's canonical fields. Stored with the idempotency record so that
/// the same key with a different body is recognised (<c>id_conflict</c>) without keeping the body.
/// </summary>
public static class Fingerprint
{
    public static ulong Of(params string?[] parts)
    {
        var text = string.Join('\u001f', parts.Select(p => p ?? "\u0000"));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash);
    }
}
