using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;

namespace Ledger.Tests.Contracts;

public class AccountContractTests
{
    private readonly ContractWorld _w = ContractWorld.AliceBobAndBank();

    private Transfer Tx(string account, string id) => _w.Record(new(account), new(account), new(id))!;

    [Fact]
    public void Issuer_goes_negative_by_the_minted_supply()
    {
        Assert.Equal(-1_000, _w.Balance("bank", "USD").Posted);
        Assert.Equal(1_000, _w.Balance("alice", "USD").Posted);
    }

    [Fact]
    public void Transfer_debits_payer_at_once_and_credits_payee_on_delivery()
    {
        _w.Transfer("alice", "bob", "USD", 300, "t1");
        Assert.Equal(700, _w.Balance("alice", "USD").Posted);
        Assert.Equal(0, _w.Balance("bob", "USD").Posted);
        Assert.Equal(TransferStatus.InFlight, Tx("alice", "t1").Status);
        Assert.Equal(0, _w.Sums()[new AssetId("USD")]);

        _w.DeliverAll();
        Assert.Equal(300, _w.Balance("bob", "USD").Posted);
        Assert.Equal(TransferStatus.Committed, Tx("alice", "t1").Status);
    }

    [Fact]
    public void Non_issuer_cannot_spend_more_than_available()
    {
        var d = _w.Transfer("alice", "bob", "USD", 1_001, "t1");
        Assert.Single(d.Events);
        Assert.Equal(TransferStatus.Rejected, Tx("alice", "t1").Status);
        Assert.Equal(Codes.InsufficientFunds, Tx("alice", "t1").Code);
        Assert.Equal(1_000, _w.Balance("alice", "USD").Posted);
    }

    [Fact]
    public void Same_id_and_body_is_a_retry_and_changes_nothing()
    {
        _w.Transfer("alice", "bob", "USD", 300, "t1");
        var retry = _w.Transfer("alice", "bob", "USD", 300, "t1");
        Assert.Empty(retry.Events);
        Assert.Null(retry.Rejection);
        Assert.Equal(new TxId("t1"), retry.Awaits);
        Assert.Equal(700, _w.Balance("alice", "USD").Posted);
    }

    [Fact]
    public void A_rejected_transfer_retried_stays_rejected_even_after_funds_arrive()
    {
        _w.Transfer("alice", "bob", "USD", 5_000, "t1");
        _w.Transfer("bank", "alice", "USD", 10_000, "mint-2");
        _w.DeliverAll();
        var retry = _w.Transfer("alice", "bob", "USD", 5_000, "t1");
        Assert.Empty(retry.Events);
        Assert.Equal(TransferStatus.Rejected, Tx("alice", "t1").Status);
    }

    [Theory]
    [InlineData("bob", "USD", 301UL, false)]
    [InlineData("carol", "USD", 300UL, false)]
    [InlineData("bob", "EUR", 300UL, false)]
    [InlineData("bob", "USD", 300UL, true)]
    public void Same_id_with_a_different_body_is_an_id_conflict(string to, string asset, ulong amount, bool pending)
    {
        _w.Transfer("alice", "bob", "USD", 300, "t1");
        var d = _w.Transfer("alice", to, asset, amount, "t1", pending);
        Assert.Equal(Codes.IdConflict, d.Rejection);
        Assert.Empty(d.Events);
    }

    [Fact]
    public void Transfer_to_unknown_account_is_compensated()
    {
        _w.Transfer("alice", "ghost", "USD", 400, "t1");
        Assert.Equal(600, _w.Balance("alice", "USD").Posted);
        _w.DeliverAll();
        Assert.Equal(1_000, _w.Balance("alice", "USD").Posted);
        Assert.Equal(TransferStatus.Rejected, Tx("alice", "t1").Status);
        Assert.Equal(Codes.AccountNotFound, Tx("alice", "t1").Code);
        Assert.Equal(0, _w.Sums()[new AssetId("USD")]);
    }

    [Fact]
    public void A_refused_credit_never_lands_later_even_if_the_account_is_opened_and_the_credit_redelivered()
    {
        _w.Transfer("alice", "ghost", "USD", 400, "t1");
        var stale = (ContractWorld.DeliveryMessage)_w.Network[0];
        _w.DeliverAll();
        _w.Open("ghost");
        _w.Network.Add(stale);
        _w.DeliverAll();
        Assert.Equal(0, _w.Balance("ghost", "USD").Posted);
        Assert.Equal(1_000, _w.Balance("alice", "USD").Posted);
    }

