using System.Numerics;
using System.Text;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

public class ChannelContractTests(ITestOutputHelper output)
{
    private static readonly AssetId Usd = new("USD");
    private static readonly ChannelId C = new("ch1");
    private static readonly AccountId A = new("alice"), B = new("bob"), Tower = new("tower");

    // RFC 8032 section 7.1, TEST 1 and TEST 2: the secret keys and the public keys they make.
    private static readonly byte[] SeedA = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static readonly byte[] SeedB = Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    private const string PublicA = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    private const string PublicB = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

    private static (ChannelState S, ChannelParty A, ChannelParty B) Channel(ulong depositA, ulong depositB, long challenge = 100)
    {
        var (a, b) = (new ChannelParty(C, A, B, SeedA), new ChannelParty(C, B, A, SeedB));
        (a.OtherKeyHex, b.OtherKeyHex) = (b.PublicKeyHex, a.PublicKeyHex);
        var s = new ChannelState { Id = C };
        var opened = new ChannelOpened(Usd, A, B, a.PublicKeyHex, b.PublicKeyHex, challenge, 0);
        Assert.Null(ChannelContract.Open(s, opened));
        ChannelContract.Apply(s, opened);
        if (depositA > 0) Assert.Null(Do(s, ChannelContract.Deposit(s, A, new("da"), [new Leg(Usd, depositA)], depositA, 1)).Code);
        if (depositB > 0) Assert.Null(Do(s, ChannelContract.Deposit(s, B, new("db"), [new Leg(Usd, depositB)], depositB, 1)).Code);
        return (s, a, b);
    }

    private static T Do<T>(ChannelState s, T e) where T : IChannelEvent
    {
        ChannelContract.Apply(s, e);
        return e;
    }

    /// <summary>RFC 8032 TEST 1–3: the keys the seeds make, and the published signatures verify (a flipped bit does not).</summary>
    [Theory]
    [InlineData("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", PublicA, "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")]
    [InlineData("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", PublicB, "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")]
    [InlineData("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7", "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a")]
    public void Rfc8032_vectors(string secret, string publicKey, string message, string signature)
    {
        using var party = new ChannelParty(C, A, B, Convert.FromHexString(secret));
        Assert.Equal(publicKey, party.PublicKeyHex);
        var bytes = Convert.FromHexString(message);
        Assert.True(ChannelProofs.Verify(publicKey, bytes, signature));
        var flipped = (Convert.ToByte(signature[..2], 16) ^ 1).ToString("x2") + signature[2..];
        Assert.False(ChannelProofs.Verify(publicKey, bytes, flipped));
        Assert.False(ChannelProofs.Verify(publicKey, [.. bytes, 0], signature));
    }

    /// <summary>The bytes signed are exactly api.md's lines, and the helper's proofs verify under its key only.</summary>
    [Fact]
    public void Proofs_sign_the_bytes_api_md_spells()
    {
        Assert.Equal("ledger.channel.v1\nch1\nalice\n7\n1500", Encoding.UTF8.GetString(ChannelProofs.ProofMessage(C, A, 7, new Amount(1500))));
        Assert.Equal("ledger.channel.v1.close\nch1\n10\n20", Encoding.UTF8.GetString(ChannelProofs.CloseMessage(C, new Amount(10), new Amount(20))));
        using var a = new ChannelParty(C, A, B, SeedA);
        var proof = a.Sign(7, new Amount(1500));
        Assert.True(ChannelProofs.Verify(PublicA, ChannelProofs.ProofMessage(C, A, 7, new Amount(1500)), proof.Signature));
        Assert.False(ChannelProofs.Verify(PublicB, ChannelProofs.ProofMessage(C, A, 7, new Amount(1500)), proof.Signature));
        Assert.False(ChannelProofs.Verify(PublicA, ChannelProofs.ProofMessage(C, A, 7, new Amount(1501)), proof.Signature));
        Assert.False(ChannelProofs.Verify("zz" + PublicA[2..], ChannelProofs.ProofMessage(C, A, 7, new Amount(1500)), proof.Signature));
    }

