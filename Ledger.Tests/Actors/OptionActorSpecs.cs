using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Venues;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Options;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ledger.Tests.Actors;

/// <summary>
/// An option series and accounts as entities: a put written, its tokens passed to a buyer, the series stopped between the
/// expiry and the settlement (it recovers from a snapshot and what followed), then the buyer redeems and the writer
/// settles — each exactly once, with Opyn's figures, and every asset summing to zero over the accounts and the series.
/// </summary>
public class OptionActorSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AssetId Weth = new("WETH"), Usdc = new("USDC");
    private static readonly OptionId Put = new("put300");
    private static readonly UInt128 Eth = UInt128.Parse("1000000000000000000", System.Globalization.CultureInfo.InvariantCulture);
    private readonly EntityWorld _world;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
    private static readonly string[] Holders = ["bank", "writer", "buyer"];

    public OptionActorSpecs() : base(SpecConfig.Local(), "option-spec-" + Guid.NewGuid().ToString("N")[..8])
    {
        _world = new EntityWorld(Sys, _time, new AccountSettings { RedeliverAfter = TimeSpan.FromMilliseconds(200), KeepSettled = 0 },
            new PoolSettings(), new SagaSettings(), new VenueSettings { SnapshotEveryEvents = 2 });
    }

    private static T Ask<T>(IActorRef to, object message) => to.Ask<T>(message, Wait).GetAwaiter().GetResult();

    private TransferOutcome Call(string account, string id, OptionCallKind kind, UInt128 amount, Leg[] @in) =>
        Ask<TransferOutcome>(_world.Accounts, new CallVenue(new(account), new(id), new OptionCall(Put, kind, @in, new Amount(amount))));

    private static Amount Wad(string text) => Fixed.TryParseWad(text, out var wad) ? wad : throw new ArgumentException(text);

    private Int128 Posted(string account, AssetId asset) =>
        Ask<AccountView>(_world.Accounts, new GetAccount(new(account))).Balances.SingleOrDefault(b => b.Asset == asset)?.Posted ?? 0;

    [Fact]
    public void A_put_written_traded_and_settled_across_a_restart_pays_each_side_once()
    {
        _world.Mint(Usdc, "writer", 3_000_000_000);
        Ask<AccountView>(_world.Accounts, new OpenAccount(new("buyer"), "buyer"));
        var expiry = _time.GetUtcNow().ToUnixTimeMilliseconds() + 60_000;
        var strike = Wad("300");
        var created = Ask<OptionView>(_world.Options, new CreateOption(Put, Weth, Usdc, OptionKind.Put, strike, expiry, 10_000, 18, 6));
        Assert.True(created.Created);

        Assert.Equal(TransferStatus.Committed, Call("writer", "m1", OptionCallKind.Mint, 10 * Eth, [new Leg(Usdc, 3_000_000_000)]).Transaction!.Status);
        var give = new SubmitTransfers(new("writer"), [new TransferRequest(new("t1"), new("buyer"), Put.Token, new Amount(10 * Eth), false, null)]);
        Assert.Equal(TransferStatus.Committed, Ask<TransferResults>(_world.Accounts, give).Results[0].Transaction!.Status);
        // Too early to redeem: refused, and the tokens come back.
        Assert.Equal(Codes.PriceNotFinal, Call("buyer", "r0", OptionCallKind.Redeem, Eth, [new Leg(Put.Token, new Amount(Eth))]).Transaction!.Code);
        Assert.Equal((Int128)(10 * Eth), Posted("buyer", Put.Token));

        _time.Advance(TimeSpan.FromMinutes(1));
        var price = Wad("200");
        Assert.Equal(price, Ask<OptionView>(_world.Options, new SetExpiryPrice(Put, price)).ExpiryPrice);
        _time.Advance(TimeSpan.FromSeconds(10));
        // The series stops after the expiry and before anyone is paid; it recovers from its snapshot and journal.
        _world.Options.Tell(new EntityParent.Kill(Put.Value));
        var series = Ask<OptionView>(_world.Options, new GetOption(Put));
        Assert.True(series.PriceFinal);
        Assert.Equal((UInt128)3_000_000_000, series.Collateral.Value);

        Assert.Equal(TransferStatus.Committed, Call("buyer", "r1", OptionCallKind.Redeem, 10 * Eth, [new Leg(Put.Token, new Amount(10 * Eth))]).Transaction!.Status);
        Assert.Equal(TransferStatus.Committed, Call("writer", "s1", OptionCallKind.Settle, 0, []).Transaction!.Status);
        _world.Options.Tell(new EntityParent.Kill(Put.Value));
        // The same requests again are answered as before and move nothing more; a new settle is refused.
        Assert.Equal(TransferStatus.Committed, Call("writer", "s1", OptionCallKind.Settle, 0, []).Transaction!.Status);
        Assert.Equal(Codes.AlreadySettled, Call("writer", "s2", OptionCallKind.Settle, 0, []).Transaction!.Code);

        Assert.Equal(1_000_000_000, Posted("buyer", Usdc));
        Assert.Equal(2_000_000_000, Posted("writer", Usdc));
        Assert.Equal(0, Posted("buyer", Put.Token));
        var position = Ask<OptionPositionView>(_world.Options, new GetOptionPosition(Put, new("writer")));
        Assert.Equal((new Amount(10 * Eth), Amount.Zero, true), (position.Written, position.Collateral, position.Settled));

        IEnumerable<Holdings> all = [.. Holders.Select(a => Ask<Holdings>(_world.Accounts, new GetHoldings(new(a)))),
            Ask<Holdings>(_world.Options, new GetOptionHoldings(Put))];
        foreach (var asset in new[] { Usdc, Put.Token })
            Assert.Equal(0, all.SelectMany(h => h.Items).Where(i => i.Asset == asset).Aggregate(Int128.Zero, (sum, i) => sum + i.Held + (Int128)i.InFlight.Value));
    }
}