    [Fact]
    public void Redelivered_credit_lands_once()
    {
        _w.Transfer("alice", "bob", "USD", 300, "t1");
        _w.Handle(0, duplicate: true);
        _w.Handle(0, duplicate: true);
        _w.DeliverAll();
        Assert.Equal(300, _w.Balance("bob", "USD").Posted);
    }

    [Theory]
    [InlineData("alice", 1UL, Codes.SameAccount)]
    [InlineData("bob", 0UL, Codes.ZeroAmount)]
    public void Malformed_transfers_are_rejected_and_recorded(string to, ulong amount, string code)
    {
        _w.Transfer("alice", to, "USD", amount, "t1");
        Assert.Equal(code, Tx("alice", "t1").Code);
    }

    [Fact]
    public void Unknown_payer_is_refused_without_recording_anything()
    {
        var d = _w.Transfer("nobody", "bob", "USD", 1, "t1");
        Assert.Equal(Codes.AccountNotFound, d.Rejection);
        Assert.Empty(d.Events);
    }

    [Fact]
    public void Issuer_supply_is_bounded_so_every_balance_fits()
    {
        var s = _w.State(new("bank"));
        var huge = new TransferRequest(new("big"), new("alice"), new("USD"), new Amount((UInt128)Int128.MaxValue), false, null);
        var d = AccountContract.StartTransfer(s, huge, _w.Now);
        Assert.Equal(Codes.SupplyOverflow, Assert.IsType<TransferRejected>(Assert.Single(d.Events)).Code);
    }

    [Fact]
    public void Pending_reserves_then_partial_post_moves_part_and_releases_the_rest()
    {
        _w.Transfer("alice", "bob", "USD", 400, "p1", pending: true);
        _w.DeliverAll();
        Assert.Equal(TransferStatus.Pending, Tx("alice", "p1").Status);
        Assert.Equal(400, (int)_w.Balance("alice", "USD").PendingOut.Value);
        Assert.Equal(600, _w.Balance("alice", "USD").Available);
        Assert.Equal(400, (int)_w.Balance("bob", "USD").PendingIn.Value);

        var post = _w.Post("alice", "p1", 150);
        Assert.Null(post.Rejection);
        _w.DeliverAll();
        Assert.Equal(850, _w.Balance("alice", "USD").Posted);
        Assert.Equal(0, (int)_w.Balance("alice", "USD").PendingOut.Value);
        Assert.Equal(150, _w.Balance("bob", "USD").Posted);
        Assert.Equal(0, (int)_w.Balance("bob", "USD").PendingIn.Value);
        Assert.Equal(0, _w.Sums()[new AssetId("USD")]);
    }

    [Fact]
    public void Reserved_amount_is_not_spendable()
    {
        _w.Transfer("alice", "bob", "USD", 900, "p1", pending: true);
        _w.Transfer("alice", "bob", "USD", 200, "t1");
        Assert.Equal(Codes.InsufficientFunds, Tx("alice", "t1").Code);
    }

    [Fact]
    public void Void_releases_and_second_void_is_a_retry()
    {
        _w.Transfer("alice", "bob", "USD", 400, "p1", pending: true);
        _w.DeliverAll();
        Assert.Null(_w.Void("alice", "p1").Rejection);
        _w.DeliverAll();
        Assert.Equal(1_000, _w.Balance("alice", "USD").Available);
        Assert.Equal(0, (int)_w.Balance("bob", "USD").PendingIn.Value);
        var again = _w.Void("alice", "p1");
        Assert.Null(again.Rejection);
        Assert.Empty(again.Events);
        Assert.Equal(Codes.AlreadyVoided, _w.Post("alice", "p1").Rejection);
    }

    [Fact]
    public void Post_twice_with_the_same_request_is_a_retry_and_otherwise_already_posted()
    {
        _w.Transfer("alice", "bob", "USD", 400, "p1", pending: true);
        _w.DeliverAll();
        _w.Post("alice", "p1", 100);
        Assert.Empty(_w.Post("alice", "p1", 100).Events);
        Assert.Null(_w.Post("alice", "p1", 100).Rejection);
        Assert.Equal(Codes.AlreadyPosted, _w.Post("alice", "p1", 200).Rejection);
        Assert.Equal(Codes.AlreadyPosted, _w.Void("alice", "p1").Rejection);
    }

    [Fact]
    public void Post_above_the_pending_amount_is_refused()
    {
        _w.Transfer("alice", "bob", "USD", 400, "p1", pending: true);
        _w.DeliverAll();
        Assert.Equal(Codes.AmountExceedsPending, _w.Post("alice", "p1", 401).Rejection);
    }

