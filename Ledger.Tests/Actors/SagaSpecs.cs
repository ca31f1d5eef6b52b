using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;

namespace Ledger.Tests.Actors;

/// <summary>Accounts, two pools (p1 = X/Y, p2 = Y/Z) and sagas as entities, with the helpers the saga specs share.</summary>
public abstract class SagaWorld : Akka.TestKit.Xunit2.TestKit
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    /// <summary>For many sagas and swaps asked at once, each answered only after those queued before it on the same pools.</summary>
    protected static readonly TimeSpan WaitForAll = TimeSpan.FromSeconds(120);
    protected static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    protected static readonly PoolId P1 = new("p1"), P2 = new("p2");
    protected static readonly AssetId X = new("X"), Y = new("Y"), Z = new("Z");
    protected IActorRef Accounts { get; }
    protected IActorRef Pools { get; }
    protected IActorRef Sagas { get; }
    protected string SystemName => Sys.Name;
    private readonly EntityWorld _world;

    protected SagaWorld(SagaSettings sagaSettings, PoolSettings? poolSettings = null) : base(SpecConfig.Local(), "saga-spec-" + Guid.NewGuid().ToString("N")[..8])
    {
        var accountSettings = new AccountSettings { RedeliverAfter = TimeSpan.FromMilliseconds(200), KeepSettled = 0, SnapshotEveryEvents = 3 };
        poolSettings ??= new PoolSettings { AskSagaEvery = TimeSpan.FromMilliseconds(200), SnapshotEveryEvents = 3 };
        _world = new EntityWorld(Sys, TimeProvider.System, accountSettings, poolSettings, sagaSettings);
        (Accounts, Pools, Sagas) = (_world.Accounts, _world.Pools, _world.Sagas);
    }

    protected static T Ask<T>(IActorRef to, object message) => to.Ask<T>(message, Wait).GetAwaiter().GetResult();

    protected void Mint(AssetId asset, string account, ulong amount) => _world.Mint(asset, account, amount);

    /// <summary>p1 = X/Y and p2 = Y/Z, each with 1,000,000 of both, deposited by "lp".</summary>
    protected void TwoPools()
    {
        Mint(X, "lp", 1_000_000);
        Mint(Y, "lp", 2_000_000);
        Mint(Z, "lp", 1_000_000);
        foreach (var (pool, a, b) in new[] { (P1, X, Y), (P2, Y, Z) })
        {
            Ask<PoolView>(Pools, new CreatePool(pool, a, b, 30));
            var d = Ask<TransferOutcome>(Accounts, new CallPool(new("lp"), new("d-" + pool), new PoolCall(pool, PoolCallKind.Deposit, [new Leg(a, 1_000_000), new Leg(b, 1_000_000)])));
            Assert.Equal(TransferStatus.Committed, d.Transaction!.Status);
        }
    }

    protected static SwapOp Route(string account, string id, ulong amountIn, ulong minOut = 0, params PoolId[] route) =>
        new(new(id), new(account), route.Length > 0 ? route : [P1, P2], X, amountIn, MinOut: minOut);

    /// <summary>The route call <c>POST /v1/swaps</c> sends for X→Y→Z: to p1, its coordinator (the lower of p1 and p2).</summary>
    protected static CallPool RouteCall(string account, string id, ulong amountIn, ulong minOut = 0) =>
        new(new(account), new(id), new PoolCall(P1, PoolCallKind.SwapExactIn, [new Leg(X, amountIn)], Z, MinOut: minOut, Route: [P1, P2]));

    protected TransferOutcome RunRoute(string account, string id, ulong amountIn, ulong minOut = 0) =>
        Ask<TransferOutcome>(Accounts, RouteCall(account, id, amountIn, minOut));

    protected SagaOutcome Run(params SagaOp[] ops) => Ask<SagaOutcome>(Sagas, new StartSaga(new SagaKey(ops[0].Account, ops[0].Id), ops));

    protected Int128 Posted(string account, AssetId asset) =>
        Ask<AccountView>(Accounts, new GetAccount(new(account))).Balances.SingleOrDefault(b => b.Asset == asset)?.Posted ?? 0;

    protected Amount PendingOut(string account, AssetId asset) =>
        Ask<AccountView>(Accounts, new GetAccount(new(account))).Balances.SingleOrDefault(b => b.Asset == asset)?.PendingOut ?? Amount.Zero;

    protected (UInt128, UInt128) Reserves(PoolId pool)
    {
        var p = Ask<PoolView>(Pools, new GetPool(pool));
        return (p.ReserveA.Value, p.ReserveB.Value);
    }

    /// <summary>Per asset over the accounts named and both pools: holdings plus in flight. Conservation says zero.</summary>
    protected void AssertConserved(params string[] accounts)
    {
        var sums = new Dictionary<AssetId, Int128>();
        var all = accounts.Append("bank").Append("lp").Select(a => Ask<Holdings>(Accounts, new GetHoldings(new(a))))
            .Append(Ask<Holdings>(Pools, new GetPoolHoldings(P1))).Append(Ask<Holdings>(Pools, new GetPoolHoldings(P2)));
        foreach (var h in all.SelectMany(h => h.Items)) sums[h.Asset] = sums.GetValueOrDefault(h.Asset) + h.Held + (Int128)h.InFlight.Value;
        Assert.All(sums, kv => Assert.Equal(0, kv.Value));
    }

}

