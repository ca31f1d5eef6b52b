using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Channels;

public enum ChannelCallKind
{
    Deposit,
    /// <summary>The channel pays a participant its settlement (asked by the channel itself, with no input).</summary>
    Payout,
}

public enum ChannelStatus
{
    Open,
    Closing,
    Settled,
}

/// <summary>
/// What <paramref name="Signer"/> has sent the other side off the ledger (<paramref name="Transferred"/>, never
/// decreasing) as of its update <paramref name="Nonce"/>, signed by the signer's key (128 lowercase hex digits).
/// </summary>
public sealed record BalanceProof(AccountId Signer, long Nonce, Amount Transferred, string Signature);

/// <summary>Everything a channel persists (the durable schema: add fields only with defaults).</summary>
public interface IChannelEvent;

/// <summary>A decision remembered under the caller's (account, id): what it changed, or its refusal (<see cref="Code"/>).</summary>
public interface IChannelCall : IChannelEvent
{
    AccountId Account { get; }
    TxId Id { get; }
    string? Code { get; }

    /// <summary>A close's, update's or settle's request (<see cref="ChannelContract.FingerprintOf"/>); 0 for venue calls and older events.</summary>
    ulong Fingerprint => 0;
}

/// <summary>Keys are the participants' Ed25519 public keys, 64 lowercase hex digits.</summary>
public sealed record ChannelOpened(AssetId Asset, AccountId A, AccountId B, string KeyA, string KeyB, long ChallengeMs, long At) : IChannelEvent;

/// <summary>
/// A deposit (its amount came in, or back out with <see cref="Code"/>) or a payout of the settlement to a participant,
/// decided as a venue call of that participant's account: <see cref="Out"/> is what the account is credited.
/// </summary>
public sealed record ChannelCallDecided(AccountId Account, TxId Id, ChannelCallKind Kind, Amount Amount, Leg[] In, Leg[] Out, string? Code, long At)
    : IChannelCall;

/// <summary>A unilateral close by a participant with the proof it holds (or none): the challenge window runs until <see cref="ClosesAt"/>.</summary>
public sealed record ChannelClosed(AccountId Account, TxId Id, BalanceProof? Proof, long ClosesAt, string? Code, long At, ulong Fingerprint = 0) : IChannelCall;

/// <summary>A newer proof submitted during the challenge window.</summary>
public sealed record ProofUpdated(AccountId Account, TxId Id, BalanceProof? Proof, string? Code, long At, ulong Fingerprint = 0) : IChannelCall;

/// <summary>
/// The channel is settled: <see cref="SettleA"/> is owed to <c>a</c>, <see cref="SettleB"/> to <c>b</c>, paid by
/// payouts that follow. Cooperative: both participants signed these balances (the signatures are kept).
/// </summary>
public sealed record ChannelSettled(AccountId Account, TxId Id, Amount SettleA, Amount SettleB, string? SignatureA, string? SignatureB, string? Code,
    long At, ulong Fingerprint = 0) : IChannelCall;

public sealed class ChannelState
{
    public required ChannelId Id { get; init; }
    public bool Exists { get; set; }
    public AssetId Asset { get; set; }
    public AccountId A { get; set; }
    public AccountId B { get; set; }
    public string KeyA { get; set; } = "";
    public string KeyB { get; set; } = "";
    public long ChallengeMs { get; set; }
    public long OpenedAt { get; set; }
    public Amount DepositA { get; set; }
    public Amount DepositB { get; set; }
    public ChannelStatus Status { get; set; }
    public long? ClosesAt { get; set; }
    public BalanceProof? ProofA { get; set; }
    public BalanceProof? ProofB { get; set; }
    public Amount SettleA { get; set; }
    public Amount SettleB { get; set; }
    public bool PaidA { get; set; }
    public bool PaidB { get; set; }
    public AnswerStore Answers { get; } = new();

    /// <summary>What the channel holds: the deposits, less what the payouts paid.</summary>
    public Amount Held => new(DepositA.Value + DepositB.Value - (PaidA ? SettleA.Value : 0) - (PaidB ? SettleB.Value : 0));

    public bool IsParticipant(AccountId account) => account == A || account == B;

    /// <summary>The payouts settlement still owes (a positive amount not yet paid), a's first.</summary>
    public IEnumerable<(AccountId Account, Amount Amount)> Owed()
    {
        if (Status != ChannelStatus.Settled) yield break;
        if (!PaidA && !SettleA.IsZero) yield return (A, SettleA);
        if (!PaidB && !SettleB.IsZero) yield return (B, SettleB);
    }
}

