using System.Diagnostics;
using Akka.Actor;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Options;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Bench;

/// <summary>
/// The <c>options</c> workload on K call series (underlying BENCH2, strike 1 BENCH, expiring just after the run), each
/// with a pool of its token against BENCH seeded by a writer: every operation is, for a random account on its own
/// series, a mint (40 %), a purchase of the token in the pool (40 %) or a burn (20 %; refused unless the account wrote
/// and holds that much). After the run the series expire at price 2 and every holder redeems everything it holds; the
/// redemptions are timed on their own.
/// </summary>
public static class OptionPhases
{
    private const string Writer = "bench-writer";
    private const ulong Depth = SwapPhases.PoolDepth;
    private const ulong Size = SwapPhases.SwapAmount;

    public static OptionId SeriesOf(int k) => new("bench-call-" + k.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static PoolId PoolOf(int k) => new("bench-opt-pool-" + k.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static Amount Wad(ulong whole) => new((UInt128)(Fixed.Wad * whole));

    public static async Task<(LoadResult Load, bool ConservationOk)> Ledger(BenchOptions o, LedgerRegions regions)
    {
        var (strike, underlying) = (new AssetId(Phases.Asset), new AssetId(SwapPhases.AssetB));
        await Phases.Fund(regions, o.Accounts, Phases.Asset);
        await Phases.Fund(regions, o.Accounts, SwapPhases.AssetB);
        var writer = new AccountId(Writer);
        await regions.Accounts.Ask<object>(new OpenAccount(writer, "bench"), Phases.AskTimeout);
        foreach (var asset in new[] { strike, underlying })
            await regions.Accounts.Ask<object>(new SubmitTransfers(new(Phases.Issuer),
                [new TransferRequest(new("writer-fund-" + asset), writer, asset, (ulong)o.Pools * Depth, false, null)]), Phases.AskTimeout);
        var expiry = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (o.WarmupSeconds + o.Seconds + 5) * 1_000L;
        for (var k = 0; k < o.Pools; k++)
        {
            await regions.Options.Ask<object>(new CreateOption(SeriesOf(k), underlying, strike, OptionKind.Call, Wad(1), expiry, 0, 0, 0), Phases.AskTimeout);
            await Phases.VenueCallCommitted(regions, writer, "seed-mint-" + k, new OptionCall(SeriesOf(k), OptionCallKind.Mint, [new Leg(underlying, Depth)], Depth));
            await regions.Pools.Ask<object>(new CreatePool(PoolOf(k), SeriesOf(k).Token, strike, 30), Phases.AskTimeout);
            var deposit = new PoolCall(PoolOf(k), PoolCallKind.Deposit, [new Leg(SeriesOf(k).Token, Depth), new Leg(strike, Depth)]);
            if (await regions.Accounts.Ask<object>(new CallPool(writer, new("seed-lp-" + k), deposit), Phases.AskTimeout)
                is not TransferOutcome { Transaction.Status: TransferStatus.Committed })
                throw new InvalidOperationException($"seeding pool {k} failed");
        }

        var ids = Enumerable.Range(0, o.Accounts).Select(i => new AccountId(Phases.AccountId(i))).ToArray();
        long seq = 0;
        var load = await LoadRunner.Run("ledger", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            var id = new TxId("o" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture));
            var i = random.Next(ids.Length);
            var k = i % o.Pools;
            var roll = random.Next(100);
            object request = roll switch
            {
                < 40 => new CallVenue(ids[i], id, new OptionCall(SeriesOf(k), OptionCallKind.Mint, [new Leg(underlying, Size)], Size)),
                < 80 => new CallPool(ids[i], id, new PoolCall(PoolOf(k), PoolCallKind.SwapExactIn, [new Leg(strike, Size)], SeriesOf(k).Token)),
                _ => new CallVenue(ids[i], id, new OptionCall(SeriesOf(k), OptionCallKind.Burn, [new Leg(SeriesOf(k).Token, Size)], Size)),
            };
            var reply = await regions.Accounts.Ask<object>(request, Phases.AskTimeout);
            return reply is TransferOutcome { Transaction.Status: TransferStatus.Committed } ? OpResult.One : OpResult.Refused;
        });

        // Expiry, the price, and every holder's redemption.
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < expiry) await Task.Delay(100);
        for (var k = 0; k < o.Pools; k++) await regions.Options.Ask<object>(new SetExpiryPrice(SeriesOf(k), Wad(2)), Phases.AskTimeout);
        var holders = (await Task.WhenAll(ids.Select(async (a, i) =>
            (Account: a, Series: i % o.Pools, Held: (await regions.Accounts.Ask<AccountView>(new GetAccount(a), Phases.AskTimeout)).Balances
                .SingleOrDefault(b => b.Asset == SeriesOf(i % o.Pools).Token)?.Posted ?? 0))))
            .Where(h => h.Held > 0).ToArray();
        var clock = Stopwatch.StartNew();
        var redeemed = 0;
        await Parallel.ForEachAsync(holders, new ParallelOptions { MaxDegreeOfParallelism = o.InFlight }, async (h, token) =>
        {
            var amount = new Amount((UInt128)h.Held);
            var call = new OptionCall(SeriesOf(h.Series), OptionCallKind.Redeem, [new Leg(SeriesOf(h.Series).Token, amount)], amount);
            if (await regions.Accounts.Ask<object>(new CallVenue(h.Account, new("redeem"), call), Phases.AskTimeout, token)
                is TransferOutcome { Transaction.Status: TransferStatus.Committed })
                Interlocked.Increment(ref redeemed);
        });
        Console.Error.WriteLine($"  redeemed: {redeemed:N0} of {holders.Length:N0} holders in {clock.Elapsed.TotalSeconds:N2} s ({redeemed / clock.Elapsed.TotalSeconds:N0}/s)");
        return (load, redeemed == holders.Length && await Phases.HoldingsConserved(regions, [.. ids, writer, new(Phases.Issuer)],
            Enumerable.Range(0, o.Pools).SelectMany(k => new[]
            {
                (regions.Pools, (object)new GetPoolHoldings(PoolOf(k))),
                (regions.Options, (object)new GetOptionHoldings(SeriesOf(k))),
            })));
    }
}
