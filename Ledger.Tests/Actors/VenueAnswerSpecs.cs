using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Hosting;
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
/// A venue keeps none of its answers in memory here (<see cref="IVenueSettings.AnswersKeep"/> 0): a call delivered again
/// after a restart from a snapshot is answered from the journal, read from where that answer was written, and is not
/// executed a second time.
/// </summary>
public class VenueAnswerSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AssetId Usd = new("USD"), Eth = new("ETH");
    private static readonly MarketId M = new("m");
    private static readonly AccountId Supplier = new("supplier");
    private readonly EntityWorld _world;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public VenueAnswerSpecs() : base(SpecConfig.Local(), "venue-answers-" + Guid.NewGuid().ToString("N")[..8])
    {
        _world = new EntityWorld(Sys, _time, new AccountSettings { RedeliverAfter = TimeSpan.FromMilliseconds(200), KeepSettled = 0 },
            new PoolSettings { AnswersKeep = 0 }, new SagaSettings(), new VenueSettings { SnapshotEveryEvents = 3, AnswersKeep = 0 });
    }

    [Fact]
    public void A_market_answers_a_redelivered_call_from_its_journal_once_and_reads_from_where_the_answer_was_written()
    {
        _world.Mint(Usd, "supplier", 1_000_000);
        Price(Usd, "1");
        Price(Eth, "2000");
        Assert.True(Ask<MarketView>(_world.Markets, new CreateMarket(M, Usd, Eth, 0, 0, 8_000, new RateModel(0, 400, 30_000, 8_000), 1_000, 500)).Created);
        Assert.Equal(TransferStatus.Committed, Call("s1", MarketCallKind.Supply, 1_000_000, [new Leg(Usd, 1_000_000)]).Transaction!.Status);
        for (var i = 0; i < 20; i++) Assert.Equal(TransferStatus.Committed, Call("w" + i, MarketCallKind.Withdraw, 10, []).Transaction!.Status);
        // Back from a snapshot and the rows after it: the answers are in neither memory nor the snapshot.
        _world.Markets.Tell(new EntityParent.Kill(M.Value));
        var cash = Ask<MarketView>(_world.Markets, new GetMarket(M)).Cash;
        var reads = CreateTestProbe();
        Sys.EventStream.Subscribe(reads.Ref, typeof(JournalReadBack));

        _world.Markets.Tell(new ExecuteMarketCall(M, Supplier, new("w18"), new MarketCall(M, MarketCallKind.Withdraw, [], 10)));

        var answer = ExpectMsg<VenueAnswer>(Wait);
        Assert.Equal((new TxId("w18"), (string?)null), (answer.Id, answer.Answer.Code));
        Assert.Equal([new Leg(Usd, 10)], answer.Answer.Out);
        // The market's journal has 22 rows or more; w18 was written in one of the last three.
        Assert.InRange(reads.FishForMessage<JournalReadBack>(r => r.PersistenceId == "market-m", Wait).Rows, 1, 3);
        Assert.Equal(cash, Ask<MarketView>(_world.Markets, new GetMarket(M)).Cash);
        Assert.Equal(200, Ask<AccountView>(_world.Accounts, new GetAccount(Supplier)).Balances.Single(b => b.Asset == Usd).Posted);
    }

    [Fact]
    public void A_call_never_decided_is_decided_even_when_every_answer_has_left_memory()
    {
        _world.Mint(Usd, "supplier", 1_000);
        Price(Usd, "1");
        Price(Eth, "1");
        Ask<MarketView>(_world.Markets, new CreateMarket(M, Usd, Eth, 0, 0, 8_000, new RateModel(0, 400, 30_000, 8_000), 1_000, 500));
        Assert.Equal(TransferStatus.Committed, Call("s1", MarketCallKind.Supply, 600, [new Leg(Usd, 600)]).Transaction!.Status);
        Assert.Equal(TransferStatus.Committed, Call("s2", MarketCallKind.Supply, 400, [new Leg(Usd, 400)]).Transaction!.Status);
        Assert.Equal(1_000UL, (ulong)Ask<MarketView>(_world.Markets, new GetMarket(M)).Cash.Value);
    }

    private static T Ask<T>(IActorRef to, object message) => to.Ask<T>(message, Wait).GetAwaiter().GetResult();

    private void Price(AssetId asset, string price) =>
        Ask<PricesRead>(_world.Oracle, new SetPrice(asset, Fixed.TryParseWad(price, out var wad) ? wad : throw new ArgumentException(price)));

    private TransferOutcome Call(string id, MarketCallKind kind, ulong amount, Leg[] input) =>
        Ask<TransferOutcome>(_world.Accounts, new CallVenue(Supplier, new(id), new MarketCall(M, kind, input, amount)));
}
