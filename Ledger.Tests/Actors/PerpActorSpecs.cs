using System.Numerics;
using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Venues;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Perps;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ledger.Tests.Actors;

/// <summary>
/// A perpetual futures market, its oracle and accounts as entities: a vault funded, a long opened, the market stopped and
/// recovered from a snapshot with the position open, funding accrued over a day of a long skew, then a price fall that
/// makes the position liquidatable — the keeper paid its reward, the rest of the equity left to the trader, and every
/// asset summing to zero over the accounts and the market.
/// </summary>
public class PerpActorSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AssetId Eth = new("ETH"), Usd = new("USD");
    private static readonly PerpId M = new("eth-usd-perp");
    private static readonly string[] Holders = ["bank", "lp", "trader", "keeper"];
    private static readonly BigInteger Wad = BigInteger.Pow(10, 18);
    private readonly EntityWorld _world;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public PerpActorSpecs() : base(SpecConfig.Local(), "perp-spec-" + Guid.NewGuid().ToString("N")[..8])
    {
        _world = new EntityWorld(Sys, _time, new AccountSettings { RedeliverAfter = TimeSpan.FromMilliseconds(200), KeepSettled = 0 },
            new PoolSettings(), new SagaSettings(), new VenueSettings { SnapshotEveryEvents = 2 });
    }

    private static T Ask<T>(IActorRef to, object message) => to.Ask<T>(message, Wait).GetAwaiter().GetResult();

    private static Amount W(BigInteger v) => new((UInt128)v);

    private void Price(AssetId asset, BigInteger wad) => Ask<PricesRead>(_world.Oracle, new SetPrice(asset, W(wad)));

    private TransferOutcome Call(string account, string id, PerpCallKind kind, ulong amount = 0, Int128 size = default, string? target = null) =>
        Ask<TransferOutcome>(_world.Accounts, new CallVenue(new(account), new(id), new PerpCall(M, kind,
            kind is PerpCallKind.VaultDeposit or PerpCallKind.MarginDeposit ? [new Leg(Usd, amount)] : [], amount, size, target is null ? null : new AccountId(target))));

    [Fact]
    public void A_long_held_across_a_restart_pays_funding_and_is_liquidated_after_a_fall_with_every_asset_summing_to_zero()
    {
        _world.Mint(Usd, "lp", 1_000_000_000);
        _world.Mint(Usd, "trader", 500_000_000);
        Ask<AccountView>(_world.Accounts, new OpenAccount(new("keeper"), "keeper"));
        Price(Eth, 2_000 * Wad);
        Price(Usd, Wad);
        // ETH (18 decimals) against USD with 6; skew scale 10 ETH, velocity 0.1 per day per day, 10 % / 5 % margins, 1 % reward, 5 bps.
        var parameters = new PerpParameters(Eth, Usd, 18, 6, W(10 * Wad), W(Wad / 10), W(Wad / 10), W(Wad / 20), W(Wad / 100), 5);
        Assert.True(Ask<PerpView>(_world.Perps, new CreatePerp(M, parameters)).Created);
        Assert.Equal(TransferStatus.Committed, Call("lp", "v1", PerpCallKind.VaultDeposit, 1_000_000_000).Transaction!.Status);
        Assert.Equal(TransferStatus.Committed, Call("trader", "m1", PerpCallKind.MarginDeposit, 500_000_000).Transaction!.Status);
        Assert.Equal(TransferStatus.Committed, Call("trader", "o1", PerpCallKind.Order, size: (Int128)(2 * Wad)).Transaction!.Status);
        // The fee: 2 · 2,000 · 5 bps = 2 USD.
        Assert.Equal(498_000_000UL, (ulong)Ask<PerpPositionView>(_world.Perps, new GetPerpPosition(M, new("trader"))).Margin.Value);

        _world.Perps.Tell(new EntityParent.Kill(M.Value));
        _time.Advance(TimeSpan.FromDays(1));
        var market = Ask<PerpView>(_world.Perps, new GetPerp(M));
        Assert.Equal(((Int128)(2 * Wad), (Int128)(Wad / 50)), (market.Skew, market.FundingVelocity));
        // A day at velocity 0.02 per day: the rate is 0.02, the longs paid (0 + 0.02)/2 · 2,000 = 20 USD per ETH.
        Assert.Equal((Int128)(Wad / 50), market.FundingRate);
        var position = Ask<PerpPositionView>(_world.Perps, new GetPerpPosition(M, new("trader")));
        Assert.Equal((Int128)(-40_000_000), position.Funding);

        // ETH falls to 1,800. The funding of that day is accrued at the price it is accrued at (Synthetix's way): now
        // (0 + 0.02)/2 · 1,800 = 18 USD per ETH. Equity 498 − 400 − 36 = 62 < 2 · 1,800 · 5 % = 180: liquidatable; the keeper
        // gets 1 % of 3,600 = 36, the trader keeps 26.
        Price(Eth, 1_800 * Wad);
        var fallen = Ask<PerpPositionView>(_world.Perps, new GetPerpPosition(M, new("trader")));
        Assert.Equal(((Int128)(-36_000_000), (Int128)62_000_000), (fallen.Funding, fallen.Equity));
        Assert.Equal(Codes.HealthyPosition, Call("keeper", "l0", PerpCallKind.Liquidate, target: "lp").Transaction!.Code);
        var liquidated = Call("keeper", "l1", PerpCallKind.Liquidate, target: "trader").Transaction!;
        Assert.Equal(TransferStatus.Committed, liquidated.Status);
        Assert.Equal([new Leg(Usd, 36_000_000)], liquidated.Returned!);
        var after = Ask<PerpPositionView>(_world.Perps, new GetPerpPosition(M, new("trader")));
        Assert.Equal(((Int128)0, 26_000_000UL), (after.Size, (ulong)after.Margin.Value));

        IEnumerable<Holdings> all = [.. Holders.Select(a => Ask<Holdings>(_world.Accounts, new GetHoldings(new(a)))), Ask<Holdings>(_world.Perps, new GetPerpHoldings(M))];
        Assert.Equal(0, all.SelectMany(h => h.Items).Where(i => i.Asset == Usd).Aggregate(Int128.Zero, (sum, i) => sum + i.Held + (Int128)i.InFlight.Value));
    }

    /// <summary>
    /// A reading holds every price update acknowledged before it was asked for, so it may serve only the calls that
    /// arrived before that ask: a read that arrives while the market waits for a reading waits for the next one, and
    /// the reading asked for then serves every call queued by then, in one batch.
    /// </summary>
    [Fact]
    public void A_reading_serves_only_the_calls_that_arrived_before_it_was_asked_for()
    {
        var oracle = CreateTestProbe();
        var market = Sys.ActorOf(PerpActor.Props(M.Value, oracle.Ref, _time, new VenueSettings()));
        var parameters = new PerpParameters(Eth, Usd, 18, 6, W(10 * Wad), W(Wad / 10), W(Wad / 10), W(Wad / 20), W(Wad / 100), 5);
        market.Tell(new CreatePerp(M, parameters));
        ExpectMsg<PerpView>(Wait);

        market.Tell(new GetPerp(M));
        Assert.Equal([Eth, Usd], oracle.ExpectMsg<ReadPrices>(Wait).Assets);
        var asker = oracle.LastSender;
        market.Tell(new GetPerp(M));
        market.Tell(new GetPerp(M));
        oracle.Send(asker, new PricesRead([W(2_000 * Wad), W(Wad)], 1));
        Assert.Equal(2_000 * Wad, (BigInteger)ExpectMsg<PerpView>(Wait).Price!.Value.Value);

        oracle.ExpectMsg<ReadPrices>(Wait);
        oracle.Reply(new PricesRead([W(1_500 * Wad), W(Wad)], 2));
        Assert.Equal(1_500 * Wad, (BigInteger)ExpectMsg<PerpView>(Wait).Price!.Value.Value);
        Assert.Equal(1_500 * Wad, (BigInteger)ExpectMsg<PerpView>(Wait).Price!.Value.Value);
        oracle.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