    /// <summary>
    /// Raiden's settlement outcomes without locks or withdrawals (raiden-contracts, tests/unit and tests/test_channel_settle.py:
    /// no proofs; one transfer for the closer; one for the counterparty; the ChannelSettled event), and two that clamp.
    /// </summary>
    [Theory]
    [InlineData(10, 0, 6, 0, 10, 6)]
    [InlineData(1, 0, 10, 5, 6, 5)]
    [InlineData(10, 5, 1, 0, 5, 6)]
    [InlineData(10, 10, 0, 5, 5, 5)]
    [InlineData(0, 10, 0, 20, 0, 0)]
    [InlineData(666, 0, 1, 1_000, 667, 0)]
    public void Raiden_settlement_vectors(ulong depositA, ulong transferredA, ulong depositB, ulong transferredB, ulong settleA, ulong settleB)
    {
        Assert.Equal((new Amount(settleA), new Amount(settleB)),
            ChannelContract.Split(new Amount(depositA), new Amount(depositB), new Amount(transferredA), new Amount(transferredB)));
    }

    [Fact]
    public void An_honest_unilateral_close_settles_the_off_ledger_balances()
    {
        var (s, a, b) = Channel(100, 50);
        Assert.True(b.Accept(a.Pay(30)));
        Assert.True(a.Accept(b.Pay(5)));
        Assert.True(b.Accept(a.Pay(10)));
        // Bob closes with Alice's newest proof; Alice answers with Bob's in the window.
        Assert.Null(Do(s, ChannelContract.Close(s, B, new("close"), b.Received, 10)).Code);
        Assert.Equal(ChannelStatus.Closing, s.Status);
        Assert.Equal(110, s.ClosesAt);
        Assert.Null(Do(s, ChannelContract.Update(s, A, new("u"), a.Received!, 50)).Code);
        Assert.Equal(Codes.ChallengeOpen, ChannelContract.Settle(s, Tower, new("s0"), 109)!.Code);
        var settled = Do(s, ChannelContract.Settle(s, Tower, new("s1"), 110)!);
        Assert.Equal((new Amount(65), new Amount(85)), (settled.SettleA, settled.SettleB));
        Assert.Equal([(A, new Amount(65)), (B, new Amount(85))], s.Owed());
        // Settled is settled: a second settle moves nothing, each payout is owed once.
        Assert.Null(ChannelContract.Settle(s, Tower, new("s2"), 200));
        var paid = Do(s, ChannelContract.Payout(s, A, new("p"), 120));
        Assert.Equal([new Leg(Usd, new Amount(65))], paid.Out);
        Assert.Equal(Codes.AlreadySettled, ChannelContract.Payout(s, A, new("p2"), 121).Code);
        Assert.Equal(new Amount(85), s.Held);
    }

    [Fact]
    public void A_closer_with_a_stale_proof_loses_to_the_partners_newer_one_in_the_window()
    {
        var (s, a, b) = Channel(100, 100);
        var stale = b.Pay(20);
        Assert.True(a.Accept(stale));
        Assert.True(a.Accept(b.Pay(40)));
        Assert.True(b.Accept(a.Pay(70)));
        // Alice closes with Bob's first proof (he had sent 20); her watchtower answers with his newer one, Bob with hers.
        Assert.Null(Do(s, ChannelContract.Close(s, A, new("c"), stale, 0)).Code);
        Assert.Null(Do(s, ChannelContract.Update(s, Tower, new("u1"), a.Received!, 10)).Code);
        Assert.Equal(Codes.StaleProof, ChannelContract.Update(s, Tower, new("u2"), stale, 11).Code);
        Assert.Null(Do(s, ChannelContract.Update(s, B, new("u3"), b.Received!, 20)).Code);
        Assert.Equal(Codes.StaleProof, ChannelContract.Update(s, Tower, new("u4"), b.Received!, 21).Code);
        // A "newer" proof of her own that sends less takes nothing back, whoever submits it.
        Assert.Equal(Codes.StaleProof, ChannelContract.Update(s, A, new("u5"), a.Sign(10, Amount.Zero), 22).Code);
        Assert.Equal(Codes.StaleProof, ChannelContract.Update(s, Tower, new("u5"), a.Sign(11, new Amount(69)), 22).Code);
        Assert.Equal(Codes.ChannelClosed, ChannelContract.Update(s, B, new("u6"), a.Sign(11, new Amount(90)), 100).Code);
        var settled = ChannelContract.Settle(s, B, new("s"), 100)!;
        // True balances: Alice 100 + 60 - 70 = 90, Bob 100 + 70 - 60 = 110.
        Assert.Equal((new Amount(90), new Amount(110)), (settled.SettleA, settled.SettleB));
    }

