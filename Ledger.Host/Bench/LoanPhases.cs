using System.Diagnostics;
using Akka.Actor;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Bench;

/// <summary>
/// The <c>loans</c> workload on K lending markets (loan asset BENCH, collateral BENCH2, LLTV 80 %): each operation
/// is, for a random account on its own market, a supply (30 %), a collateral deposit (25 %), a borrow (20 %), a
/// repayment (15 %), a liquidation attempt on another account of the market (5 %), or a move of the collateral's
/// price by ±20 % (5 %). Borrows that would be unhealthy, repayments without debt and liquidations of healthy
/// positions are refused, and counted as such.
/// </summary>
public static class LoanPhases
{
    /// <summary>The collateral: the swaps workload's second asset.</summary>
    public const string Collateral = SwapPhases.AssetB;
    private const string Supplier = "bench-supplier";
    private const ulong Depth = 1_000_000_000_000_000;
    private const ulong Size = 1_000;
    private static readonly RateModel Rate = new(0, 400, 30_000, 8_000);

    public static MarketId MarketOf(int k) => new("bench-market-" + k.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static Amount Wad(ulong thousandths) => new((UInt128)(Fixed.Wad * thousandths / 1_000));

    public static async Task<(LoadResult Load, bool ConservationOk)> Ledger(BenchOptions o, LedgerRegions regions)
    {
        await Phases.Fund(regions, o.Accounts, Phases.Asset);
        await Phases.Fund(regions, o.Accounts, Collateral);
        await regions.Oracle.Ask<object>(new SetPrice(new(Phases.Asset), Wad(1_000)), Phases.AskTimeout);
        await regions.Oracle.Ask<object>(new SetPrice(new(Collateral), Wad(2_000)), Phases.AskTimeout);
        var supplier = new AccountId(Supplier);
        await regions.Accounts.Ask<object>(new OpenAccount(supplier, "bench"), Phases.AskTimeout);
        await regions.Accounts.Ask<object>(new SubmitTransfers(new(Phases.Issuer),
            [new TransferRequest(new("supplier-fund"), supplier, new(Phases.Asset), (ulong)o.Pools * Depth, false, null)]), Phases.AskTimeout);
        for (var k = 0; k < o.Pools; k++)
        {
            await regions.Markets.Ask<object>(new CreateMarket(MarketOf(k), new(Phases.Asset), new(Collateral), 0, 0, 8_000, Rate, 1_000, 500), Phases.AskTimeout);
            var supply = new MarketCall(MarketOf(k), MarketCallKind.Supply, [new Leg(new(Phases.Asset), Depth)], Depth);
            if (await regions.Accounts.Ask<object>(new CallVenue(supplier, new("supply-" + k), supply), Phases.AskTimeout) is not TransferOutcome { Transaction.Status: TransferStatus.Committed })
                throw new InvalidOperationException($"supplying market {k} failed");
        }

        var ids = Enumerable.Range(0, o.Accounts).Select(i => new AccountId(Phases.AccountId(i))).ToArray();
        long seq = 0;
        long price = 2_000;
        var load = await LoadRunner.Run("ledger", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            var id = new TxId("l" + Interlocked.Increment(ref seq).ToString(System.Globalization.CultureInfo.InvariantCulture));
            var i = random.Next(ids.Length);
            var market = MarketOf(i % o.Pools);
            var roll = random.Next(100);
            if (roll >= 95)
            {
                var moved = Interlocked.Add(ref price, random.Next(2) == 0 ? 400 : -400);
                if (moved < 400) Interlocked.Exchange(ref price, 2_000);
                await regions.Oracle.Ask<object>(new SetPrice(new(Collateral), Wad((ulong)Math.Max(400, moved))), Phases.AskTimeout);
                return OpResult.One;
            }
            var call = roll switch
            {
                < 30 => new MarketCall(market, MarketCallKind.Supply, [new Leg(new(Phases.Asset), Size)], Size),
                < 55 => new MarketCall(market, MarketCallKind.SupplyCollateral, [new Leg(new(Collateral), Size)], Size),
                < 75 => new MarketCall(market, MarketCallKind.Borrow, [], Size),
                < 90 => new MarketCall(market, MarketCallKind.Repay, [new Leg(new(Phases.Asset), Size)], Size),
                _ => new MarketCall(market, MarketCallKind.Liquidate, [new Leg(new(Phases.Asset), Size)], Size,
                    ids[(i + o.Pools * (1 + random.Next(Math.Max(1, ids.Length / o.Pools - 1)))) % ids.Length]),
            };
            var reply = await regions.Accounts.Ask<object>(new CallVenue(ids[i], id, call), Phases.AskTimeout);
            return reply is TransferOutcome { Transaction.Status: TransferStatus.Committed } ? OpResult.One : OpResult.Refused;
        });
        return (load, await Phases.HoldingsConserved(regions, [.. ids, supplier, new(Phases.Issuer)],
            Enumerable.Range(0, o.Pools).Select(k => (regions.Markets, (object)new GetMarketHoldings(MarketOf(k))))));
    }

    /// <summary>The same operations through the contracts alone, one thread, in memory (the account's debit, the market's decision, the credit).</summary>
    public static double SequentialBaseline(BenchOptions o)
    {
        var accounts = Phases.FundedStates(o.Accounts, Phases.Asset, Collateral);
        var markets = Enumerable.Range(0, o.Pools).Select(k =>
        {
            var m = new MarketState { Id = MarketOf(k) };
            MarketContract.Apply(m, new MarketCreated(new(Phases.Asset), new(Collateral), 0, 0, 8_000, Rate, 1_000, 500, 0));
            MarketContract.Apply(m, MarketContract.Decide(m, new(Supplier), new("supply"), MarketCallKind.Supply, [new Leg(new(Phases.Asset), Depth)], Depth, null, null, 0));
            return m;
        }).ToArray();
        var prices = new PriceReading(Wad(1_000), Wad(2_000), 1);
        var random = new Random(1);
        var clock = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(Math.Min(o.Seconds, 5));
        long n = 0;
        while (clock.Elapsed < limit)
        {
            for (var j = 0; j < 1_000; j++, n++)
            {
                var i = random.Next(accounts.Length);
                var (trader, market) = (accounts[i], markets[i % markets.Length]);
                var roll = random.Next(95);
                var (kind, input) = roll switch
                {
                    < 30 => (MarketCallKind.Supply, Phases.Asset),
                    < 55 => (MarketCallKind.SupplyCollateral, Collateral),
                    < 75 => (MarketCallKind.Borrow, (string?)null),
                    _ => (MarketCallKind.Repay, Phases.Asset),
                };
                var id = new TxId("l" + n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var call = new MarketCall(market.Id, kind, input is null ? [] : [new Leg(new(input), Size)], Size);
                var d = AccountContract.CallVenue(trader, id, call, n);
                foreach (var e in d.Events) AccountContract.Apply(trader, e);
                if (d.Events is not [VenueCallSent]) continue;
                var decided = MarketContract.Decide(market, trader.Id, id, kind, call.In, Size, null, prices, n);
                MarketContract.Apply(market, decided);
                foreach (var e in AccountContract.Answered(trader, id, new CallAnswer(decided.Out, decided.Code), n)) AccountContract.Apply(trader, e);
                trader.Evict(Phases.Limits.KeepSettled, trader.SettledTotal);
            }
        }
        return n / clock.Elapsed.TotalSeconds;
    }
}
