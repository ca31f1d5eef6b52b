using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Venues;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ledger.Tests.Actors;

/// <summary>A channel with the real accounts: deposits, a unilateral close, and a settlement paid once across a crash.</summary>
public class ChannelActorSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AssetId Usd = new("USD");
    private static readonly ChannelId C = new("ch1");
    private static readonly AccountId A = new("alice"), B = new("bob");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
    private readonly EntityWorld _world;

    public ChannelActorSpecs() : base(SpecConfig.Local(), "channel-spec-" + Guid.NewGuid().ToString("N")[..8])
    {
        _world = new EntityWorld(Sys, _time, new AccountSettings { RedeliverAfter = TimeSpan.FromMilliseconds(200) }, new PoolSettings(), new SagaSettings());
    }

    private static Task<T> Ask<T>(IActorRef to, object message) => to.Ask<T>(message, Wait);

    private async Task<Int128> Posted(AccountId account) =>
        (await Ask<AccountView>(_world.Accounts, new GetAccount(account))).Balances.FirstOrDefault(b => b.Asset == Usd)?.Posted ?? 0;

    private async Task<Int128> Held() => (await Ask<Holdings>(_world.Channels, new GetChannelHoldings(C))).Items.Single().Held;

    private Task<TransferOutcome> Deposit(AccountId account, string id, ulong amount) =>
        Ask<TransferOutcome>(_world.Accounts, new CallVenue(account, new(id), new ChannelCall(C, ChannelCallKind.Deposit, [new Leg(Usd, amount)], amount)));

    private async Task<(ChannelParty A, ChannelParty B)> Open()
    {
        var (a, b) = (new ChannelParty(C, A, B, new byte[32]), new ChannelParty(C, B, A, Enumerable.Repeat((byte)7, 32).ToArray()));
        (a.OtherKeyHex, b.OtherKeyHex) = (b.PublicKeyHex, a.PublicKeyHex);
        Assert.True((await Ask<ChannelView>(_world.Channels, new OpenChannel(C, Usd, A, B, a.PublicKeyHex, b.PublicKeyHex, 1_000))).Created);
        return (a, b);
    }

    /// <summary>
    /// Bob's account does not exist yet when the channel settles: Alice is paid, Bob's payout is refused and retried,
    /// and the channel is killed in between. Recovered, it asks for Bob's payout again (not Alice's): each is paid
    /// once, the channel holds nothing, and a second settle moves nothing.
    /// </summary>
    [Fact]
    public async Task A_crash_between_paying_a_and_paying_b_pays_each_once()
    {
        _world.Mint(Usd, A.Value, 100);
        var (a, b) = await Open();
        Assert.Equal(TransferStatus.Committed, (await Deposit(A, "d1", 100)).Transaction!.Status);
        Assert.Equal((Int128)100, await Held());
        Assert.True(b.Accept(a.Pay(30)));
        Assert.Equal(ChannelStatus.Closing, (await Ask<ChannelView>(_world.Channels, new CloseChannel(C, B, new("close"), b.Received))).State);
        Assert.Equal(new Rejected(Codes.ChallengeOpen), await Ask<object>(_world.Channels, new SettleChannel(C, A, new("early"))));
        _time.Advance(TimeSpan.FromSeconds(1));

        var settle = CreateTestProbe();
        _world.Channels.Tell(new SettleChannel(C, A, new("settle")), settle.Ref);
        await AwaitAssertAsync(async () => Assert.Equal((Int128)70, await Posted(A)), Wait);
        settle.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        _world.Channels.Tell(new Ledger.Tests.Support.EntityParent.Kill(C.Value));

        await Ask<AccountView>(_world.Accounts, new OpenAccount(B, "bob"));
        var settled = await Ask<ChannelView>(_world.Channels, new GetChannel(C));
        Assert.Equal((ChannelStatus.Settled, new Amount(70), new Amount(30)), (settled.State, settled.SettleA, settled.SettleB));
        await AwaitAssertAsync(async () => Assert.Equal((Int128)30, await Posted(B)), Wait);
        Assert.Equal(0, await Held());

        var again = await Ask<ChannelView>(_world.Channels, new SettleChannel(C, B, new("again")));
        Assert.Equal(ChannelStatus.Settled, again.State);
        Assert.Equal(((Int128)70, (Int128)30, (Int128)0), (await Posted(A), await Posted(B), await Held()));
    }

    /// <summary>Bob closed his account before the settlement: the settle is answered, Alice is paid, Bob's share stays in the channel.</summary>
    [Fact]
    public async Task A_payout_to_a_closed_account_stays_in_the_channel_and_the_settle_is_answered()
    {
        _world.Mint(Usd, A.Value, 100);
        await Ask<AccountView>(_world.Accounts, new OpenAccount(B, "bob"));
        var (a, b) = await Open();
        Assert.Equal(TransferStatus.Committed, (await Deposit(A, "d1", 100)).Transaction!.Status);
        Assert.True(b.Accept(a.Pay(30)));
        await Ask<ChannelView>(_world.Channels, new CloseChannel(C, B, new("close"), b.Received));
        Assert.True((await Ask<AccountView>(_world.Accounts, new CloseAccount(B))).Closed);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ChannelStatus.Settled, (await Ask<ChannelView>(_world.Channels, new SettleChannel(C, A, new("settle")))).State);
        Assert.Equal(((Int128)70, (Int128)0, (Int128)30), (await Posted(A), await Posted(B), await Held()));
    }

    [Fact]
    public async Task Deposits_by_others_or_after_close_come_back()
    {
        _world.Mint(Usd, A.Value, 100);
        _world.Mint(Usd, "carol", 100);
        await Open();
        var refused = await Deposit(new("carol"), "d1", 40);
        Assert.Equal((TransferStatus.Rejected, Codes.NotParticipant), (refused.Transaction!.Status, refused.Transaction.Code));
        Assert.Equal(TransferStatus.Committed, (await Deposit(A, "d2", 40)).Transaction!.Status);
        // The same id for a close as for a deposit: a close of its own, not an answer from the deposit's record.
        Assert.Equal(ChannelStatus.Closing, (await Ask<ChannelView>(_world.Channels, new CloseChannel(C, A, new("d2"), null))).State);
        var late = await Deposit(A, "d3", 10);
        Assert.Equal((TransferStatus.Rejected, Codes.ChannelClosed), (late.Transaction!.Status, late.Transaction.Code));
        Assert.Equal(((Int128)100, (Int128)60, (Int128)40), (await Posted(new("carol")), await Posted(A), await Held()));
    }
}