    [Fact]
    public void Proofs_from_the_wrong_key_or_another_signer_are_refused_and_change_nothing()
    {
        var (s, a, b) = Channel(10, 10);
        using var mallory = new ChannelParty(C, B, A, Convert.FromHexString("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7"));
        var forged = mallory.Sign(1, new Amount(10));
        Assert.Equal(Codes.InvalidSignature, ChannelContract.Close(s, A, new("c"), forged, 0).Code);
        Assert.Equal(Codes.InvalidSignature, ChannelContract.Close(s, A, new("c"), forged with { Signer = Tower }, 0).Code);
        Assert.Equal(Codes.InvalidSignature, ChannelContract.Close(s, A, new("c"), b.Pay(3) with { Transferred = new Amount(4) }, 0).Code);
        Assert.Equal(Codes.NotParticipant, ChannelContract.Close(s, Tower, new("c"), null, 0).Code);
        Assert.Equal(Codes.ChannelOpen, ChannelContract.Update(s, A, new("u"), b.Pay(1), 0).Code);
        Assert.Equal(ChannelStatus.Open, s.Status);
        Assert.Null(s.ProofB);
    }

    [Fact]
    public void Transfers_netting_to_zero_and_transfers_beyond_a_deposit()
    {
        var (s, a, b) = Channel(50, 50);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(b.Accept(a.Pay(7)));
            Assert.True(a.Accept(b.Pay(7)));
        }
        Assert.Null(Do(s, ChannelContract.Close(s, A, new("c"), a.Received, 0)).Code);
        Assert.Null(Do(s, ChannelContract.Update(s, B, new("u"), b.Received!, 1)).Code);
        Assert.Equal((new Amount(50), new Amount(50)), (ChannelContract.Settle(s, A, new("s"), 100)!.SettleA, ChannelContract.Settle(s, A, new("s"), 100)!.SettleB));

