using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Accounts;
using Ledger.Actors.Hosting;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ledger.Tests.Actors;

public class AccountActorSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
    private readonly IActorRef _accounts;
    /// <summary>Stands in for the saga coordinators: what the accounts ask them.</summary>
    private readonly Akka.TestKit.TestProbe _sagas;
    /// <summary>Stands in for the node's saga census: how many unfinished sagas name each account (none unless set).</summary>
    private readonly ConcurrentDictionary<string, int> _namedBy = new();
    private readonly ConcurrentQueue<string> _censusAsked = new();

    public AccountActorSpecs() : base(SpecConfig.Local(), "spec-" + Guid.NewGuid().ToString("N")[..8])
    {
        var time = _time;
        // Idle accounts passivate after 500 ms, so scenarios also cross passivation and recovery; settled records
        // leave memory as soon as they are durable and only two history entries stay, so they also cross read-backs.
        var settings = new AccountSettings
        {
            SnapshotEveryEvents = 5,
            RedeliverAfter = TimeSpan.FromMilliseconds(200),
            IdleAfter = TimeSpan.FromMilliseconds(500),
            KeepSettled = 0,
            HistoryKeep = 2,
        };
        var extractor = new EntityMessageExtractor(10);
        var peers = new Peers();
        peers.Sagas = (_sagas = CreateTestProbe()).Ref;
        var (namedBy, asked) = (_namedBy, _censusAsked);
        peers.SagaCensus = Sys.ActorOf(Props.Create(() => new Census(namedBy, asked)));
        peers.Pools = Sys.ActorOf(Props.Create(() => new EntityParent((id, _) => PoolActor.Props(id, ActorRefs.Nobody, ActorRefs.Nobody, time, new PoolSettings()), extractor)), "pools");
        _accounts = peers.Accounts = Sys.ActorOf(Props.Create(() => new EntityParent((id, _) => AccountActor.Props(id, peers, time, settings), extractor)), "accounts");
        peers.Wakers = Sys.ActorOf(Props.Create(() => new EntityParent((id, _) => AccountWaker.Props(id, peers.Accounts), extractor)), "wakers");
        Open("alice");
        Open("bob");
        _accounts.Tell(new GrantIssuer(new("bank"), new("USD")));
        ExpectMsg<IssuerGrantedAck>(Wait);
        Assert.Equal(TransferStatus.Committed, Transfer("bank", "alice", 1_000, "mint").Transaction!.Status);
    }

    private void Open(string id)
    {
        _accounts.Tell(new OpenAccount(new(id), id));
        Assert.True(ExpectMsg<AccountView>(Wait).Created);
    }

    private TransferOutcome Transfer(string from, string to, ulong amount, string id, bool pending = false, long? timeoutMs = null)
    {
        _accounts.Tell(new SubmitTransfers(new(from), [new TransferRequest(new(id), new(to), new("USD"), amount, pending, timeoutMs)]));
        return ExpectMsg<TransferResults>(Wait).Results[0];
    }

    private BalanceView Balance(string account)
    {
        _accounts.Tell(new GetAccount(new(account)));
        return ExpectMsg<AccountView>(Wait).Balances.Single(b => b.Asset.Value == "USD");
    }

    /// <summary>A saga paying bob 40 from alice, as its coordinator asks each of them.</summary>
    private static readonly SagaKey PaySaga = new(new("alice"), new("b1"));
    private static readonly SagaOpAt[] PayOps = [new(0, new TransferOp(new("b1"), new("alice"), new("bob"), new("USD"), 40))];

    private SagaVote Prepare(string account, SagaKey saga, SagaOpAt[] ops, bool credit, long expiresAt)
    {
        _accounts.Tell(new PrepareSaga(new(account), saga, ops, [new SagaLeg(0, new("USD"), 40, credit)], expiresAt));
        return ExpectMsg<SagaVote>(Wait);
    }

    private void Resolve(string account, SagaKey saga, SagaOpAt[] ops, bool commit, bool credit)
    {
        _accounts.Tell(new ResolveSaga(new(account), saga, commit, commit ? -1 : 0, commit ? null : Codes.InsufficientFunds, ops,
            commit ? [OpFill.Transfer] : null, commit ? [new SagaLeg(0, new("USD"), 40, credit)] : null));
        ExpectMsg<SagaResolvedAck>(Wait);
    }

    private void AssertCloseRefused(string account)
    {
        _accounts.Tell(new CloseAccount(new(account)));
        Assert.Equal(Codes.AccountNotEmpty, ExpectMsg<Rejected>(Wait).Code);
    }

    [Fact]
    public void A_payee_only_saga_vote_keeps_the_account_open_and_asking_until_the_decision_which_credits_it_once()
    {
        var expiresAt = _time.GetUtcNow().ToUnixTimeMilliseconds() + 10_000;
        Assert.Null(Prepare("alice", PaySaga, PayOps, credit: false, expiresAt).Code);
        Assert.Null(Prepare("bob", PaySaga, PayOps, credit: true, expiresAt).Code);
        // bob holds nothing and records nothing for his yes, but must not close (nor forget it) before the decision.
        AssertCloseRefused("bob");
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(new QuerySaga(PaySaga, new("bob"), null), _sagas.FishForMessage<QuerySaga>(q => q.Account == new AccountId("bob"), Wait));
        // bob's node dies: his promise is gone with it, and the commit that reaches him afterwards still credits him.
        _accounts.Tell(new EntityParent.Kill("bob"));

        Resolve("alice", PaySaga, PayOps, commit: true, credit: false);
        Resolve("bob", PaySaga, PayOps, commit: true, credit: true);
        Resolve("bob", PaySaga, PayOps, commit: true, credit: true);
        Assert.Equal((960, 40), (Balance("alice").Posted, Balance("bob").Posted));
        // The commit is recorded: a late duplicate of the vote is a no, and holds nothing.
        Assert.Equal(Codes.LockTimeout, Prepare("bob", PaySaga, PayOps, credit: true, expiresAt).Code);

        // Aborted, a payee's yes leaves nothing behind: carol, empty, may close again.
        Open("carol");
        var toCarol = new SagaKey(new("alice"), new("b2"));
        SagaOpAt[] carolOps = [new(0, new TransferOp(new("b2"), new("alice"), new("carol"), new("USD"), 40))];
        Assert.Null(Prepare("carol", toCarol, carolOps, credit: true, expiresAt + 20_000).Code);
        AssertCloseRefused("carol");
        Resolve("carol", toCarol, carolOps, commit: false, credit: true);
        _accounts.Tell(new CloseAccount(new("carol")));
        Assert.True(ExpectMsg<AccountView>(Wait).Closed);
    }

    private sealed class Census : ReceiveActor
    {
        public Census(ConcurrentDictionary<string, int> namedBy, ConcurrentQueue<string> asked) =>
            Receive<SagasNaming>(ask =>
            {
                asked.Enqueue(ask.Account.Value);
                Sender.Tell(new SagasNamed(ask.Account, namedBy.GetValueOrDefault(ask.Account.Value)));
            });
    }

    [Fact]
    public void A_payee_only_promise_lost_with_its_node_keeps_the_account_from_closing_while_an_unfinished_saga_names_it()
    {
        var expiresAt = _time.GetUtcNow().ToUnixTimeMilliseconds() + 10_000;
        Open("dave");
        var toDave = new SagaKey(new("alice"), new("b3"));
        SagaOpAt[] daveOps = [new(0, new TransferOp(new("b3"), new("alice"), new("dave"), new("USD"), 40))];
        Assert.Null(Prepare("alice", toDave, daveOps, credit: false, expiresAt).Code);
        Assert.Null(Prepare("dave", toDave, daveOps, credit: true, expiresAt).Code);
        // dave's node dies with his promise. Recovered, he is empty and open; the saga is not finished.
        _accounts.Tell(new EntityParent.Kill("dave"));
        _namedBy["dave"] = 1;
        AssertCloseRefused("dave");
        Assert.Contains("dave", _censusAsked);

        // The commit then lands on an open account.
        Resolve("alice", toDave, daveOps, commit: true, credit: false);
        Resolve("dave", toDave, daveOps, commit: true, credit: true);
        Assert.Equal((960, 40), (Balance("alice").Posted, Balance("dave").Posted));

        // Recovered, with no unfinished saga naming her, erin closes once the census has said so.
        Open("erin");
        _accounts.Tell(new EntityParent.Kill("erin"));
        _accounts.Tell(new CloseAccount(new("erin")));
        Assert.True(ExpectMsg<AccountView>(Wait).Closed);
        Assert.Contains("erin", _censusAsked);
    }

    [Fact]
    public void Transfer_is_answered_committed_once_both_sides_are_durable()
    {
        var outcome = Transfer("alice", "bob", 300, "t1");
        Assert.Equal(TransferStatus.Committed, outcome.Transaction!.Status);
        Assert.Equal(700, Balance("alice").Posted);
        Assert.Equal(300, Balance("bob").Posted);
        Assert.Equal(-1_000, Balance("bank").Posted);
    }

    [Fact]
    public void Retry_with_the_same_id_returns_the_original_outcome_and_another_body_conflicts()
    {
        var first = Transfer("alice", "bob", 300, "t1");
        var again = Transfer("alice", "bob", 300, "t1");
        Assert.Equal(first.Transaction, again.Transaction);
        Assert.Equal(Codes.IdConflict, Transfer("alice", "bob", 301, "t1").Code);
        Assert.Equal(700, Balance("alice").Posted);
    }

    [Fact]
    public void Old_transactions_and_deep_pages_are_read_back_from_the_journal()
    {
        for (var i = 0; i < 8; i++) Transfer("alice", "bob", 1, "t" + i);
        _accounts.Tell(new GetTransaction(new("alice"), new("t0")));
        var t0 = ExpectMsg<TransferOutcome>(Wait).Transaction!;
        Assert.Equal((TransferStatus.Committed, 1UL), (t0.Status, (ulong)t0.Amount.Value));
        _accounts.Tell(new GetTransaction(new("alice"), new("nope")));
        Assert.Equal(Codes.TransactionNotFound, ExpectMsg<TransferOutcome>(Wait).Code);

        // alice's list: the mint, then t0 … t7; pages of three, newest first, the older ones from the journal.
        var seen = new List<string>();
        int? before = null;
        do
        {
            _accounts.Tell(new ListTransactions(new("alice"), 3, before));
            var page = ExpectMsg<TransactionPage>(Wait);
            seen.AddRange(page.Items.Select(v => v.Id.Value));
            Assert.All(page.Items, v => Assert.Equal(TransferStatus.Committed, v.Status));
            before = page.Next;
        } while (before is not null);
        Assert.Equal(["t7", "t6", "t5", "t4", "t3", "t2", "t1", "t0", "mint"], seen);
    }

    [Fact]
    public void A_read_back_reads_the_journal_from_where_the_records_were_made_also_after_a_restart()
    {
        for (var i = 0; i < 40; i++) Transfer("alice", "bob", 1, "t" + i);
        // Recovered from a snapshot and the events after it: where each record was made comes from both.
        _accounts.Tell(new EntityParent.Kill("alice"));
        var reads = CreateTestProbe();
        Sys.EventStream.Subscribe(reads.Ref, typeof(JournalReadBack));

        _accounts.Tell(new GetTransaction(new("alice"), new("t36")));
        Assert.Equal(TransferStatus.Committed, ExpectMsg<TransferOutcome>(Wait).Transaction!.Status);
        // alice's journal has a row per transfer and more; t36 is in one of the last few (from the start: 37 or more).
        Assert.InRange(reads.FishForMessage<JournalReadBack>(r => r.PersistenceId == "account-alice", Wait).Rows, 1, 4);

        _accounts.Tell(new ListTransactions(new("alice"), 3, 10));
        Assert.Equal(["t8", "t7", "t6"], ExpectMsg<TransactionPage>(Wait).Items.Select(v => v.Id.Value));
        Assert.InRange(reads.FishForMessage<JournalReadBack>(r => r.PersistenceId == "account-alice", Wait).Rows, 1, 8);
    }

    [Fact]
    public async Task A_request_that_reaches_an_account_after_it_asked_to_passivate_is_still_answered()
    {
        Transfer("alice", "bob", 1, "t0");
        Transfer("alice", "bob", 1, "t1");
        // As a shard may: a request already in the account's mailbox when the stop message arrives. t0 has left
        // memory, so answering it takes a journal read, which must finish before the account stops.
        var alice = await Sys.ActorSelection(_accounts.Path / "alice").ResolveOne(Wait);
        alice.Tell(new GetTransaction(new("alice"), new("t0")));
        alice.Tell(StopEntity.Instance);
        Assert.Equal(TransferStatus.Committed, ExpectMsg<TransferOutcome>(Wait).Transaction!.Status);
    }

    [Fact]
    public async Task A_transfer_that_reaches_an_account_after_it_asked_to_passivate_is_still_answered()
    {
        var alice = await Sys.ActorSelection(_accounts.Path / "alice").ResolveOne(Wait);
        alice.Tell(new SubmitTransfers(new("alice"), [new TransferRequest(new("s1"), new("bob"), new("USD"), 5, false, null)]));
        alice.Tell(StopEntity.Instance);
        Assert.Equal(TransferStatus.Committed, ExpectMsg<TransferResults>(Wait).Results[0].Transaction!.Status);
    }

    [Fact]
    public void Transfer_to_unknown_account_is_compensated()
    {
        var outcome = Transfer("alice", "ghost", 300, "t1");
        Assert.Equal(TransferStatus.Rejected, outcome.Transaction!.Status);
        Assert.Equal(Codes.AccountNotFound, outcome.Transaction.Code);
        Assert.Equal(1_000, Balance("alice").Posted);
    }

    [Fact]
    public void Pending_transfer_expires_when_time_passes_its_deadline()
    {
        Assert.Equal(TransferStatus.Pending, Transfer("alice", "bob", 400, "p1", pending: true, timeoutMs: 60_000).Transaction!.Status);
        Assert.Equal(600, Balance("alice").Available);
        Assert.Equal(400, (int)Balance("bob").PendingIn.Value);

        _time.Advance(TimeSpan.FromSeconds(60));
        AwaitAssert(() =>
        {
            Assert.Equal(1_000, Balance("alice").Available);
            Assert.Equal(0, (int)Balance("bob").PendingIn.Value);
        }, Wait);
        _accounts.Tell(new PostPending(new("alice"), new("p1"), null));
        Assert.Equal(Codes.PendingExpired, ExpectMsg<TransferOutcome>(Wait).Code);
    }

    [Fact]
    public void Pending_transfer_that_fell_due_while_the_account_was_stopped_expires_on_recovery()
    {
        Transfer("alice", "bob", 400, "p1", pending: true, timeoutMs: 1_000);
        _accounts.Tell(new EntityParent.Kill("alice"));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1_000, Balance("alice").Available);
        _accounts.Tell(new GetTransaction(new("alice"), new("p1")));
        Assert.Equal(TransferStatus.Expired, ExpectMsg<TransferOutcome>(Wait).Transaction!.Status);
    }

    [Fact]
    public void Post_moves_part_of_a_reservation_and_void_of_a_posted_one_is_refused()
    {
        Transfer("alice", "bob", 400, "p1", pending: true);
        _accounts.Tell(new PostPending(new("alice"), new("p1"), new Amount(150)));
        var posted = ExpectMsg<TransferOutcome>(Wait).Transaction!;
        Assert.Equal(TransferStatus.Committed, posted.Status);
        Assert.Equal(new Amount(150), posted.PostedAmount);
        Assert.Equal(850, Balance("alice").Available);
        Assert.Equal(150, Balance("bob").Posted);
        _accounts.Tell(new VoidPending(new("alice"), new("p1")));
        Assert.Equal(Codes.AlreadyPosted, ExpectMsg<TransferOutcome>(Wait).Code);
    }

    [Fact]
    public void Recovery_from_snapshot_and_events_restores_balances_and_history()
    {
        for (var i = 0; i < 12; i++) Transfer("alice", "bob", 10, "t" + i);
        _accounts.Tell(new EntityParent.Kill("alice"));
        _accounts.Tell(new EntityParent.Kill("bob"));

        Assert.Equal(880, Balance("alice").Posted);
        Assert.Equal(120, Balance("bob").Posted);
        _accounts.Tell(new ListTransactions(new("alice"), 100, null));
        Assert.Equal(13, ExpectMsg<TransactionPage>(Wait).Items.Length);
        Assert.Equal(TransferStatus.Committed, Transfer("alice", "bob", 10, "t3").Transaction!.Status);
        Assert.Equal(880, Balance("alice").Posted);

        Persistence.Instance.Apply(Sys).SnapshotStoreFor(null).Tell(new LoadSnapshot("account-alice", SnapshotSelectionCriteria.Latest, long.MaxValue));
        Assert.IsType<AccountSnapshot>(ExpectMsg<LoadSnapshotResult>(Wait).Snapshot?.Snapshot);
    }

    [Fact]
    public void Commands_arriving_during_a_write_are_decided_together_and_persisted_as_one_write()
    {
        const int n = 200;
        var before = CountingJournal.Writes.GetValueOrDefault(CountingJournal.Key(Sys.Name, "account-alice"));
        for (var i = 0; i < n; i++)
            _accounts.Tell(new SubmitTransfers(new("alice"), [new TransferRequest(new("g" + i), new("bob"), new("USD"), 1, false, null)]));
        var results = ReceiveN(n, Wait).Cast<TransferResults>().ToList();
        Assert.All(results, r => Assert.Equal(TransferStatus.Committed, r.Results[0].Transaction!.Status));
        var writes = CountingJournal.Writes[CountingJournal.Key(Sys.Name, "account-alice")] - before;
        // n debits and n acknowledgements: one write each without group commit, a handful with it.
        Assert.True(writes <= 20, $"{writes} writes for {2 * n} events");
        Assert.Equal(1_000 - n, Balance("alice").Posted);
    }

    [Fact]
    public void An_idle_account_passivates_and_comes_back_with_its_state()
    {
        Transfer("alice", "bob", 300, "t1");
        // The incarnation that answered (not resolved by path afterwards: it may already have passivated by then).
        var alice = LastSender;
        Assert.Equal("alice", alice.Path.Name);
        Watch(alice);
        ExpectTerminated(alice, Wait);
        Assert.Equal(700, Balance("alice").Posted);
        Assert.Equal(TransferStatus.Committed, Transfer("alice", "bob", 300, "t1").Transaction!.Status);
        Assert.Equal(700, Balance("alice").Posted);
    }

    [Fact]
    public void Batch_of_transfers_from_one_payer_keeps_request_order()
    {
        _accounts.Tell(new SubmitTransfers(new("alice"),
        [
            new TransferRequest(new("b1"), new("bob"), new("USD"), 600, false, null),
            new TransferRequest(new("b2"), new("bob"), new("USD"), 600, false, null),
            new TransferRequest(new("b3"), new("bob"), new("USD"), 400, false, null),
        ]));
        var r = ExpectMsg<TransferResults>(Wait).Results;
        Assert.Equal(TransferStatus.Committed, r[0].Transaction!.Status);
        Assert.Equal(Codes.InsufficientFunds, r[1].Transaction!.Code);
        Assert.Equal(TransferStatus.Committed, r[2].Transaction!.Status);
    }
}
