using Akka.Actor;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Perps;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Bench;

/// <summary>
/// The <c>perps</c> workload on K perpetual futures markets (underlying BENCH2 at 2, margin BENCH at 1, a deep vault each):
/// every account first deposits margin on its own market; then each operation is, for a random account, an order of
/// ±1 to ±5 units (75 %), a margin deposit (15 %), a liquidation attempt on another account of its market (5 %) or a
/// move of the underlying's price by ±10 % (5 %). Orders beyond the margin or the vault and liquidations of healthy
/// positions are refused, and counted as such. With K = 1 every order meets on one hot market.
/// </summary>
public static class PerpPhases
{
    private const string Provider = "bench-vault";
    private const ulong Vault = 1_000_000_000_000;
    private const ulong Margin = 1_000;

    public static PerpId MarketOf(int k) => new("bench-perp-" + k.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static Amount Wad(ulong tenths) => new((UInt128)(Fixed.Wad * tenths / 10));

    public static async Task<(LoadResult Load, bool ConservationOk)> Ledger(BenchOptions o, LedgerRegions regions)
    {
        var (margin, underlying) = (new AssetId(Phases.Asset), new AssetId(SwapPhases.AssetB));
        await Phases.Fund(regions, o.Accounts, Phases.Asset);
        await regions.Oracle.Ask<object>(new SetPrice(margin, Wad(10)), Phases.AskTimeout);
        await regions.Oracle.Ask<object>(new SetPrice(underlying, Wad(20)), Phases.AskTimeout);
        var provider = new AccountId(Provider);
        await regions.Accounts.Ask<object>(new OpenAccount(provider, "bench"), Phases.AskTimeout);
        await regions.Accounts.Ask<object>(new SubmitTransfers(new(Phases.Issuer),
            [new TransferRequest(new("vault-fund"), provider, margin, (ulong)o.Pools * Vault, false, null)]), Phases.AskTimeout);
        var parameters = new PerpParameters(underlying, margin, 0, 0, new Amount(1_000_000), Wad(1), Wad(1), new Amount((UInt128)(Fixed.Wad / 20)),
            new Amount((UInt128)(Fixed.Wad / 100)), 5);
        for (var k = 0; k < o.Pools; k++)
        {
            await regions.Perps.Ask<object>(new CreatePerp(MarketOf(k), parameters), Phases.AskTimeout);
            await Phases.VenueCallCommitted(regions, provider, "vault-" + k, new PerpCall(MarketOf(k), PerpCallKind.VaultDeposit, [new Leg(margin, Vault)], Vault));
        }
        var ids = Enumerable.Range(0, o.Accounts).Select(i => new AccountId(Phases.AccountId(i))).ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, ids.Length), new ParallelOptions { MaxDegreeOfParallelism = 200 }, async (i, _) =>
            await Phases.VenueCallCommitted(regions, ids[i], "margin-0", new PerpCall(MarketOf(i % o.Pools), PerpCallKind.MarginDeposit, [new Leg(margin, Margin)], Margin)));

        long seq = 0;
        long price = 20;
        var load = await LoadRunner.Run("ledger", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            var id = new TxId("p" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture));
            var i = random.Next(ids.Length);
            var market = MarketOf(i % o.Pools);
            var roll = random.Next(100);
            if (roll >= 95)
            {
                var moved = Interlocked.Add(ref price, random.Next(2) == 0 ? 2 : -2);
                if (moved is < 10 or > 40) Interlocked.Exchange(ref price, 20);
                await regions.Oracle.Ask<object>(new SetPrice(underlying, Wad((ulong)Math.Clamp(moved, 10, 40))), Phases.AskTimeout);
                return OpResult.One;
            }
            var delta = (Int128)(random.Next(1, 6) * (random.Next(2) == 0 ? 1 : -1));
            var call = roll switch
            {
                < 75 => new PerpCall(market, PerpCallKind.Order, [], new Amount((UInt128)Int128.Abs(delta)), delta),
                < 90 => new PerpCall(market, PerpCallKind.MarginDeposit, [new Leg(margin, 10)], 10),
                _ => new PerpCall(market, PerpCallKind.Liquidate, [], Amount.Zero,
                    Target: ids[(i + o.Pools * (1 + random.Next(Math.Max(1, ids.Length / o.Pools - 1)))) % ids.Length]),
            };
            var reply = await regions.Accounts.Ask<object>(new CallVenue(ids[i], id, call), Phases.AskTimeout);
            return reply is TransferOutcome { Transaction.Status: TransferStatus.Committed } ? OpResult.One : OpResult.Refused;
        });
        return (load, await Phases.HoldingsConserved(regions, [.. ids, provider, new(Phases.Issuer)],
            Enumerable.Range(0, o.Pools).Select(k => (regions.Perps, (object)new GetPerpHoldings(MarketOf(k))))));
    }
}
