using System.Diagnostics;
using Akka.Actor;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Bench;

/// <summary>
/// The <c>channels</c> workload. First, off the ledger: how many balance proofs per second the client helper signs
/// (payer) and verifies (payee) on every core. Then on the ledger: each operation is one channel's life between two
/// accounts — opened, both deposits, <c>--payments N</c> payments exchanged through the helper, a cooperative close
/// signed by both and both payouts confirmed — and the netting factor is what that life took on the ledger (6 ledger
/// transactions) per payment made off it.
/// </summary>
public static class ChannelPhases
{
    private const ulong Deposit = 1_000;
    /// <summary>Ledger transactions of one channel's life: the open, two deposits, the close, two payouts.</summary>
    private const int LedgerTransactions = 6;

    public static async Task<(LoadResult Load, bool ConservationOk)> Ledger(BenchOptions o, LedgerRegions regions)
    {
        OffLedger(TimeSpan.FromSeconds(Math.Min(5, o.Seconds)));
        var asset = new AssetId(Phases.Asset);
        await Phases.Fund(regions, o.Accounts, Phases.Asset);
        var ids = Enumerable.Range(0, o.Accounts).Select(i => new AccountId(Phases.AccountId(i))).ToArray();
        var channels = new System.Collections.Concurrent.ConcurrentBag<ChannelId>();
        long seq = -1, lives = 0, payments = 0;
        var load = await LoadRunner.Run("ledger", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            var n = Interlocked.Increment(ref seq);
            var channel = new ChannelId("bench-ch-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture));
            channels.Add(channel);
            var (i, j) = ((int)(2 * n % ids.Length), (int)((2 * n + 1) % ids.Length));
            using var a = new ChannelParty(channel, ids[i], ids[j], Seed(i));
            using var b = new ChannelParty(channel, ids[j], ids[i], Seed(j));
            (a.OtherKeyHex, b.OtherKeyHex) = (b.PublicKeyHex, a.PublicKeyHex);
            if (await regions.Channels.Ask<object>(new OpenChannel(channel, asset, a.Self, b.Self, a.PublicKeyHex, b.PublicKeyHex, 60_000), Phases.AskTimeout)
                is not ChannelView) return OpResult.Error;
            foreach (var party in new[] { a, b })
            {
                var call = new ChannelCall(channel, ChannelCallKind.Deposit, [new Leg(asset, Deposit)], Deposit);
                if (await regions.Accounts.Ask<object>(new CallVenue(party.Self, new("deposit-" + channel.Value), call), Phases.AskTimeout)
                    is not TransferOutcome { Transaction.Status: TransferStatus.Committed }) return OpResult.Error;
            }
            for (var k = 0; k < o.Payments; k++)
            {
                var (payer, payee) = k % 3 == 2 ? (b, a) : (a, b);
                if (!payee.Accept(payer.Pay(1))) return OpResult.Error;
            }
            var (balanceA, balanceB) = ChannelContract.Split(new Amount(Deposit), new Amount(Deposit), a.Sent, b.Sent);
            var close = new CloseChannelTogether(channel, a.Self, new("close"), balanceA, balanceB, a.SignClose(balanceA, balanceB), b.SignClose(balanceA, balanceB));
            if (await regions.Channels.Ask<object>(close, Phases.AskTimeout) is not ChannelView { State: ChannelStatus.Settled }) return OpResult.Error;
            Interlocked.Increment(ref lives);
            Interlocked.Add(ref payments, o.Payments);
            return OpResult.One;
        });
        Console.Error.WriteLine($"  channels: {load.Tps:N0} channel lives/s (open, 2 deposits, {o.Payments:N0} payments, cooperative close, 2 payouts)");
        // Counted over every channel life completed (warm-up included), so both sides of the ratio cover the same lives.
        if (payments > 0)
            Console.Error.WriteLine($"  netting: {LedgerTransactions * lives:N0} ledger transactions for {payments:N0} off-ledger payments = "
                + $"{(double)LedgerTransactions * lives / payments:0.####} per payment, {load.Tps * o.Payments:N0} payments/s settled through the ledger");
        var venues = channels.Select(c => (regions.Channels, (object)new GetChannelHoldings(c)));
        return (load, await Phases.HoldingsConserved(regions, [.. ids, new(Phases.Issuer)], venues));
    }

    /// <summary>Balance proofs signed by a payer and checked by its payee, per second, on every core at once.</summary>
    private static void OffLedger(TimeSpan duration)
    {
        long updates = 0;
        var clock = Stopwatch.StartNew();
        Parallel.For(0, Environment.ProcessorCount, t =>
        {
            using var a = new ChannelParty(new("bench-off-" + t), new("a"), new("b"), Seed(2 * t));
            using var b = new ChannelParty(new("bench-off-" + t), new("b"), new("a"), Seed(2 * t + 1));
            b.OtherKeyHex = a.PublicKeyHex;
            var done = 0L;
            while (clock.Elapsed < duration)
            {
                if (!b.Accept(a.Pay(1))) throw new InvalidOperationException("a proof did not verify");
                done++;
            }
            Interlocked.Add(ref updates, done);
        });
        Console.Error.WriteLine($"  off-ledger: {updates / clock.Elapsed.TotalSeconds:N0} payments/s signed and verified by the client helper "
            + $"({Environment.ProcessorCount} threads)");
    }

    /// <summary>A bench account's key seed (deterministic, so a run can be repeated).</summary>
    private static byte[] Seed(int account)
    {
        var seed = new byte[32];
        BitConverter.TryWriteBytes(seed, account + 1);
        return seed;
    }
}