/// <summary>
/// The rules of a payment channel (api.md 1.1, "Payment channels"; Raiden's settlement without locks): deposits
/// while open; a cooperative close signed by both settles at once; a unilateral close starts a challenge window in
/// which newer proofs replace older ones (no penalty); after it anyone settles, once, by
/// <c>S_a = clamp(D_a + T_b − T_a, 0, D_a + D_b)</c>.
/// </summary>
public static class ChannelContract
{
    /// <summary>The longest challenge window a channel may ask for (30 days).</summary>
    public const long ChallengeMaxMs = 30L * 24 * 60 * 60 * 1000;

    public static string? Open(ChannelState s, ChannelOpened o)
    {
        if (o.A == o.B) return Codes.SameAccount;
        if (o.ChallengeMs is <= 0 or > ChallengeMaxMs) return Codes.InvalidRequest;
        if (!s.Exists) return null;
        // Opened alike: answered with the channel as it is; a channel id is never reused.
        return (s.Asset, s.A, s.B, s.KeyA, s.KeyB, s.ChallengeMs) == (o.Asset, o.A, o.B, o.KeyA, o.KeyB, o.ChallengeMs) ? null : Codes.ChannelExists;
    }

    /// <summary>A deposit brought by the participant's account (refused: it goes back).</summary>
    public static ChannelCallDecided Deposit(ChannelState s, AccountId account, TxId id, Leg[] @in, Amount amount, long now)
    {
        ChannelCallDecided Refuse(string code) => new(account, id, ChannelCallKind.Deposit, amount, @in, @in, code, now);
        if (!s.Exists) return Refuse(Codes.ChannelNotFound);
        if (!s.IsParticipant(account)) return Refuse(Codes.NotParticipant);
        if (s.Status != ChannelStatus.Open) return Refuse(Codes.ChannelClosed);
        if (@in is not [var leg] || leg.Asset != s.Asset || leg.Amount != amount || amount.IsZero) return Refuse(Codes.InvalidRequest);
        if (amount.Value > UInt128.MaxValue - s.DepositA.Value - s.DepositB.Value) return Refuse(Codes.InvalidAmount);
        return new(account, id, ChannelCallKind.Deposit, amount, @in, [], null, now);
    }

    /// <summary>The payout of a participant's settlement to its account, once.</summary>
    public static ChannelCallDecided Payout(ChannelState s, AccountId account, TxId id, long now)
    {
        var owed = s.Owed().Where(o => o.Account == account).Select(o => o.Amount).FirstOrDefault();
        return owed.IsZero
            ? new(account, id, ChannelCallKind.Payout, Amount.Zero, [], [], Codes.AlreadySettled, now)
            : new(account, id, ChannelCallKind.Payout, owed, [], [new Leg(s.Asset, owed)], null, now);
    }

    /// <summary>Both participants signed the final balances, which sum to the deposits: settled at once.</summary>
    public static ChannelSettled CloseCooperatively(ChannelState s, AccountId account, TxId id, Amount balanceA, Amount balanceB, string signatureA,
        string signatureB, long now)
    {
        ChannelSettled Refuse(string code) => new(account, id, default, default, null, null, code, now);
        if (Unusable(s, account) is { } code) return Refuse(code);
        if (s.Status == ChannelStatus.Settled) return Refuse(Codes.ChannelClosed);
        if (balanceA.Value > UInt128.MaxValue - balanceB.Value || balanceA.Value + balanceB.Value != s.DepositA.Value + s.DepositB.Value)
            return Refuse(Codes.InvalidBalances);
        var message = ChannelProofs.CloseMessage(s.Id, balanceA, balanceB);
        if (!ChannelProofs.Verify(s.KeyA, message, signatureA) || !ChannelProofs.Verify(s.KeyB, message, signatureB))
            return Refuse(Codes.InvalidSignature);
        return new(account, id, balanceA, balanceB, signatureA, signatureB, null, now);
    }

    /// <summary>A participant closes alone with the other side's proof (or none); the challenge window starts.</summary>
    public static ChannelClosed Close(ChannelState s, AccountId account, TxId id, BalanceProof? proof, long now)
    {
        ChannelClosed Refuse(string code) => new(account, id, proof, 0, code, now);
        if (Unusable(s, account) is { } code) return Refuse(code);
        if (s.Status != ChannelStatus.Open) return Refuse(Codes.ChannelClosed);
        if (proof is not null && Refusal(s, proof) is { } refused) return Refuse(refused);
        return new(account, id, proof, now + s.ChallengeMs, null, now);
    }

