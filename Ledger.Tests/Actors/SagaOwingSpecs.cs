using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Sagas;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Assets;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;

namespace Ledger.Tests.Actors;

/// <summary>
/// One real node on SQLite: a saga is listed in the journal's owing index from its intent until it has finished (what
/// the node's resumer starts again after a crash), and a listing left by a crash at the wrong moment is cleared once
/// the saga is woken and finds nothing to do; the node's resumer wakes what is listed again and again, not only after
/// it comes up.
/// </summary>
public sealed class SagaOwingSpecs : IAsyncLifetime
{
    private static readonly AssetId Usd = new("USD");
    private readonly LedgerNodeOptions _options = new() { DataDir = Ports.TempDir("ledger-saga-owing"), Port = Ports.Free(), ExtraHocon = "akka.loglevel = WARNING" };
    private ActorSystem _system = null!;
    private LedgerRegions _regions = null!;

    public Task InitializeAsync()
    {
        _system = LedgerNode.Start(_options);
        // The pause holds the saga, every vote in, before its decision: the window in which it must be listed.
        _regions = LedgerSharding.Start(_system, 10, TimeProvider.System, new AccountSettings(),
            sagaSettings: new SagaSettings { PauseBeforeDecision = TimeSpan.FromSeconds(1) });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        Directory.Delete(_options.DataDir, recursive: true);
    }

    private IActorRef Journal => Akka.Persistence.Persistence.Instance.Apply(_system).JournalFor(null);