    [Fact]
    public void Post_or_void_of_an_unknown_or_immediate_transfer_is_pending_not_found()
    {
        _w.Transfer("alice", "bob", "USD", 1, "t1");
        _w.DeliverAll();
        Assert.Equal(Codes.PendingNotFound, _w.Post("alice", "t1").Rejection);
        Assert.Equal(Codes.PendingNotFound, _w.Void("alice", "nope").Rejection);
    }

    [Fact]
    public void Post_before_the_reservation_is_confirmed_asks_to_retry()
    {
        _w.Transfer("alice", "bob", "USD", 400, "p1", pending: true);
        Assert.Equal(Codes.Unavailable, _w.Post("alice", "p1").Rejection);
    }

    [Fact]
    public void Pending_expires_at_its_deadline_and_releases_both_sides()
    {
        _w.Transfer("alice", "bob", "USD", 400, "p1", pending: true, timeoutMs: 1_000);
        _w.DeliverAll();
        _w.Now += 999;
        _w.Expire("alice");
        Assert.Equal(TransferStatus.Pending, Tx("alice", "p1").Status);
        _w.Now += 1;
        _w.Expire("alice");
        _w.DeliverAll();
        Assert.Equal(TransferStatus.Expired, Tx("alice", "p1").Status);
        Assert.Equal(1_000, _w.Balance("alice", "USD").Available);
        Assert.Equal(0, (int)_w.Balance("bob", "USD").PendingIn.Value);
        Assert.Equal(TransferStatus.Expired, _w.Record(new("bob"), new("alice"), new("p1"))!.Status);
    }

    [Fact]
    public void Posting_after_the_deadline_expires_it_instead()
    {
        _w.Transfer("alice", "bob", "USD", 400, "p1", pending: true, timeoutMs: 10);
        _w.DeliverAll();
        _w.Now += 10;
        var d = _w.Post("alice", "p1");
        Assert.Equal(Codes.PendingExpired, d.Rejection);
        Assert.IsType<PendingExpired>(Assert.Single(d.Events));
        Assert.Equal(Codes.PendingExpired, _w.Post("alice", "p1").Rejection);
    }

    [Fact]
    public void Opening_twice_with_the_same_owner_is_a_retry_and_with_another_is_account_exists()
    {
        var s = _w.State(new("alice"));
        Assert.Empty(AccountContract.Open(s, "alice", _w.Now).Events);
        Assert.Equal(Codes.AccountExists, AccountContract.Open(s, "mallory", _w.Now).Rejection);
    }

    [Fact]
    public void Snapshot_restores_the_same_state()
    {
        _w.Transfer("alice", "bob", "USD", 400, "p1", pending: true, timeoutMs: 5_000);
        _w.Transfer("alice", "ghost", "USD", 1, "t2");
        _w.DeliverAll();
        foreach (var (id, s) in _w.Accounts)
        {
            var restored = AccountSnapshot.Of(s).Restore(id, s.HistoryKeep);
            Assert.Equivalent(AccountSnapshot.Of(s), AccountSnapshot.Of(restored), strict: true);
            Assert.Equal(s.Outgoing.Keys.Select(k => k.Value).Order(), restored.Outgoing.Keys.Select(k => k.Value).Order());
            Assert.Equal(s.Incoming.Keys.Select(k => k.From + "/" + k.Id).Order(), restored.Incoming.Keys.Select(k => k.From + "/" + k.Id).Order());
        }
    }
}

/// <summary>A saga's hold taken for the worst case before the pools are priced, and its commit with the exact legs.</summary>
public class WorstCaseHoldTests
{
    private static readonly AssetId Usd = new("USD"), Eur = new("EUR");
    private static readonly SagaKey Saga = new(new AccountId("alice"), new TxId("r1"));

    /// <summary>alice, holding 1,000 USD, with a hold for an exact-output swap of at most 800 USD (worst case: 800 out, nothing back).</summary>
    private static (AccountState Alice, SagaOpAt[] Ops) Held()
    {
        var alice = new AccountState { Id = new("alice") };
        AccountContract.Apply(alice, new AccountOpened("alice", 0));
        AccountContract.Apply(alice, new TransferCredited(new("bank"), new("mint"), Usd, 1_000, false, null, 0));
        SagaOpAt[] ops = [new(0, new SwapOp(new("r1"), new("alice"), [new PoolId("usd-eur")], Usd, 800, AmountOut: 500))];
        var (held, _, code) = AccountContract.PrepareSaga(alice, Saga, ops, SagaPlanner.WorstCaseLegsOf(ops, alice.Id), 10_000, 1);
        Assert.Null(code);
        foreach (var e in held) AccountContract.Apply(alice, e);
        return (alice, ops);
    }

