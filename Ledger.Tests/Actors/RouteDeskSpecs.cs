using Akka.Actor;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;

namespace Ledger.Tests.Actors;

/// <summary>
/// Routes run by their coordinator pool (<see cref="RouteDesk"/>; p1 coordinates X→Y→Z through p1 and p2): every hop or
/// none, many routes per lock of the other pool, exactly once across redeliveries, and with sagas locking the same pools.
/// </summary>
public class RouteDeskSpecs() : SagaWorld(new SagaSettings { RetryAfter = TimeSpan.FromMilliseconds(200) }, new PoolSettings
{
    AskSagaEvery = TimeSpan.FromMilliseconds(200),
    SnapshotEveryEvents = 3,
    RouteRetryAfter = TimeSpan.FromMilliseconds(200),
})
{
    [Fact]
    public void A_route_moves_both_pools_and_the_trader_as_Uniswap_chains_them_and_is_answered_once()
    {
        TwoPools();
        Mint(X, "alice", 10_000);
        var outcome = RunRoute("alice", "r1", 10_000);

        // getAmountOut written in the test: 10,000 X gives y, which gives z.
        var y = (UInt128)UniswapV2.AmountOut(10_000, 1_000_000, 1_000_000);
        var z = (UInt128)UniswapV2.AmountOut(y, 1_000_000, 1_000_000);
        Assert.Equal(TransferStatus.Committed, outcome.Transaction!.Status);
        Assert.Equal([10_000, y, z], outcome.Transaction.Fill!.Amounts!.Select(a => a.Value));
        Assert.Equal([X, Y, Z], outcome.Transaction.Fill.Path!);
        Assert.Equal((Int128)z, Posted("alice", Z));
        Assert.Equal(0, Posted("alice", X));
        Assert.Equal(((UInt128)1_010_000, 1_000_000 - y), Reserves(P1));
        Assert.Equal((1_000_000 + y, 1_000_000 - z), Reserves(P2));
        Assert.Null(Ask<PoolView>(Pools, new GetPool(P2)).LockedBy);
        AssertConserved("alice");

        // Again: the recorded answer; another body under the id: a conflict, and nothing moves.
        Assert.Equal(z, RunRoute("alice", "r1", 10_000).Transaction!.Fill!.AmountOut.Value);
        Assert.Equal(Codes.IdConflict, RunRoute("alice", "r1", 9_999).Code);
        Assert.Equal((1_000_000 + y, 1_000_000 - z), Reserves(P2));
    }

    [Fact]
    public void A_route_below_its_minimum_returns_the_input_and_moves_neither_pool()
    {
        TwoPools();
        Mint(X, "alice", 10_000);
        var outcome = RunRoute("alice", "r1", 10_000, minOut: 9_900);

        Assert.Equal((TransferStatus.Rejected, Codes.SlippageExceeded), (outcome.Transaction!.Status, outcome.Transaction.Code));
        Assert.Equal(10_000, Posted("alice", X));
        Assert.Equal(((UInt128)1_000_000, (UInt128)1_000_000), Reserves(P1));
        Assert.Equal(((UInt128)1_000_000, (UInt128)1_000_000), Reserves(P2));
        Assert.Null(Ask<PoolView>(Pools, new GetPool(P2)).LockedBy);
        AssertConserved("alice");
    }

    [Fact]
    public async Task Routes_waiting_behind_a_lock_are_priced_together_in_arrival_order_each_all_or_nothing()
    {
        TwoPools();
        var traders = Enumerable.Range(0, 20).Select(i => "t" + i).ToArray();
        foreach (var t in traders) Mint(X, t, 2_000);
        // Another holds p2: the routes gather at p1 meanwhile.
        var other = new SagaKey(new("someone"), new("else"));
        Assert.NotNull(Ask<PoolLockReply>(Pools, new LockPool(P2, other, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds())).Reserves);
        var writesBefore = CountingJournal.Writes.GetValueOrDefault(CountingJournal.Key(SystemName, "pool-p2"));
        // Every third route asks for more than any route can give: it fails alone, the others go through.
        var routes = traders.Select((t, i) => Accounts.Ask<TransferOutcome>(RouteCall(t, "r", 2_000, i % 3 == 2 ? 1_000_000UL : 0), WaitForAll)).ToArray();
        AwaitCondition(() => traders.All(t => Posted(t, X) == 0), Wait, Poll);
        Ask<PoolUnlockedAck>(Pools, new UnlockPool(P2, other, false, []));
        var outcomes = (await Task.WhenAll(routes)).Select(o => o.Transaction!).ToArray();

        Assert.All(outcomes.Where((_, i) => i % 3 == 2), o => Assert.Equal(Codes.SlippageExceeded, o.Code));
        var committed = outcomes.Where((_, i) => i % 3 != 2).ToArray();
        Assert.All(committed, o => Assert.Equal(TransferStatus.Committed, o.Status));
        // Priced one after another: replaying the committed routes in the order of their first hop's output (the later, the
        // less Y per X) with getAmountOut gives every amount and the final reserves.
        var (x1, y1, y2, z2) = ((System.Numerics.BigInteger)1_000_000, (System.Numerics.BigInteger)1_000_000, (System.Numerics.BigInteger)1_000_000, (System.Numerics.BigInteger)1_000_000);
        foreach (var o in committed.OrderByDescending(o => o.Fill!.Amounts![1].Value))
        {
            var y = UniswapV2.AmountOut(2_000, x1, y1);
            var z = UniswapV2.AmountOut(y, y2, z2);
            Assert.Equal([2_000, (UInt128)y, (UInt128)z], o.Fill!.Amounts!.Select(a => a.Value));
            (x1, y1, y2, z2) = (x1 + 2_000, y1 - y, y2 + y, z2 - z);
        }
        Assert.Equal(((UInt128)x1, (UInt128)y1), Reserves(P1));
        Assert.Equal(((UInt128)y2, (UInt128)z2), Reserves(P2));
        // p2 was locked once per batch, not once per route (a lock and an unlock each): a few writes for 20 routes.
        var p2Writes = CountingJournal.Writes[CountingJournal.Key(SystemName, "pool-p2")] - writesBefore;
        Assert.InRange(p2Writes, 1, 8);
        AssertConserved(traders);
    }

    [Fact]
    public async Task Routes_through_the_coordinator_and_sagas_over_the_same_pools_in_both_directions_never_deadlock()
    {
        TwoPools();
        var traders = Enumerable.Range(0, 40).Select(i => "t" + i).ToArray();
        // Enough of both for a route and a single swap of 1 Z, in whichever order they reach the trader: a Z→Y→X saga whose
        // hold came after the single swap's debit was refused for funds (a failure of the test, not of the locks).
        foreach (var t in traders)
        {
            Mint(X, t, 1_001);
            Mint(Z, t, 1_001);
        }
        // A quarter each: X→Y→Z and Z→Y→X through p1's desk, and the same two as sagas; single swaps between.
        var asked = traders.Select((t, i) => (i % 4) switch
        {
            0 => Accounts.Ask<object>(RouteCall(t, "r", 1_000), WaitForAll),
            1 => Accounts.Ask<object>(new CallPool(new(t), new("r"), new PoolCall(P1, PoolCallKind.SwapExactIn, [new Leg(Z, 1_000)], X, Route: [P2, P1])), WaitForAll),
            2 => Sagas.Ask<object>(new StartSaga(new(new(t), new("r")), [Route(t, "r", 1_000)]), WaitForAll),
            _ => Sagas.Ask<object>(new StartSaga(new(new(t), new("r")), [new Ledger.Contracts.Sagas.SwapOp(new("r"), new(t), [P2, P1], Z, 1_000)]), WaitForAll),
        }).ToArray();
        var singles = traders.Select(t => Accounts.Ask<TransferOutcome>(
            new CallPool(new(t), new("s"), new PoolCall(P2, PoolCallKind.SwapExactIn, [new Leg(Z, 1)], Y)), WaitForAll)).ToArray();
        var outcomes = await Task.WhenAll(asked);
        await Task.WhenAll(singles);

        Assert.All(outcomes, o => Assert.True(o is TransferOutcome { Transaction.Status: TransferStatus.Committed } or SagaOutcome { Committed: true }, o.ToString()));
        Assert.Null(Ask<PoolView>(Pools, new GetPool(P1)).LockedBy);
        Assert.Null(Ask<PoolView>(Pools, new GetPool(P2)).LockedBy);
        AssertConserved(traders);
    }
}

