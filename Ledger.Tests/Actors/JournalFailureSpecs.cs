using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence.TestKit;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;

namespace Ledger.Tests.Actors;

/// <summary>
/// A journal that fails or stalls (Akka.Persistence.TestKit's failure injection). A failed write answers the asker
/// at once that the outcome is unknown (the gateway's 503), a stalled one times the asker out (also 503); nothing is
/// half-applied meanwhile, and once the journal works again the same request completes exactly once.
/// </summary>
public class JournalFailureSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AssetId Usd = new("USD"), X = new("X"), Y = new("Y");
    private static readonly PoolId Pool = new("p");
    private readonly EntityWorld _world;
    private readonly ITestJournal _journal;

    // Messages stay unserialized here: the journal's failure replies carry exceptions, which the JSON round trip
    // of serialize-messages cannot rebuild (they would be lost, and the entity would never learn of the failure).
    public JournalFailureSpecs() : base(ConfigurationFactory.ParseString("""
        akka.actor.serialize-messages = off
        akka.persistence.journal.plugin = "akka.persistence.journal.test"
        akka.persistence.journal.test {
          class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        """).WithFallback(SpecConfig.Local()), "journal-failure-" + Guid.NewGuid().ToString("N")[..8])
    {
        _world = new EntityWorld(Sys, TimeProvider.System, new AccountSettings { RedeliverAfter = TimeSpan.FromMilliseconds(200) }, new PoolSettings(), new SagaSettings());
        _journal = TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null));
    }

    private static T Ask<T>(IActorRef to, object message) => to.Ask<T>(message, Wait).GetAwaiter().GetResult();

    private void Mint(AssetId asset, string account, ulong amount) => _world.Mint(asset, account, amount);

    private Int128 Posted(string account, AssetId asset) =>
        Ask<AccountView>(_world.Accounts, new GetAccount(new(account))).Balances.SingleOrDefault(b => b.Asset == asset)?.Posted ?? 0;

    private static SubmitTransfers Transfer(string id) => new(new("alice"), [new TransferRequest(new(id), new("bob"), Usd, 30, false, null)]);

    [Fact]
    public async Task A_failed_read_back_answers_the_asker_at_once_and_the_entity_starts_once_the_journal_works()
    {
        Mint(Usd, "carol", 10);
        _world.Accounts.Tell(new EntityParent.Kill("carol"));
        await _journal.OnRecovery.Fail();
        // Without an answer the asker would wait for its own timeout: Akka drops what it stashed during the recovery.
        Assert.Equal(new JournalUnavailable("account-carol"), await _world.Accounts.Ask<object>(new GetAccount(new("carol")), Wait));
        await _journal.OnRecovery.Pass();
        // The failed incarnation stops itself; a message that reaches it before its parent has seen it go is lost, as
        // it would be in a shard, so the read is asked again until the new incarnation answers.
        Assert.Equal(10, (await AnsweredView("carol")).Balances.Single(b => b.Asset == Usd).Posted);
    }

    /// <summary>The account's view, asked every second until a running incarnation answers it.</summary>
    private async Task<AccountView> AnsweredView(string account)
    {
        var deadline = DateTime.UtcNow + Wait;
        object? answer = null;
        while (answer is not AccountView && DateTime.UtcNow < deadline)
            answer = await _world.Accounts.Ask<object>(new GetAccount(new(account)), TimeSpan.FromSeconds(1)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null);
        return Assert.IsType<AccountView>(answer);
    }

    [Fact]
    public async Task A_failed_write_answers_at_once_that_the_outcome_is_unknown_and_the_same_request_then_commits_once()
    {
        Mint(Usd, "alice", 100);
        Ask<AccountView>(_world.Accounts, new OpenAccount(new("bob"), "bob"));

        await _journal.OnWrite.Fail();
        var failed = await _world.Accounts.Ask<object>(Transfer("t1"), Wait);
        Assert.Equal(new JournalUnavailable("account-alice"), failed);

        await _journal.OnWrite.Pass();
        // The account stopped; its next message starts it from the journal, which does not hold the failed write. A
        // message that reaches the failed incarnation before its parent has seen it go is lost, as in a shard: asked again.
        Assert.Equal(100, (await AnsweredView("alice")).Balances.Single(b => b.Asset == Usd).Posted);
        Assert.Equal(0, Posted("bob", Usd));
        Assert.Equal(TransferStatus.Committed, Ask<TransferResults>(_world.Accounts, Transfer("t1")).Results[0].Transaction!.Status);
        Assert.Equal(TransferStatus.Committed, Ask<TransferResults>(_world.Accounts, Transfer("t1")).Results[0].Transaction!.Status);
        AwaitAssert(() => Assert.Equal((70, 30), (Posted("alice", Usd), Posted("bob", Usd))), Wait, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_stalled_write_times_the_client_out_and_the_retry_finds_it_landed_once()
    {
        Mint(Usd, "alice", 100);
        Ask<AccountView>(_world.Accounts, new OpenAccount(new("bob"), "bob"));

        await _journal.OnWrite.PassWithDelay(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAsync<AskTimeoutException>(() => _world.Accounts.Ask<TransferResults>(Transfer("t1"), TimeSpan.FromSeconds(1)));

        await _journal.OnWrite.Pass();
        Assert.Equal(TransferStatus.Committed, Ask<TransferResults>(_world.Accounts, Transfer("t1")).Results[0].Transaction!.Status);
        AwaitAssert(() => Assert.Equal((70, 30), (Posted("alice", Usd), Posted("bob", Usd))), Wait, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_pool_that_cannot_write_holds_the_swap_in_flight_and_fills_it_once_when_the_journal_returns()
    {
        Assert.True(Ask<PoolView>(_world.Pools, new CreatePool(Pool, X, Y, 30)).Created);
        Mint(X, "lp", 1_000_000);
        Mint(Y, "lp", 1_000_000);
        var deposit = new PoolCall(Pool, PoolCallKind.Deposit, [new Leg(X, 1_000_000), new Leg(Y, 1_000_000)]);
        Assert.Equal(TransferStatus.Committed, Ask<TransferOutcome>(_world.Accounts, new CallPool(new("lp"), new("d1"), deposit)).Transaction!.Status);
        Mint(X, "trader", 1_000);
        var swap = new CallPool(new("trader"), new("s1"), new PoolCall(Pool, PoolCallKind.SwapExactIn, [new Leg(X, 1_000)], Y));

        await _journal.OnWrite.FailIf(write => write.PersistenceId.StartsWith("pool-", StringComparison.Ordinal));
        // The trader's write lands (its X is in flight to the pool); the pool's fails again and again as the trader
        // redelivers: the trader cannot answer yet.
        await Assert.ThrowsAsync<AskTimeoutException>(() => _world.Accounts.Ask<TransferOutcome>(swap, TimeSpan.FromSeconds(2)));
        var holdings = Ask<Holdings>(_world.Accounts, new GetHoldings(new("trader"))).Items.Single(h => h.Asset == X);
        Assert.Equal(((Int128)0, (UInt128)1_000), (holdings.Held, holdings.InFlight.Value));
        Assert.Equal(((UInt128)1_000_000, (UInt128)1_000_000), Reserves());

        await _journal.OnWrite.Pass();
        var filled = Ask<TransferOutcome>(_world.Accounts, swap);
        Assert.Equal(TransferStatus.Committed, filled.Transaction!.Status);
        Assert.Equal(filled, Ask<TransferOutcome>(_world.Accounts, swap));
        var (x, y) = Reserves();
        Assert.Equal((UInt128)1_001_000, x);
        AwaitAssert(() => Assert.Equal((Int128)(1_000_000 - y), Posted("trader", Y)), Wait, TimeSpan.FromMilliseconds(100));
    }

    private (UInt128 X, UInt128 Y) Reserves()
    {
        // While the pool's writes fail, a query that arrives while one is in flight queues behind it and is answered
        // JournalUnavailable with it (the gateway's 503): the client asks again.
        var deadline = DateTime.UtcNow + Wait;
        for (var attempt = 1; ; attempt++)
        {
            var answer = Ask<object>(_world.Pools, new GetPool(Pool));
            if (answer is PoolView pool) return (pool.ReserveA.Value, pool.ReserveB.Value);
            Assert.True(answer is JournalUnavailable && DateTime.UtcNow < deadline, $"answer {answer} after {attempt} attempts");
            Thread.Sleep(50);
        }
    }
}