    [Fact]
    public void The_commit_moves_the_exact_legs_and_releases_the_whole_worst_case_hold()
    {
        var (alice, ops) = Held();
        Assert.Equal((Amount)800, alice.Balances[Usd].PendingOut);
        // The pools asked 612 USD for the 500 EUR: that is what leaves, and the rest of the hold is free again.
        SagaLeg[] exact = [new(0, Usd, 612, false), new(0, Eur, 500, true)];
        var applied = AccountContract.ResolveSaga(alice, Saga, true, -1, null, ops, [new OpFill([Usd, Eur], [612, 500])], 2, exact);
        foreach (var e in applied) AccountContract.Apply(alice, e);
        Assert.Equal(((Int128)(1_000 - 612), (Int128)500), (alice.Balances[Usd].Posted, alice.Balances[Eur].Posted));
        Assert.Equal((Amount.Zero, (Int128)388), (alice.Balances[Usd].PendingOut, alice.Balances[Usd].Available));
    }

    [Fact]
    public void A_commit_whose_legs_the_hold_does_not_cover_is_refused_as_a_bug()
    {
        var (alice, ops) = Held();
        SagaLeg[] beyond = [new(0, Usd, 801, false), new(0, Eur, 500, true)];
        Assert.Throws<InvalidOperationException>(() => AccountContract.ResolveSaga(alice, Saga, true, -1, null, ops, null, 2, beyond));
        // Aborted, the hold is released and nothing moves.
        foreach (var e in AccountContract.ResolveSaga(alice, Saga, false, 0, Codes.SlippageExceeded, ops, null, 2)) AccountContract.Apply(alice, e);
        Assert.Equal(((Int128)1_000, Amount.Zero), (alice.Balances[Usd].Posted, alice.Balances[Usd].PendingOut));
    }
}

/// <summary>An account only paid in a saga votes without a record; its credit is recorded once, with the commit.</summary>
public class PayeeOnlyVoteTests
{
    private static readonly AssetId Usd = new("USD");
    private static readonly SagaKey Saga = new(new AccountId("alice"), new TxId("b1"));
    private static readonly SagaOpAt[] Ops = [new(0, new TransferOp(new("b1"), new("alice"), new("bob"), Usd, 40))];

    private static AccountState Open(string id)
    {
        var s = new AccountState { Id = new(id) };
        AccountContract.Apply(s, new AccountOpened(id, 0));
        return s;
    }

    [Fact]
    public void The_payee_records_nothing_to_vote_yes_and_one_credit_at_the_commit()
    {
        var bob = Open("bob");
        SagaLeg[] credit = [new(0, Usd, 40, true)];
        var (events, _, code) = AccountContract.PrepareSaga(bob, Saga, Ops, credit, 10_000, 1);
        Assert.Equal((0, (string?)null), (events.Count, code));

        foreach (var e in AccountContract.ResolveSaga(bob, Saga, true, -1, null, Ops, [OpFill.Transfer], 2, credit)) AccountContract.Apply(bob, e);
        Assert.Equal((Int128)40, bob.Balances[Usd].Posted);
        Assert.Equal(TransferStatus.Committed, bob.RecentHistory.Single(t => t.Id == new TxId("b1")).Status);
        Assert.Empty(AccountContract.ResolveSaga(bob, Saga, true, -1, null, Ops, [OpFill.Transfer], 3, credit));
    }

    [Fact]
    public void A_commit_reaching_a_payer_that_never_voted_is_still_refused_as_a_bug()
    {
        var alice = Open("alice");
        AccountContract.Apply(alice, new TransferCredited(new("bank"), new("mint"), Usd, 100, false, null, 0));
        SagaLeg[] debit = [new(0, Usd, 40, false)];
        Assert.Throws<InvalidOperationException>(() => AccountContract.ResolveSaga(alice, Saga, true, -1, null, Ops, [OpFill.Transfer], 2, debit));
        // And a payee paid by its own operation is a payer too: it votes with a record.
        var (events, _, _) = AccountContract.PrepareSaga(alice, Saga, Ops, [new(0, Usd, 40, true)], 10_000, 1);
        Assert.Single(events);
    }
}