/// <summary>Two-hop routes and atomic batches commit on every participant or on none; concurrent sagas never deadlock.</summary>
public class SagaSpecs() : SagaWorld(new SagaSettings { RetryAfter = TimeSpan.FromMilliseconds(200) })
{
    [Fact]
    public void A_two_hop_route_moves_both_pools_and_the_trader_as_Uniswap_chains_them()
    {
        TwoPools();
        Mint(X, "alice", 10_000);
        var outcome = Run(Route("alice", "r1", 10_000));

        // From UniswapV2Library.getAmountOut written in the test, not PoolMath: 10,000 in gives 9,871 out.
        var y = new Amount((UInt128)UniswapV2.AmountOut(10_000, 1_000_000, 1_000_000));
        var z = new Amount((UInt128)UniswapV2.AmountOut(y.Value, 1_000_000, 1_000_000));
        Assert.True(outcome.Committed);
        Assert.Equal([10_000, y, z], outcome.Results.Single().Fill!.Amounts!);
        Assert.Equal(0, Posted("alice", X));
        Assert.Equal((Int128)z.Value, Posted("alice", Z));
        Assert.Equal(0, Posted("alice", Y));
        Assert.Equal(((UInt128)1_010_000, 1_000_000 - y.Value), Reserves(P1));
        Assert.Equal((1_000_000 + y.Value, 1_000_000 - z.Value), Reserves(P2));
        Assert.Equal(Amount.Zero, PendingOut("alice", X));
        var record = Ask<TransferOutcome>(Accounts, new GetTransaction(new("alice"), new("r1"))).Transaction!;
        Assert.Equal(TransferStatus.Committed, record.Status);
        Assert.Equal(z, record.Fill!.AmountOut);
        AssertConserved("alice");

        // The same request again is answered from the record; another body under the id is a conflict.
        Assert.Equal(outcome.Results.Single().Fill!.Amounts, Run(Route("alice", "r1", 10_000)).Results.Single().Fill!.Amounts);
        Assert.Equal(Codes.IdConflict, Ask<Rejected>(Sagas, new StartSaga(new(new("alice"), new("r1")), [Route("alice", "r1", 9_999)])).Code);
    }

    [Fact]
    public void A_route_whose_last_hop_misses_its_minimum_leaves_both_pools_and_the_trader_as_they_were()
    {
        TwoPools();
        Mint(X, "alice", 10_000);
        var outcome = Run(Route("alice", "r1", 10_000, minOut: 9_900));

        Assert.False(outcome.Committed);
        Assert.Equal(Codes.SlippageExceeded, outcome.Results.Single().Code);
        Assert.Equal(10_000, Posted("alice", X));
        Assert.Equal(Amount.Zero, PendingOut("alice", X));
        Assert.Equal(((UInt128)1_000_000, (UInt128)1_000_000), Reserves(P1));
        Assert.Equal(((UInt128)1_000_000, (UInt128)1_000_000), Reserves(P2));
        Assert.Equal(Codes.SlippageExceeded, Ask<TransferOutcome>(Accounts, new GetTransaction(new("alice"), new("r1"))).Transaction!.Code);
        // Both locks are released: a single-pool swap goes through at the untouched price.
        var swap = Ask<TransferOutcome>(Accounts, new CallPool(new("alice"), new("s1"), new PoolCall(P1, PoolCallKind.SwapExactIn, [new Leg(X, 1_000)], Y)));
        Assert.Equal(new Amount((UInt128)UniswapV2.AmountOut(1_000, 1_000_000, 1_000_000)), swap.Transaction!.Returned!.Single().Amount);
        AssertConserved("alice");
    }