    /// <summary>A newer proof of either side during the challenge window, by anyone (a watchtower too).</summary>
    public static ProofUpdated Update(ChannelState s, AccountId account, TxId id, BalanceProof proof, long now)
    {
        ProofUpdated Refuse(string code) => new(account, id, proof, code, now);
        if (!s.Exists) return Refuse(Codes.ChannelNotFound);
        if (s.Status == ChannelStatus.Open) return Refuse(Codes.ChannelOpen);
        if (s.Status == ChannelStatus.Settled || now >= s.ClosesAt) return Refuse(Codes.ChannelClosed);
        return Refusal(s, proof) is { } refused ? Refuse(refused) : new(account, id, proof, null, now);
    }

    /// <summary>After the challenge window, anyone settles; a settled channel is answered as it stands (it pays once).</summary>
    public static ChannelSettled? Settle(ChannelState s, AccountId account, TxId id, long now)
    {
        ChannelSettled Refuse(string code) => new(account, id, default, default, null, null, code, now);
        if (!s.Exists) return Refuse(Codes.ChannelNotFound);
        if (s.Status == ChannelStatus.Settled) return null;
        if (s.Status == ChannelStatus.Open) return Refuse(Codes.ChannelOpen);
        if (now < s.ClosesAt) return Refuse(Codes.ChallengeOpen);
        var (a, b) = Split(s.DepositA, s.DepositB, s.ProofA?.Transferred ?? Amount.Zero, s.ProofB?.Transferred ?? Amount.Zero);
        return new(account, id, a, b, null, null, null, now);
    }

    /// <summary><c>S_a = clamp(D_a + T_b − T_a, 0, D_a + D_b)</c> and <c>S_b</c> the rest, in exact integers.</summary>
    public static (Amount A, Amount B) Split(Amount depositA, Amount depositB, Amount transferredA, Amount transferredB)
    {
        var total = (System.Numerics.BigInteger)depositA.Value + depositB.Value;
        var a = System.Numerics.BigInteger.Clamp((System.Numerics.BigInteger)depositA.Value + transferredB.Value - transferredA.Value, 0, total);
        return (new Amount((UInt128)a), new Amount((UInt128)(total - a)));
    }

    private static string? Unusable(ChannelState s, AccountId account) =>
        !s.Exists ? Codes.ChannelNotFound : !s.IsParticipant(account) ? Codes.NotParticipant : null;

    /// <summary>
    /// Why a proof is refused, or null. A newer proof sends at least as much as the one held (an honest signer's
    /// <c>transferred</c> never decreases): one with a higher nonce but less sent is stale, so that a signer who signs
    /// a "newer" proof taking back what it paid — and has anyone submit it — never displaces what its partner holds.
    /// </summary>
    private static string? Refusal(ChannelState s, BalanceProof proof)
    {
        if (!s.IsParticipant(proof.Signer) || proof.Nonce <= 0) return Codes.InvalidSignature;
        var key = proof.Signer == s.A ? s.KeyA : s.KeyB;
        if (!ChannelProofs.Verify(key, ChannelProofs.ProofMessage(s.Id, proof.Signer, proof.Nonce, proof.Transferred), proof.Signature))
            return Codes.InvalidSignature;
        var held = proof.Signer == s.A ? s.ProofA : s.ProofB;
        if (held is null) return null;
        var newer = proof.Transferred > held.Transferred || (proof.Transferred == held.Transferred && proof.Nonce > held.Nonce);
        return newer ? null : Codes.StaleProof;
    }

    /// <summary>
    /// Where a close, update or settle is remembered: apart from the deposits and payouts of the same account (venue
    /// calls, under their own ids), so that an id used for both never answers one with the other's record.
    /// </summary>
    public static TxId CommandKey(TxId id) => new("~" + id.Value);

    /// <summary>Where a call's answer is remembered: a deposit or payout under its id, a close, update or settle under <see cref="CommandKey"/>.</summary>
    public static (AccountId Account, TxId Key) AnswerKey(IChannelCall call) => (call.Account, call is ChannelCallDecided ? call.Id : CommandKey(call.Id));

    public static CallAnswer AnswerOf(IChannelCall call) => new(call is ChannelCallDecided d ? d.Out : [], call.Code, call.Fingerprint);