    private async Task<bool> Listed(string persistenceId) => (await OwingIndex.Read(_options, CancellationToken.None)).Contains(persistenceId);

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
            if (DateTime.UtcNow > deadline) Assert.Fail("timed out waiting until " + what);
            else await Task.Delay(50);
    }

    [Fact]
    public async Task A_saga_is_listed_as_owing_until_it_has_finished_and_a_stale_listing_is_cleared_when_woken()
    {
        Assert.IsType<AssetView>(await TestCluster.Ask(_regions.Assets, new CreateAsset(Usd, 0, new("bank"))));
        foreach (var account in new[] { "alice", "bob" }) Assert.IsType<AccountView>(await TestCluster.Ask(_regions.Accounts, new OpenAccount(new(account), account)));
        var mint = await TestCluster.Ask(_regions.Accounts, new SubmitTransfers(new("bank"), [new TransferRequest(new("mint"), new("alice"), Usd, 100, false, null)]));
        Assert.Equal(TransferStatus.Committed, Assert.IsType<TransferResults>(mint).Results[0].Transaction!.Status);

        var key = new SagaKey(new("alice"), new("b1"));
        var outcome = _regions.Sagas.Ask<SagaOutcome>(new StartSaga(key, [new TransferOp(new("b1"), new("alice"), new("bob"), Usd, 40)]), TimeSpan.FromSeconds(30));
        await Until(() => Listed("saga-alice/b1"), "the saga is listed");
        Assert.True((await outcome).Committed);
        await Until(async () => !await Listed("saga-alice/b1"), "the finished saga is no longer listed");

        // A mark whose saga never wrote its intent (as an earlier version, which wrote the mark on its own first, could
        // leave after a crash between the two): woken, it clears it.
        Journal.Tell(new OwingMark("saga-carol/c1", 1, true));
        await Until(() => Listed("saga-carol/c1"), "the stale mark is written");
        _regions.Sagas.Tell(new WakeSaga(new SagaKey(new("carol"), new("c1"))));
        await Until(async () => !await Listed("saga-carol/c1"), "the woken saga cleared its stale mark");
    }

    /// <summary>
    /// A wake can be lost (sent to a shard's old home just as a member is removed); what the resumer woke and is still
    /// listed is woken again while it watches, not only by the sweep, which waits for the watch to end.
    /// </summary>
    [Fact]
    public async Task What_the_resumer_woke_and_is_still_listed_is_woken_again_while_it_watches()
    {
        Journal.Tell(new OwingMark("saga-fay/f1", 1, true));
        await Until(() => Listed("saga-fay/f1"), "the mark is written");
        // Regions that start nothing: every wake is lost, and the mark stays.
        var (accounts, sagas) = (Inbox.Create(_system), Inbox.Create(_system));
        _system.ActorOf(OwingResumer.Props(_options, accounts.Receiver, sagas.Receiver, sweepEvery: TimeSpan.FromHours(1)));
        var key = new SagaKey(new("fay"), new("f1"));
        Assert.Equal(key, Assert.IsType<WakeSaga>(await sagas.ReceiveAsync(TimeSpan.FromSeconds(30))).Key);
        Assert.Equal(key, Assert.IsType<WakeSaga>(await sagas.ReceiveAsync(TimeSpan.FromSeconds(30))).Key);
    }

    /// <summary>
    /// An account recovered from its journal, which may have promised a saga as a payee only in its earlier incarnation,
    /// does not close while an unfinished saga names it (the census itself: <see cref="LedgerJournalSpecs"/>).
    /// </summary>
    [Fact]
    public async Task A_recovered_account_does_not_close_while_an_unfinished_saga_in_the_journal_names_it()
    {
        foreach (var account in new[] { "bob", "carol" }) Assert.IsType<AccountView>(await TestCluster.Ask(_regions.Accounts, new OpenAccount(new(account), account)));
        // A saga's intent, as its actor writes it (listed, then the row), paying bob; its decision never comes here.
        const string saga = "saga-alice/c9";
        await JournalRows.Append(_system, saga, 1, new SagaStarted([new TransferOp(new("c9"), new("alice"), new("bob"), Usd, 40)], long.MaxValue, 0), listOwing: true);
        await Until(() => Listed(saga), "the saga is listed");

        // bob's incarnation that knew of no promise is gone; the next may not close while the saga is listed.
        var bob = await _system.ActorSelection("/system/sharding/account/*/bob").ResolveOne(TimeSpan.FromSeconds(30));
        var watcher = Inbox.Create(_system);
        watcher.Watch(bob);
        bob.Tell(PoisonPill.Instance);
        Assert.IsType<Terminated>(await watcher.ReceiveAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(Codes.AccountNotEmpty, Assert.IsType<Rejected>(await TestCluster.Ask(_regions.Accounts, new CloseAccount(new("bob")))).Code);
        Journal.Tell(new OwingMark(saga, 1, false));
        await Until(async () => !await Listed(saga), "the finished saga is no longer listed");
        Assert.True(Assert.IsType<AccountView>(await TestCluster.Ask(_regions.Accounts, new CloseAccount(new("bob")))).Closed);
    }

    /// <summary>
    /// Listed after the node came up (as when a shard is handed off to a member that joins and stops the sagas it had):
    /// nobody asks for them, and the resumer's sweep starts them. The resumer's first run, when its node comes up, wakes
    /// at most the first; the second is listed only once the first has been cleared, so only a sweep can wake it.
    /// </summary>
    [Fact]
    public async Task What_is_listed_after_the_node_came_up_is_woken_by_the_resumers_sweep()
    {
        _system.ActorOf(OwingResumer.Props(_options, _regions.Accounts, _regions.Sagas, sweepEvery: TimeSpan.FromMilliseconds(300)));
        foreach (var (saga, written) in new[] { ("saga-dave/d1", "test-1"), ("saga-erin/e1", "test-2") })
        {
            // The journal writes marks in the order it gets them, and the resumer wakes only accounts and sagas: once
            // the second mark is listed, the saga's has been written, however soon a sweep then clears it.
            Journal.Tell(new OwingMark(saga, 1, true));
            Journal.Tell(new OwingMark(written, 1, true));
            await Until(() => Listed(written), $"{saga}'s mark is written");
            // It never wrote its intent, so once started it has nothing to finish and clears its mark.
            await Until(async () => !await Listed(saga), $"{saga} was woken and cleared its mark");
        }
    }
}