    [Fact]
    public void An_atomic_batch_with_one_bad_operation_changes_nothing_and_names_it()
    {
        TwoPools();
        Mint(X, "alice", 1_000);
        Mint(X, "bob", 50);
        Ask<AccountView>(Accounts, new OpenAccount(new("carol"), "carol"));
        var outcome = Run(
            new TransferOp(new("b1"), new("alice"), new("carol"), X, 100),
            Route("alice", "b2", 500),
            new TransferOp(new("b3"), new("bob"), new("alice"), X, 51));

        Assert.False(outcome.Committed);
        Assert.Equal([Codes.LinkedOperationFailed, Codes.LinkedOperationFailed, Codes.InsufficientFunds], outcome.Results.Select(r => r.Code));
        Assert.Equal(1_000, Posted("alice", X));
        Assert.Equal(50, Posted("bob", X));
        Assert.Equal(((UInt128)1_000_000, (UInt128)1_000_000), Reserves(P1));
        Assert.Equal(Amount.Zero, PendingOut("alice", X));
        Assert.Equal(Codes.LinkedOperationFailed, Ask<TransferOutcome>(Accounts, new GetTransaction(new("alice"), new("b2"))).Transaction!.Code);
        Assert.Equal(Codes.InsufficientFunds, Ask<TransferOutcome>(Accounts, new GetTransaction(new("bob"), new("b3"))).Transaction!.Code);
        AssertConserved("alice", "bob");
    }

    [Fact]
    public void An_atomic_batch_runs_its_operations_in_order_so_a_later_one_may_spend_what_an_earlier_one_brought()
    {
        TwoPools();
        Mint(X, "alice", 1_000);
        Ask<AccountView>(Accounts, new OpenAccount(new("bob"), "bob"));
        Ask<AccountView>(Accounts, new OpenAccount(new("carol"), "carol"));
        // bob holds nothing: his transfer is covered by the swap output alice sends him first.
        var outcome = Run(
            Route("alice", "o1", 1_000, 0, P1),
            new TransferOp(new("o2"), new("alice"), new("bob"), Y, 900),
            new TransferOp(new("o3"), new("bob"), new("carol"), Y, 900));

        Assert.True(outcome.Committed, string.Join(",", outcome.Results.Select(r => r.Code)));
        var y = new Amount((UInt128)UniswapV2.AmountOut(1_000, 1_000_000, 1_000_000));
        Assert.Equal((Int128)y.Value - 900, Posted("alice", Y));
        Assert.Equal(0, Posted("bob", Y));
        Assert.Equal(900, Posted("carol", Y));
        var received = Ask<TransactionPage>(Accounts, new ListTransactions(new("carol"), 10, null)).Items.Single();
        Assert.Equal((new AccountId("bob"), TransferStatus.Committed), (received.From, received.Status));
        AssertConserved("alice", "bob", "carol");
    }

    [Fact]
    public async Task Routes_crossing_the_same_pools_in_opposite_directions_never_deadlock_and_keep_every_asset_summing_to_zero()
    {
        TwoPools();
        var traders = Enumerable.Range(0, 40).Select(i => "t" + i).ToArray();
        foreach (var t in traders)
        {
            Mint(X, t, 1_001);
            Mint(Z, t, 1_000);
        }
        // Half go X→Y→Z through p1 then p2, half Z→Y→X through p2 then p1, all at once, with single-pool swaps between.
        var routes = traders.Select((t, i) => Sagas.Ask<SagaOutcome>(new StartSaga(new(new(t), new("r")),
            [i % 2 == 0 ? Route(t, "r", 1_000) : new SwapOp(new("r"), new(t), [P2, P1], Z, 1_000)]), WaitForAll)).ToArray();
        var singles = traders.Select(t => Accounts.Ask<TransferOutcome>(
            new CallPool(new(t), new("s"), new PoolCall(P1, PoolCallKind.SwapExactIn, [new Leg(X, 1)], Y)), WaitForAll)).ToArray();
        var outcomes = await Task.WhenAll(routes);
        await Task.WhenAll(singles);

        Assert.All(outcomes, o => Assert.True(o.Committed, o.Results[0].Code));
        AssertConserved(traders);
        Assert.All(traders, t => Assert.Equal(Amount.Zero, PendingOut(t, X)));
    }

}

