using System.Globalization;
using System.Text;
using Ledger.Contracts.Primitives;
using NSec.Cryptography;

namespace Ledger.Contracts.Channels;

/// <summary>
/// The bytes a channel's participants sign (api.md 1.1, "Payment channels") and their Ed25519 verification, by
/// libsodium through NSec: constant-time, audited, and strict about non-canonical signatures and small-order keys.
/// </summary>
public static class ChannelProofs
{
    public const int KeyHexLength = 64;
    public const int SignatureHexLength = 128;

    /// <summary><c>ledger.channel.v1\n&lt;channel&gt;\n&lt;signer&gt;\n&lt;nonce&gt;\n&lt;transferred&gt;</c> in UTF-8.</summary>
    public static byte[] ProofMessage(ChannelId channel, AccountId signer, long nonce, Amount transferred) =>
        Encoding.UTF8.GetBytes($"ledger.channel.v1\n{channel.Value}\n{signer.Value}\n{nonce.ToString(CultureInfo.InvariantCulture)}\n{transferred}");

    /// <summary><c>ledger.channel.v1.close\n&lt;channel&gt;\n&lt;balance_a&gt;\n&lt;balance_b&gt;</c> in UTF-8.</summary>
    public static byte[] CloseMessage(ChannelId channel, Amount balanceA, Amount balanceB) =>
        Encoding.UTF8.GetBytes($"ledger.channel.v1.close\n{channel.Value}\n{balanceA}\n{balanceB}");

    /// <summary>Whether <paramref name="signatureHex"/> is the owner of <paramref name="keyHex"/>'s signature of <paramref name="message"/>.</summary>
    public static bool Verify(string keyHex, byte[] message, string signatureHex)
    {
        if (!IsHex(keyHex, KeyHexLength) || !IsHex(signatureHex, SignatureHexLength)) return false;
        return PublicKey.TryImport(SignatureAlgorithm.Ed25519, Convert.FromHexString(keyHex), KeyBlobFormat.RawPublicKey, out var key)
            && SignatureAlgorithm.Ed25519.Verify(key!, message, Convert.FromHexString(signatureHex));
    }

    /// <summary>Exactly <paramref name="length"/> hex digits.</summary>
    public static bool IsHex(string? text, int length) => text is not null && text.Length == length && text.All(Uri.IsHexDigit);
}