/// <summary>
/// Ages between route batches and lock requests (wound-wait): an older request never waits for a younger batch of the pool
/// it asks. The batches' locks live long here, so that nothing in these specs ends by expiring.
/// </summary>
public class RouteDeskAgeSpecs() : SagaWorld(new SagaSettings { RetryAfter = TimeSpan.FromMilliseconds(200) }, new PoolSettings
{
    AskSagaEvery = TimeSpan.FromMilliseconds(200),
    RouteRetryAfter = TimeSpan.FromMilliseconds(200),
    RouteLockTimeout = TimeSpan.FromMinutes(10),
})
{
    [Fact]
    public void An_older_lock_request_never_waits_for_a_younger_route_batch_which_gives_way_and_still_goes_through_once()
    {
        TwoPools();
        // Another holds p2, so a batch of p1 waits there.
        var other = new SagaKey(new("someone"), new("else"));
        Assert.NotNull(Ask<PoolLockReply>(Pools, new LockPool(P2, other, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds())).Reserves);
        // Sent one after the other to the same region, so p1 has started the route's batch (age: now + 10 min) when the lock
        // request arrives, five minutes older than it.
        var trader = CreateTestProbe();
        var older = CreateTestProbe();
        var route = new PoolCall(P1, PoolCallKind.SwapExactIn, [new Leg(X, 10_000)], Z, Route: [P1, P2]);
        trader.Send(Pools, new ExecutePoolCall(P1, new("alice"), new("r1"), route));
        var old = new SagaKey(new("someone"), new("older"));
        older.Send(Pools, new LockPool(P1, old, DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds()));

        // Granted while the batch still waits at p2: the batch gave way instead of making the older request wait.
        Assert.NotNull(older.ExpectMsg<PoolLockReply>(Wait).Reserves);
        Ask<PoolUnlockedAck>(Pools, new UnlockPool(P1, old, false, []));
        Ask<PoolUnlockedAck>(Pools, new UnlockPool(P2, other, false, []));

        // The route goes through in a batch of its own afterwards, priced as Uniswap chains the two pools, answered once.
        var y = (UInt128)UniswapV2.AmountOut(10_000, 1_000_000, 1_000_000);
        var z = (UInt128)UniswapV2.AmountOut(y, 1_000_000, 1_000_000);
        var answer = trader.ExpectMsg<VenueAnswer>(Wait).Answer;
        Assert.Null(answer.Code);
        Assert.Equal([new Leg(Z, new Amount(z))], answer.Out);
        Assert.Equal(((UInt128)1_010_000, 1_000_000 - y), Reserves(P1));
        Assert.Equal((1_000_000 + y, 1_000_000 - z), Reserves(P2));
        AwaitCondition(() => Ask<PoolView>(Pools, new GetPool(P2)).LockedBy is null, Wait, Poll);
        trader.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_route_batch_that_gave_way_before_its_lock_was_granted_leaves_nothing_at_that_pool()
    {
        TwoPools();
        var other = new SagaKey(new("someone"), new("else"));
        Assert.NotNull(Ask<PoolLockReply>(Pools, new LockPool(P2, other, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds())).Reserves);
        var writes = CountingJournal.Writes[CountingJournal.Key(SystemName, "pool-p2")];
        var coordinator = CreateTestProbe();
        var batch = RouteDesk.BatchKey(P1, "gave-way");
        coordinator.Send(Pools, new LockPool(P2, batch, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds()));
        coordinator.Send(Pools, new UnlockPool(P2, batch, false, []));

        // Withdrawn from the queue without a write: it was never granted, and its coordinator never asks again under that key.
        coordinator.ExpectMsg<PoolUnlockedAck>(Wait);
        Assert.Equal(writes, CountingJournal.Writes[CountingJournal.Key(SystemName, "pool-p2")]);
        // Nor is it granted once p2 is free: the next request gets the lock at once.
        Ask<PoolUnlockedAck>(Pools, new UnlockPool(P2, other, false, []));
        var next = new SagaKey(new("someone"), new("next"));
        Assert.NotNull(Ask<PoolLockReply>(Pools, new LockPool(P2, next, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds())).Reserves);
        Assert.Equal(next, Ask<PoolView>(Pools, new GetPool(P2)).LockedBy);
        Ask<PoolUnlockedAck>(Pools, new UnlockPool(P2, next, false, []));
    }
}

/// <summary>
/// Crash points of a route batch. A failpoint holds a batch that has all its locks from deciding, so that a spec can stop
/// the coordinator or a participant in that window, or cut a participant off after the decision.
/// </summary>
public class RouteDeskCrashSpecs() : SagaWorld(new SagaSettings { RetryAfter = TimeSpan.FromMilliseconds(200) }, new PoolSettings
{
    AskSagaEvery = TimeSpan.FromMilliseconds(200),
    SnapshotEveryEvents = 3,
    RouteRetryAfter = TimeSpan.FromMilliseconds(200),
    RouteLockTimeout = TimeSpan.FromSeconds(2),
    HoldRouteDecisions = () => _hold,
})
{
    private static volatile bool _hold;

    private void LockedByBatch() =>
        AwaitCondition(() => Ask<PoolView>(Pools, new GetPool(P2)).LockedBy is { } key && RouteDesk.CoordinatorOf(key) == P1, Wait, Poll);

    private void AssertOneRoute(TransferOutcome outcome)
    {
        var y = (UInt128)UniswapV2.AmountOut(10_000, 1_000_000, 1_000_000);
        var z = (UInt128)UniswapV2.AmountOut(y, 1_000_000, 1_000_000);
        Assert.Equal(TransferStatus.Committed, outcome.Transaction!.Status);
        Assert.Equal(z, outcome.Transaction.Fill!.AmountOut.Value);
        AwaitCondition(() => Reserves(P2) == (1_000_000 + y, 1_000_000 - z), Wait, Poll);
        Assert.Equal(((UInt128)1_010_000, 1_000_000 - y), Reserves(P1));
        Assert.Equal((Int128)z, Posted("alice", Z));
        Assert.Equal(0, Posted("alice", X));
        AwaitCondition(() => Ask<PoolView>(Pools, new GetPool(P2)).LockedBy is null, Wait, Poll);
        // The coordinator owes nothing once every pool has acknowledged; until then the audit sees it in flight.
        AwaitCondition(() => Ask<Holdings>(Pools, new GetPoolHoldings(P1)).Items.All(h => h.InFlight == Amount.Zero), Wait, Poll);
        AssertConserved("alice");
    }

    [Fact]
    public async Task A_coordinator_stopped_with_its_locks_taken_and_nothing_decided_is_given_up_and_the_route_runs_once_on_redelivery()
    {
        _hold = true;
        TwoPools();
        Mint(X, "alice", 10_000);
        var pending = Accounts.Ask<TransferOutcome>(RouteCall("alice", "r1", 10_000), Wait);
        LockedByBatch();
        Pools.Tell(new EntityParent.Kill(P1.Value));
        _hold = false;

        // p2's lock expires; p1, asked, knows no such batch and aborts it. Alice redelivers; a new batch commits the route.
        AssertOneRoute(await pending);
    }

    [Fact]
    public void A_participant_and_the_trader_stopped_while_the_batch_holds_its_locks_apply_the_decision_after_recovery()
    {
        _hold = true;
        TwoPools();
        Mint(X, "alice", 10_000);
        Accounts.Tell(RouteCall("alice", "r1", 10_000));
        LockedByBatch();
        Pools.Tell(new EntityParent.Kill(P2.Value));
        Accounts.Tell(new EntityParent.Kill("alice"));
        _hold = false;

        // p2 recovers locked by the batch and applies its hops with the unlock; alice, recovered, redelivers and is answered.
        AwaitCondition(() => Ask<TransferOutcome>(Accounts, new GetTransaction(new("alice"), new("r1"))).Transaction!.Status != TransferStatus.InFlight, Wait, Poll);
        AssertOneRoute(Ask<TransferOutcome>(Accounts, new GetTransaction(new("alice"), new("r1"))));
    }

    [Fact]
    public void A_coordinator_stopped_once_its_unlock_is_acknowledged_but_perhaps_not_written_tells_the_pool_again_and_nothing_moves_twice()
    {
        _hold = false;
        TwoPools();
        Mint(X, "alice", 10_000);
        var outcome = RunRoute("alice", "r1", 10_000);
        // p2 has applied and acknowledged; p1 writes that acknowledgement with its next write, which a stop now forestalls.
        AwaitCondition(() => Ask<Holdings>(Pools, new GetPoolHoldings(P1)).Items.All(h => h.InFlight == Amount.Zero), Wait, Poll);
        Pools.Tell(new EntityParent.Kill(P1.Value));

        AssertOneRoute(outcome);
    }

    [Fact]
    public async Task A_coordinator_stopped_after_its_decision_with_the_unlock_lost_tells_the_participant_the_commit_when_asked()
    {
        _hold = true;
        TwoPools();
        Mint(X, "alice", 10_000);
        var pending = Accounts.Ask<TransferOutcome>(RouteCall("alice", "r1", 10_000), Wait);
        LockedByBatch();
        // p2 is cut off: the decision's unlock will not reach it.
        Pools.Tell(new EntityParent.Pause(P2.Value));
        _hold = false;
        var outcome = await pending;
        Assert.Equal(TransferStatus.Committed, outcome.Transaction!.Status);
        Pools.Tell(new EntityParent.Kill(P1.Value));
        Pools.Tell(new EntityParent.Reconnect(P2.Value, Drop: true));

        // p2's lock expires; it asks p1, which recovers its durable decision and answers with p2's hops, not an abort.
        AssertOneRoute(outcome);
    }
}
