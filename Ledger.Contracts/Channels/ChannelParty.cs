using System.Text.Json.Nodes;
using Ledger.Contracts.Primitives;
using NSec.Cryptography;

namespace Ledger.Contracts.Channels;

/// <summary>
/// One participant's side of a payment channel, as an integrator keeps it: its Ed25519 key, what it has sent and
/// received off the ledger, the newest proof the other side signed, and the requests (api.md 1.1) that deposit,
/// close and settle. Payments are signed proofs exchanged directly between the two parties; the ledger sees only
/// the open, the deposits and the close.
/// </summary>
public sealed class ChannelParty : IDisposable
{
    private readonly Key _key;
    private long _nonce;

    /// <param name="seed">The 32-byte private key seed (keep it secret; the same seed is the same key).</param>
    public ChannelParty(ChannelId channel, AccountId self, AccountId other, ReadOnlySpan<byte> seed)
    {
        (Channel, Self, Other) = (channel, self, other);
        _key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
        PublicKeyHex = Convert.ToHexStringLower(_key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    public ChannelId Channel { get; }
    public AccountId Self { get; }
    public AccountId Other { get; }
    public string PublicKeyHex { get; }
    /// <summary>The other side's public key, to check its proofs before accepting a payment.</summary>
    public string? OtherKeyHex { get; set; }
    /// <summary>What this party has sent in total (its proofs' <c>transferred</c>).</summary>
    public Amount Sent { get; private set; }
    /// <summary>The newest proof the other side signed: what this party submits when the channel closes.</summary>
    public BalanceProof? Received { get; private set; }

    /// <summary>Pays <paramref name="amount"/> more: the proof to hand to the other side.</summary>
    public BalanceProof Pay(Amount amount)
    {
        Sent += amount;
        return Sign(++_nonce, Sent);
    }

    /// <summary>A proof signed with this party's key (the nonce and total as given; a test may sign a stale one).</summary>
    public BalanceProof Sign(long nonce, Amount transferred) =>
        new(Self, nonce, transferred, Convert.ToHexStringLower(SignatureAlgorithm.Ed25519.Sign(_key, ChannelProofs.ProofMessage(Channel, Self, nonce, transferred))));

    /// <summary>Takes the other side's payment if it is newer and correctly signed; false otherwise (nothing kept).</summary>
    public bool Accept(BalanceProof proof)
    {
        if (proof.Signer != Other || OtherKeyHex is null || (Received is { } held && (proof.Nonce <= held.Nonce || proof.Transferred < held.Transferred))) return false;
        if (!ChannelProofs.Verify(OtherKeyHex, ChannelProofs.ProofMessage(Channel, proof.Signer, proof.Nonce, proof.Transferred), proof.Signature)) return false;
        Received = proof;
        return true;
    }

    /// <summary>This party's signature of the final balances of a cooperative close.</summary>
    public string SignClose(Amount balanceA, Amount balanceB) =>
        Convert.ToHexStringLower(SignatureAlgorithm.Ed25519.Sign(_key, ChannelProofs.CloseMessage(Channel, balanceA, balanceB)));

    /// <summary><c>POST /v1/channels</c> with this party as <c>a</c> and the other as <c>b</c>.</summary>
    public JsonObject OpenRequest(AssetId asset, string otherKeyHex, long challengeMs) => new()
    {
        ["id"] = Channel.Value,
        ["asset"] = asset.Value,
        ["a"] = Self.Value,
        ["b"] = Other.Value,
        ["a_key"] = PublicKeyHex,
        ["b_key"] = otherKeyHex,
        ["challenge_ms"] = challengeMs,
    };

    /// <summary><c>POST /v1/channels/{c}/deposit</c>.</summary>
    public JsonObject DepositRequest(string id, Amount amount) => new() { ["id"] = id, ["account"] = Self.Value, ["amount"] = amount.ToString() };

    /// <summary><c>POST /v1/channels/{c}/close</c> alone, with the newest proof received (or none).</summary>
    public JsonObject CloseRequest(string id) => Received is { } proof
        ? new() { ["id"] = id, ["account"] = Self.Value, ["proof"] = Json(proof) }
        : new() { ["id"] = id, ["account"] = Self.Value };

    /// <summary><c>POST /v1/channels/{c}/update</c> with the newest proof received, during the challenge window.</summary>
    public JsonObject UpdateRequest(string id) =>
        new() { ["id"] = id, ["account"] = Self.Value, ["proof"] = Json(Received ?? throw new InvalidOperationException("no proof received")) };

    /// <summary><c>POST /v1/channels/{c}/close</c> cooperatively, with both signatures of the final balances.</summary>
    public static JsonObject CooperativeCloseRequest(string id, AccountId account, Amount balanceA, Amount balanceB, string signatureA, string signatureB) => new()
    {
        ["id"] = id,
        ["account"] = account.Value,
        ["cooperative"] = true,
        ["balance_a"] = balanceA.ToString(),
        ["balance_b"] = balanceB.ToString(),
        ["signature_a"] = signatureA,
        ["signature_b"] = signatureB,
    };

    /// <summary>A proof as api.md spells it.</summary>
    public static JsonObject Json(BalanceProof proof) => new()
    {
        ["signer"] = proof.Signer.Value,
        ["nonce"] = proof.Nonce,
        ["transferred"] = proof.Transferred.ToString(),
        ["signature"] = proof.Signature,
    };

    public void Dispose() => _key.Dispose();
}