    /// <summary>The idempotency fingerprint of a close, update or settle: the same (account, id) with another request is <c>id_conflict</c>.</summary>
    public static ulong FingerprintOf(Protocol.IChannelMessage command) => command switch
    {
        Protocol.CloseChannel c => Fingerprint.Of("close", Text(c.Proof)),
        Protocol.UpdateChannel u => Fingerprint.Of("update", Text(u.Proof)),
        Protocol.CloseChannelTogether t => Fingerprint.Of("together", t.BalanceA.ToString(), t.BalanceB.ToString(), t.SignatureA, t.SignatureB),
        Protocol.SettleChannel => Fingerprint.Of("settle"),
        _ => throw new ArgumentException($"not a channel command: {command.GetType().Name}", nameof(command)),
    };

    private static string? Text(BalanceProof? p) =>
        p is null ? null : $"{p.Signer.Value}/{p.Nonce.ToString(System.Globalization.CultureInfo.InvariantCulture)}/{p.Transferred}/{p.Signature}";

    public static void Apply(ChannelState s, IChannelEvent e)
    {
        if (e is IChannelCall call)
        {
            var (account, key) = AnswerKey(call);
            s.Answers.Remember(account, key, AnswerOf(call));
        }
        switch (e)
        {
            case ChannelOpened o:
                (s.Exists, s.Asset, s.A, s.B, s.KeyA, s.KeyB, s.ChallengeMs, s.OpenedAt) = (true, o.Asset, o.A, o.B, o.KeyA, o.KeyB, o.ChallengeMs, o.At);
                break;
            case ChannelCallDecided { Code: null, Kind: ChannelCallKind.Deposit } d:
                if (d.Account == s.A) s.DepositA = new(checked(s.DepositA.Value + d.Amount.Value));
                else s.DepositB = new(checked(s.DepositB.Value + d.Amount.Value));
                break;
            case ChannelCallDecided { Code: null, Kind: ChannelCallKind.Payout } d:
                if (d.Account == s.A) s.PaidA = true;
                else s.PaidB = true;
                break;
            case ChannelClosed { Code: null } c:
                (s.Status, s.ClosesAt) = (ChannelStatus.Closing, c.ClosesAt);
                Hold(s, c.Proof);
                break;
            case ProofUpdated { Code: null } u:
                Hold(s, u.Proof);
                break;
            case ChannelSettled { Code: null } x:
                (s.Status, s.SettleA, s.SettleB) = (ChannelStatus.Settled, x.SettleA, x.SettleB);
                break;
            case IChannelCall:
                break;
            default:
                throw new ArgumentException($"unknown channel event {e.GetType().Name}", nameof(e));
        }
    }

    private static void Hold(ChannelState s, BalanceProof? proof)
    {
        if (proof is null) return;
        if (proof.Signer == s.A) s.ProofA = proof;
        else s.ProofB = proof;
    }
}

/// <summary>The persisted form of a <see cref="ChannelState"/>, answers as the venues keep them.</summary>
public sealed record ChannelSnapshot(ChannelOpened? Opened, Amount DepositA, Amount DepositB, ChannelStatus Status, long? ClosesAt, BalanceProof? ProofA,
    BalanceProof? ProofB, Amount SettleA, Amount SettleB, bool PaidA, bool PaidB, PoolAnswerEntry[] Answers, byte[] Seen, byte[] SeenRuns)
{
    public static ChannelSnapshot Of(ChannelState s)
    {
        var (answers, seen, runs) = s.Answers.ToSnapshot();
        var opened = s.Exists ? new ChannelOpened(s.Asset, s.A, s.B, s.KeyA, s.KeyB, s.ChallengeMs, s.OpenedAt) : null;
        return new(opened, s.DepositA, s.DepositB, s.Status, s.ClosesAt, s.ProofA, s.ProofB, s.SettleA, s.SettleB, s.PaidA, s.PaidB, answers, seen, runs);
    }

    public ChannelState Restore(ChannelState s)
    {
        if (Opened is not null) ChannelContract.Apply(s, Opened);
        (s.DepositA, s.DepositB, s.Status, s.ClosesAt, s.ProofA, s.ProofB) = (DepositA, DepositB, Status, ClosesAt, ProofA, ProofB);
        (s.SettleA, s.SettleB, s.PaidA, s.PaidB) = (SettleA, SettleB, PaidA, PaidB);
        s.Answers.Restore(Answers, Seen, SeenRuns);
        return s;
    }
}