/// <summary>
/// Crash points of the protocol: sagas pause between the last vote and the decision (a failpoint), and the spec
/// stops the coordinator in that window. Its pause outlasts the locks (3 s), so only the participants' expiry and
/// their question to the saga can end it: the saga, restarted, finds no decision and aborts; nothing stays held.
/// </summary>
public class SagaCoordinatorCrashSpecs() : SagaWorld(new SagaSettings
{
    RetryAfter = TimeSpan.FromMilliseconds(200),
    LockTimeout = TimeSpan.FromSeconds(3),
    PauseBeforeDecision = TimeSpan.FromSeconds(30),
})
{
    [Fact]
    public void A_coordinator_stopped_between_the_votes_and_the_decision_is_aborted_by_the_participants_and_nothing_stays_held()
    {
        TwoPools();
        Mint(X, "alice", 10_000);
        Sagas.Tell(new StartSaga(new(new("alice"), new("r1")), [Route("alice", "r1", 10_000)]));
        AwaitCondition(() => PendingOut("alice", X) == 10_000, Wait, Poll);
        // Every vote is in and durable; the decision is not. The coordinator dies.
        Sagas.Tell(new EntityParent.Kill("alice/r1"));

        // The pools' locks and alice's hold expire; they ask the saga, which finds no decision and aborts.
        AwaitCondition(() => PendingOut("alice", X) == Amount.Zero, Wait, Poll);
        var outcome = Run(Route("alice", "r1", 10_000));
        Assert.False(outcome.Committed);
        Assert.Equal(Codes.LockTimeout, outcome.Results.Single().Code);
        Assert.Equal(10_000, Posted("alice", X));
        Assert.Equal(((UInt128)1_000_000, (UInt128)1_000_000), Reserves(P1));
        Assert.Equal(((UInt128)1_000_000, (UInt128)1_000_000), Reserves(P2));
        // The pools are free again.
        var first = Ask<TransferOutcome>(Accounts, new CallPool(new("alice"), new("s1"), new PoolCall(P1, PoolCallKind.SwapExactIn, [new Leg(X, 1_000)], Y)));
        var second = Ask<TransferOutcome>(Accounts, new CallPool(new("alice"), new("s2"), new PoolCall(P2, PoolCallKind.SwapExactIn, [new Leg(Y, 100)], Z)));
        Assert.Equal((TransferStatus.Committed, TransferStatus.Committed), (first.Transaction!.Status, second.Transaction!.Status));
        AssertConserved("alice");
    }
}

/// <summary>
/// Participants stopped between the last vote and the decision (the saga pauses there, a failpoint): their votes
/// are durable, so the saga commits, and they apply it after recovery.
/// </summary>
public class SagaCrashSpecs() : SagaWorld(new SagaSettings
{
    RetryAfter = TimeSpan.FromMilliseconds(200),
    // The locks must outlast the pause and the participants' recovery, or a lock expiring first would abort the
    // saga: 30 s is far beyond both on a loaded machine, and nothing here waits for it to pass.
    LockTimeout = TimeSpan.FromSeconds(30),
    PauseBeforeDecision = TimeSpan.FromSeconds(1.5),
})
{

    [Fact]
    public async Task A_trader_and_a_pool_stopped_between_the_votes_and_the_decision_apply_the_commit_after_recovery()
    {
        TwoPools();
        Mint(X, "alice", 10_000);
        var pending = Sagas.Ask<SagaOutcome>(new StartSaga(new(new("alice"), new("r1")), [Route("alice", "r1", 10_000)]), Wait);
        AwaitCondition(() => PendingOut("alice", X) == 10_000, Wait, Poll);
        Accounts.Tell(new EntityParent.Kill("alice"));
        Pools.Tell(new EntityParent.Kill(P2.Value));

        var outcome = await pending;
        Assert.True(outcome.Committed);
        var z = outcome.Results.Single().Fill!.AmountOut;
        Assert.Equal((Int128)z.Value, Posted("alice", Z));
        Assert.Equal(0, Posted("alice", X));
        Assert.Equal(Amount.Zero, PendingOut("alice", X));
        Assert.Equal(1_000_000 - z.Value, Reserves(P2).Item2);
        AssertConserved("alice");
    }
}