/// <summary>
/// A channel keeps only its newest answers in memory (here one): a close, update or settle repeated after its answer
/// left memory is read back from the journal and answered as before — the same channel, the same refusal, and
/// <c>id_conflict</c> for the same id with another body — instead of being decided again.
/// </summary>
public class ChannelAnswerEvictionSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AssetId Usd = new("USD");
    private static readonly ChannelId C = new("ch1");
    private static readonly AccountId A = new("alice"), B = new("bob");
    private readonly EntityWorld _world;

    public ChannelAnswerEvictionSpecs() : base(SpecConfig.Local(), "channel-evict-" + Guid.NewGuid().ToString("N")[..8])
    {
        _world = new EntityWorld(Sys, TimeProvider.System, new AccountSettings(), new PoolSettings(), new SagaSettings(), new VenueSettings { AnswersKeep = 1 });
    }

    private Task<object> Ask(object message) => _world.Channels.Ask<object>(message, Wait);

    [Fact]
    public async Task A_command_whose_answer_left_memory_is_answered_from_the_journal()
    {
        _world.Mint(Usd, A.Value, 100);
        var (a, b) = (new ChannelParty(C, A, B, new byte[32]), new ChannelParty(C, B, A, Enumerable.Repeat((byte)7, 32).ToArray()));
        (a.OtherKeyHex, b.OtherKeyHex) = (b.PublicKeyHex, a.PublicKeyHex);
        await Ask(new OpenChannel(C, Usd, A, B, a.PublicKeyHex, b.PublicKeyHex, 60_000));
        await _world.Accounts.Ask<TransferOutcome>(new CallVenue(A, new("d1"), new ChannelCall(C, ChannelCallKind.Deposit, [new Leg(Usd, 100)], 100)), Wait);
        Assert.True(b.Accept(a.Pay(30)));
        var close = new CloseChannel(C, B, new("close"), b.Received);
        Assert.Equal(ChannelStatus.Closing, Assert.IsType<ChannelView>(await Ask(close)).State);
        // The same proof again is not newer: refused, and recorded.
        Assert.Equal(new Rejected(Codes.StaleProof), await Ask(new UpdateChannel(C, A, new("u0"), b.Received!)));
        // More refusals push both answers out of memory.
        for (var i = 1; i <= 3; i++) Assert.Equal(new Rejected(Codes.StaleProof), await Ask(new UpdateChannel(C, A, new("u" + i), b.Received!)));

        // Decided again, the close would now be refused (channel_closed): read back, it is the close it was.
        Assert.Equal(ChannelStatus.Closing, Assert.IsType<ChannelView>(await Ask(close)).State);
        Assert.Equal(new Rejected(Codes.IdConflict), await Ask(close with { Proof = null }));
        Assert.Equal(new Rejected(Codes.StaleProof), await Ask(new UpdateChannel(C, A, new("u0"), b.Received!)));
    }
}
