using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Venues;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ledger.Tests.Actors;

/// <summary>
/// A market, its oracle and accounts as entities: a liquidation whose liquidator and market are both stopped
/// half-way (the repayment debited, the market's answer not yet applied) completes exactly once after recovery,
/// with exactly the promised collateral and every asset summing to zero; and a year of interest, across a restart
/// of the market from its snapshot, comes out to the unit.
/// </summary>
public class MarketActorSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AssetId Usd = new("USD"), Eth = new("ETH");
    private static readonly MarketId M = new("m");
    private static readonly string[] Holders = ["bank", "supplier", "borrower", "liquidator"];
    private readonly EntityWorld _world;
    /// <summary>The entities' clock: it moves only when a test moves it.</summary>
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public MarketActorSpecs() : base(SpecConfig.Local(), "market-spec-" + Guid.NewGuid().ToString("N")[..8])
    {
        _world = new EntityWorld(Sys, _time, new AccountSettings { RedeliverAfter = TimeSpan.FromMilliseconds(200), KeepSettled = 0 },
            new PoolSettings(), new SagaSettings(), new VenueSettings { SnapshotEveryEvents = 2 });
    }

    private void OpenMarket()
    {
        Price(Usd, "1");
        Price(Eth, "2000");
        Assert.True(Ask<MarketView>(_world.Markets, new CreateMarket(M, Usd, Eth, 0, 0, 8_000, new RateModel(0, 400, 30_000, 8_000), 1_000, 500)).Created);
    }

    [Fact]
    public void A_year_later_the_borrower_owes_2_5_percent_and_the_supplier_withdraws_its_share_of_it_to_the_unit()
    {
        Mint(Usd, "supplier", 1_000_000);
        Mint(Eth, "borrower", 1_000);
        OpenMarket();
        Assert.Equal(TransferStatus.Committed, Call("supplier", "s1", MarketCallKind.Supply, 1_000_000, Usd).Transaction!.Status);
        Assert.Equal(TransferStatus.Committed, Call("borrower", "c1", MarketCallKind.SupplyCollateral, 1_000, Eth).Transaction!.Status);
        Assert.Equal(TransferStatus.Committed, Call("borrower", "b1", MarketCallKind.Borrow, 500_000).Transaction!.Status);
        Mint(Usd, "borrower", 100_000);
        // The market recovers from a snapshot (one every two events here) plus what followed it.
        _world.Markets.Tell(new EntityParent.Kill(M.Value));

        // Utilisation 50 % → borrowers pay 2.5 % a year, suppliers earn 2.5 % · 50 % · 90 % = 1.125 % (the market keeps 10 %
        // of the interest). A year later the debt has grown, and with it utilisation (512,500 / 1,012,500) and the rate.
        Assert.Equal((5_000, 250, 112), (Ask<MarketView>(_world.Markets, new GetMarket(M)) is var before ? (before.UtilizationBps, before.BorrowRateBps, before.SupplyRateBps) : default));
        _time.Advance(TimeSpan.FromDays(365));
        var market = Ask<MarketView>(_world.Markets, new GetMarket(M));
        Assert.Equal((253, 512_500UL), (market.BorrowRateBps, (ulong)market.TotalBorrowed.Value));
        Assert.Equal(1_011_250UL, (ulong)Ask<PositionView>(_world.Markets, new GetMarketPosition(M, new("supplier"))).Supplied.Value);
        Assert.Equal([new Leg(Usd, 87_500)], Call("borrower", "r1", MarketCallKind.Repay, 600_000, Usd).Transaction!.Returned!);
        Assert.Equal(Codes.InsufficientFunds, Call("supplier", "w1", MarketCallKind.Withdraw, 1_011_251).Transaction!.Code);
        Assert.Equal(TransferStatus.Committed, Call("supplier", "w2", MarketCallKind.Withdraw, 1_011_250).Transaction!.Status);
        Assert.Equal(1_011_250, Ask<AccountView>(_world.Accounts, new GetAccount(new("supplier"))).Balances.Single(b => b.Asset == Usd).Posted);
        Assert.Equal(1_250UL, (ulong)Ask<MarketView>(_world.Markets, new GetMarket(M)).Reserves.Value);
    }

    private static T Ask<T>(IActorRef to, object message) => to.Ask<T>(message, Wait).GetAwaiter().GetResult();

    private void Mint(AssetId asset, string account, ulong amount) => _world.Mint(asset, account, amount);

    private void Price(AssetId asset, string price) =>
        Ask<PricesRead>(_world.Oracle, new SetPrice(asset, Fixed.TryParseWad(price, out var wad) ? wad : throw new ArgumentException(price)));

    private TransferOutcome Call(string account, string id, MarketCallKind kind, ulong amount, AssetId? input = null, string? borrower = null) =>
        Ask<TransferOutcome>(_world.Accounts, new CallVenue(new(account), new(id),
            new MarketCall(M, kind, input is { } a ? [new Leg(a, amount)] : [], amount, borrower is null ? null : new AccountId(borrower))));

    [Fact]
    public async Task A_liquidation_stopped_half_way_on_both_sides_completes_once_with_exactly_the_bonus()
    {
        Mint(Usd, "supplier", 10_000_000);
        Mint(Eth, "borrower", 1_000);
        Mint(Usd, "liquidator", 2_000_000);
        OpenMarket();
        Assert.Equal(TransferStatus.Committed, Call("supplier", "s1", MarketCallKind.Supply, 10_000_000, Usd).Transaction!.Status);
        Assert.Equal(TransferStatus.Committed, Call("borrower", "c1", MarketCallKind.SupplyCollateral, 1_000, Eth).Transaction!.Status);
        Assert.Equal(TransferStatus.Committed, Call("borrower", "b1", MarketCallKind.Borrow, 1_500_000).Transaction!.Status);
        Price(Eth, "1800");

        // The liquidator's repayment leaves its balance; both sides are stopped while the call is in flight.
        var pending = _world.Accounts.Ask<TransferOutcome>(new CallVenue(new("liquidator"), new("l1"),
            new MarketCall(M, MarketCallKind.Liquidate, [new Leg(Usd, 1_000_000)], 1_000_000, new("borrower"))), Wait);
        _world.Accounts.Tell(new EntityParent.Kill("liquidator"));
        _world.Markets.Tell(new EntityParent.Kill(M.Value));

        // Whether or not the first answer was lost with the stopped incarnation, the retry gets the one outcome.
        var retry = Call("liquidator", "l1", MarketCallKind.Liquidate, 1_000_000, Usd, "borrower");
        Assert.Equal(TransferStatus.Committed, retry.Transaction!.Status);
        if (await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(2))) == pending) Assert.Equal(retry.Transaction.Returned, (await pending).Transaction!.Returned);
        // 1,000,000 · 1.05 / 1,800 = 583.33 ETH, rounded down.
        Assert.Equal([new Leg(Eth, 583)], retry.Transaction.Returned!);
        var liquidator = Ask<AccountView>(_world.Accounts, new GetAccount(new("liquidator"))).Balances;
        Assert.Equal((1_000_000, 583), (liquidator.Single(b => b.Asset == Usd).Posted, liquidator.Single(b => b.Asset == Eth).Posted));
        Assert.Equal(417UL, (ulong)Ask<PositionView>(_world.Markets, new GetMarketPosition(M, new("borrower"))).Collateral.Value);

        var sums = new Dictionary<AssetId, Int128>();
        IEnumerable<Holdings> all = [.. Holders.Select(a => Ask<Holdings>(_world.Accounts, new GetHoldings(new(a)))),
            Ask<Holdings>(_world.Markets, new GetMarketHoldings(M))];
        foreach (var h in all.SelectMany(h => h.Items)) sums[h.Asset] = sums.GetValueOrDefault(h.Asset) + h.Held + (Int128)h.InFlight.Value;
        Assert.All(sums, kv => Assert.Equal(0, kv.Value));
    }
}