/// <summary>The node's admission of sagas to their locks: how many at once, the queue's order and bound, places given back.</summary>
public class SagaAdmissionSpecs() : Akka.TestKit.Xunit2.TestKit(SpecConfig.Local())
{
    [Fact]
    public void At_most_max_sagas_hold_a_place_the_rest_wait_in_order_and_beyond_the_queue_are_refused()
    {
        var admission = Sys.ActorOf(SagaAdmission.Props(max: 2, queueMax: 2));
        var sagas = Enumerable.Range(0, 5).Select(_ => CreateTestProbe()).ToArray();
        foreach (var saga in sagas) admission.Tell(AdmitSaga.Instance, saga.Ref);

        sagas[0].ExpectMsg<SagaAdmitted>();
        sagas[1].ExpectMsg<SagaAdmitted>();
        sagas[4].ExpectMsg<SagaAdmissionFull>();
        sagas[2].ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        sagas[3].ExpectNoMsg(TimeSpan.Zero);

        // A place given back goes to the first in the queue; one whose saga stopped is given back too.
        admission.Tell(LeaveSaga.Instance, sagas[1].Ref);
        sagas[2].ExpectMsg<SagaAdmitted>();
        sagas[3].ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Sys.Stop(sagas[0].Ref);
        sagas[3].ExpectMsg<SagaAdmitted>();
    }

    [Fact]
    public void A_saga_that_stops_while_waiting_loses_its_turn_and_the_next_one_gets_the_place()
    {
        var admission = Sys.ActorOf(SagaAdmission.Props(max: 1, queueMax: 10));
        var (holder, gone, next) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        admission.Tell(AdmitSaga.Instance, holder.Ref);
        holder.ExpectMsg<SagaAdmitted>();
        admission.Tell(AdmitSaga.Instance, gone.Ref);
        admission.Tell(AdmitSaga.Instance, next.Ref);
        Sys.Stop(gone.Ref);
        // Asking again while holding the place changes nothing.
        admission.Tell(AdmitSaga.Instance, holder.Ref);
        holder.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        admission.Tell(LeaveSaga.Instance, holder.Ref);
        next.ExpectMsg<SagaAdmitted>();
    }
}

/// <summary>Routes through a node that admits one saga to its locks at a time: they queue, and every one commits.</summary>
public class SagaOneAtATimeSpecs() : SagaWorld(new SagaSettings { RetryAfter = TimeSpan.FromMilliseconds(200), MaxLocking = 1 })
{
    [Fact]
    public async Task Routes_queued_for_admission_all_commit_and_hold_nothing_afterwards()
    {
        TwoPools();
        var traders = Enumerable.Range(0, 20).Select(i => "t" + i).ToArray();
        foreach (var t in traders) Mint(X, t, 1_000);
        var outcomes = await Task.WhenAll(traders.Select(t => Sagas.Ask<SagaOutcome>(new StartSaga(new(new(t), new("r")), [Route(t, "r", 1_000)]), WaitForAll)));

        Assert.All(outcomes, o => Assert.True(o.Committed, o.Results[0].Code));
        Assert.All(traders, t => Assert.Equal(Amount.Zero, PendingOut(t, X)));
        AssertConserved(traders);
    }
}

/// <summary>A node whose admission queue is full answers <see cref="Busy"/> (503 at the gateway) and records nothing.</summary>
public class SagaAdmissionFullSpecs() : SagaWorld(new SagaSettings
{
    RetryAfter = TimeSpan.FromMilliseconds(200),
    MaxLocking = 1,
    AdmissionQueueMax = 0,
    // The first route keeps its place this long, so the second finds none.
    PauseBeforeDecision = TimeSpan.FromSeconds(2),
})
{
    [Fact]
    public async Task A_route_beyond_the_queue_is_answered_busy_changes_nothing_and_its_retry_commits()
    {
        TwoPools();
        Mint(X, "alice", 1_000);
        Mint(X, "bob", 1_000);
        var first = Sagas.Ask<SagaOutcome>(new StartSaga(new(new("alice"), new("r")), [Route("alice", "r", 1_000)]), Wait);
        AwaitCondition(() => PendingOut("alice", X) == 1_000, Wait, Poll);

        var busy = Ask<Busy>(Sagas, new StartSaga(new(new("bob"), new("r")), [Route("bob", "r", 1_000)]));
        Assert.Contains("waiting", busy.What);
        Assert.Equal(1_000, Posted("bob", X));
        Assert.Equal(Amount.Zero, PendingOut("bob", X));

        Assert.True((await first).Committed);
        Assert.True(Run(Route("bob", "r", 1_000)).Committed);
        AssertConserved("alice", "bob");
    }
}