        // Bob's proof says he sent more than he ever had (a signer's mistake, not Alice's): clamped to everything.
        var (t, a2, b2) = Channel(30, 20);
        Assert.True(a2.Accept(b2.Pay(500)));
        Assert.Null(Do(t, ChannelContract.Close(t, A, new("c"), a2.Received, 0)).Code);
        var settled = ChannelContract.Settle(t, A, new("s"), 100)!;
        Assert.Equal((new Amount(50), Amount.Zero), (settled.SettleA, settled.SettleB));
    }

    [Fact]
    public void Cooperative_close_settles_at_once_when_both_sign_balances_summing_to_the_deposits()
    {
        var (s, a, b) = Channel(60, 40);
        Assert.Equal(Codes.InvalidBalances, ChannelContract.CloseCooperatively(s, A, new("c"), new Amount(60), new Amount(41),
            a.SignClose(new Amount(60), new Amount(41)), b.SignClose(new Amount(60), new Amount(41)), 0).Code);
        Assert.Equal(Codes.InvalidSignature, ChannelContract.CloseCooperatively(s, A, new("c"), new Amount(70), new Amount(30),
            a.SignClose(new Amount(70), new Amount(30)), a.SignClose(new Amount(70), new Amount(30)), 0).Code);
        Assert.Equal(Codes.InvalidSignature, ChannelContract.CloseCooperatively(s, A, new("c"), new Amount(70), new Amount(30),
            a.SignClose(new Amount(70), new Amount(30)), b.SignClose(new Amount(71), new Amount(29)), 0).Code);
        var closed = Do(s, ChannelContract.CloseCooperatively(s, B, new("c"), new Amount(70), new Amount(30),
            a.SignClose(new Amount(70), new Amount(30)), b.SignClose(new Amount(70), new Amount(30)), 0));
        Assert.Null(closed.Code);
        Assert.Equal(ChannelStatus.Settled, s.Status);
        Assert.Equal(Codes.ChannelClosed, ChannelContract.Deposit(s, A, new("d"), [new Leg(Usd, 5)], new Amount(5), 1).Code);
        Assert.Equal(Codes.ChannelClosed, ChannelContract.Close(s, A, new("c2"), null, 1).Code);
    }

    [Fact]
    public void Bad_deposits_come_back()
    {
        var (s, _, _) = Channel(0, 0);
        Assert.Equal(Codes.NotParticipant, ChannelContract.Deposit(s, Tower, new("d"), [new Leg(Usd, 5)], new Amount(5), 1).Code);
        var wrongAsset = ChannelContract.Deposit(s, A, new("d"), [new Leg(new("EUR"), 5)], new Amount(5), 1);
        Assert.Equal(Codes.InvalidRequest, wrongAsset.Code);
        Assert.Equal([new Leg(new("EUR"), 5)], wrongAsset.Out);
        Assert.Equal(Codes.ChannelNotFound, ChannelContract.Deposit(new ChannelState { Id = C }, A, new("d"), [new Leg(Usd, 5)], new Amount(5), 1).Code);
        Assert.Equal(Codes.ChannelExists, ChannelContract.Open(s, new ChannelOpened(Usd, A, B, PublicA, PublicB, 101, 5)));
        Assert.Null(ChannelContract.Open(s, new ChannelOpened(Usd, A, B, PublicA, PublicB, 100, 5)));
    }

    /// <summary>
    /// Random off-ledger histories between an honest party and an adversary (each pays only what it has), then random
    /// adversarial closes and updates — no proof, a stale proof of the honest side, its own proof signed anew with a
    /// higher nonce and less sent (submitted before or after the honest party's), stale updates — while the honest
    /// party submits the newest proof it received during the window. The honest party is paid at least its true balance
    /// <c>D + received − sent</c>, and the two payouts always sum to the deposits.
    /// </summary>
    [Fact]
    public void An_honest_party_that_answers_in_the_window_never_receives_less_than_its_true_balance()
    {
        var seen = new Coverage();
        PropertyRun.Check(Gens.Script(Gens.Word, 2, 30), script => Holds(script, seen), maxTest: 150, seed: 26_12_04, shrink: PropertyRun.ShrinkScript);
        seen.AssertFloors(output, ("payment", 1_000), ("settled", 140), ("forged proof first", 40), ("forged proof after", 40), ("stale refused", 40),
            ("closed by adversary", 40),
            ("closed by honest", 20), ("honest paid more than true", 20), ("honest paid exactly true", 20));
    }

    /// <summary>
    /// Submits <paramref name="proof"/> by a third account and checks the answer against the rule: taken when it sends
    /// more than the proof held for its signer (or as much, with a higher nonce), stale otherwise.
    /// </summary>
    private static bool Submitted(ChannelState s, BalanceProof proof, long at, Coverage seen, string? kind)
    {
        var held = proof.Signer == s.A ? s.ProofA : s.ProofB;
        var taken = held is null || proof.Transferred > held.Transferred || (proof.Transferred == held.Transferred && proof.Nonce > held.Nonce);
        var e = Do(s, ChannelContract.Update(s, Tower, new("u-" + at), proof, at));
        if (e.Code != (taken ? null : Codes.StaleProof)) return false;
        if (kind is not null) seen.Add(kind);
        if (e.Code is not null) seen.Add("stale refused");
        return true;
    }

    private static bool Holds(uint[] script, Coverage seen)
    {
        var v0 = Scripts.Mix(script[0]);
        var (depositA, depositB) = (v0 % 1_000, (v0 >> 10) % 1_000);
        var (s, a, b) = Channel(depositA, depositB);
        using var _a = a;
        using var _b = b;
        var honestIsA = (v0 >> 20) % 2 == 0;
        var (honest, adversary) = honestIsA ? (a, b) : (b, a);
        var history = new List<BalanceProof>();
        for (var i = 1; i < script.Length; i++)
        {
            var v = Scripts.Mix(script[i] + (uint)i * 0x9E3779B9);
            var (payer, payee) = v % 2 == 0 ? (a, b) : (b, a);
            var available = (ulong)((payer == a ? depositA : depositB) + (payer.Received?.Transferred.Value ?? 0) - payer.Sent.Value);
            if (available == 0) continue;
            var proof = payer.Pay((v >> 1) % available + 1);
            if (!payee.Accept(proof)) return false;
            if (payer == honest) history.Add(proof);
            seen.Add("payment");
        }
        var trueHonest = (BigInteger)(honestIsA ? depositA : depositB) + (adversary.Sent.Value) - honest.Sent.Value;
        var mode = Scripts.Mix(v0 ^ 0xA5A5) % 4;
        var at = 0L;
        if (mode == 0)
        {
            // The honest party closes with what it holds; the adversary tries to take back what it sent.
            if (Do(s, ChannelContract.Close(s, honest.Self, new("c"), honest.Received, at++)).Code is not null) return false;
            seen.Add("closed by honest");
        }
        else
        {
            // The adversary closes with no proof, or a stale one of the honest side.
            var stale = mode == 1 || history.Count == 0 ? null : history[(int)(Scripts.Mix(v0 ^ 0x77) % history.Count)];
            if (Do(s, ChannelContract.Close(s, adversary.Self, new("c"), stale, at++)).Code is not null) return false;
            seen.Add("closed by adversary");
        }
        // The adversary signs a "newer" proof of its own with nothing sent and has a third account submit it, before or
        // after the honest party answers.
        var forged = adversary.Sign(1_000, Amount.Zero);
        var forgedFirst = (Scripts.Mix(v0 ^ 0x1234) & 1) == 0;
        if (forgedFirst && !Submitted(s, forged, at++, seen, "forged proof first")) return false;
        if (history.Count > 1)
        {
            var older = history[0];
            var e = Do(s, ChannelContract.Update(s, adversary.Self, new("u-old"), older, at++));
            if (e.Code is not (null or Codes.StaleProof)) return false;
            if (e.Code is not null) seen.Add("stale refused");
        }
        // The honest party answers with the newest proof it received (if it has one).
        if (honest.Received is { } newest && !Submitted(s, newest, at++, seen, null)) return false;
        if (!forgedFirst && !Submitted(s, forged, at++, seen, "forged proof after")) return false;
        if (ChannelContract.Settle(s, adversary.Self, new("early"), at)?.Code != Codes.ChallengeOpen) return false;
        var settled = Do(s, ChannelContract.Settle(s, adversary.Self, new("s"), s.ClosesAt!.Value)!);
        seen.Add("settled");
        if ((BigInteger)settled.SettleA.Value + settled.SettleB.Value != (BigInteger)depositA + depositB) return false;
        var paid = (BigInteger)(honestIsA ? settled.SettleA : settled.SettleB).Value;
        seen.Add(paid == trueHonest ? "honest paid exactly true" : "honest paid more than true");
        return paid >= trueHonest && ChannelContract.Settle(s, honest.Self, new("s2"), s.ClosesAt!.Value + 1) is null;
    }
}
