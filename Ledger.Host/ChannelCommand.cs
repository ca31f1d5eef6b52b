using System.Globalization;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Primitives;

namespace Ledger.Host;

/// <summary>
/// <c>Ledger.Host channel</c>: the client helper (<see cref="ChannelParty"/>) from a shell, to follow README's
/// walk-through with curl — a participant's public key, its balance proofs and its signature of a cooperative close.
/// A seed is the participant's 32-byte private key in hex; keep real ones out of shell history.
/// </summary>
public static class ChannelCommand
{
    private const string Usage = """
        usage: Ledger.Host channel key SEED
               Ledger.Host channel proof SEED CHANNEL SIGNER NONCE TRANSFERRED   (a proof as api.md's JSON)
               Ledger.Host channel close SEED CHANNEL BALANCE_A BALANCE_B        (the signature of a cooperative close)
        """;

    public static int Run(string[] args)
    {
        try
        {
            Console.WriteLine(args switch
            {
                ["key", var seed] => Party(seed, "-", "-").PublicKeyHex,
                ["proof", var seed, var channel, var signer, var nonce, var sent] =>
                    ChannelParty.Json(Party(seed, channel, signer).Sign(long.Parse(nonce, NumberStyles.None, CultureInfo.InvariantCulture), Amount.Parse(sent)))
                        .ToJsonString(),
                ["close", var seed, var channel, var a, var b] => Party(seed, channel, "-").SignClose(Amount.Parse(a), Amount.Parse(b)),
                _ => throw new ArgumentException(Usage),
            });
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static ChannelParty Party(string seed, string channel, string signer) =>
        ChannelProofs.IsHex(seed, 64)
            ? new ChannelParty(new ChannelId(channel), new AccountId(signer), new AccountId("-"), Convert.FromHexString(seed))
            : throw new ArgumentException("a seed is 64 hex digits");
}
