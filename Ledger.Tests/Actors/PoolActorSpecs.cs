using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;

namespace Ledger.Tests.Actors;

/// <summary>Accounts and a pool as entities: swaps under concurrency, with the pool and traders stopped mid-way.</summary>
public class PoolActorSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    /// <summary>For a thousand swaps asked at once: the last is answered only once the pool has decided all before it.</summary>
    private static readonly TimeSpan WaitForAll = TimeSpan.FromSeconds(120);
    private static readonly PoolId Pool = new("p");
    private static readonly AssetId X = new("X"), Y = new("Y");
    private readonly IActorRef _accounts;
    private readonly IActorRef _pools;
    private readonly EntityWorld _world;

    public PoolActorSpecs() : base(SpecConfig.Local(), "pool-spec-" + Guid.NewGuid().ToString("N")[..8])
    {
        var time = TimeProvider.System;
        // Answers leave the pool's memory at once (so redeliveries are read back from the journal), and settled
        // records leave the accounts' memory at once.
        var poolSettings = new PoolSettings { AnswersKeep = 0, SnapshotEveryEvents = 50 };
        var accountSettings = new AccountSettings { KeepSettled = 0, RedeliverAfter = TimeSpan.FromMilliseconds(200), SnapshotEveryEvents = 20 };
        _world = new EntityWorld(Sys, time, accountSettings, poolSettings, new SagaSettings());
        (_accounts, _pools) = (_world.Accounts, _world.Pools);
    }

    private static T Ask<T>(IActorRef to, object message) => to.Ask<T>(message, Wait).GetAwaiter().GetResult();

    private void Mint(AssetId asset, string account, ulong amount) => _world.Mint(asset, account, amount);

    private void FundPool(ulong x, ulong y)
    {
        Assert.True(Ask<PoolView>(_pools, new CreatePool(Pool, X, Y, 30)).Created);
        Mint(X, "lp", x);
        Mint(Y, "lp", y);
        var deposit = Ask<TransferOutcome>(_accounts, new CallPool(new("lp"), new("d1"), new PoolCall(Pool, PoolCallKind.Deposit, [new Leg(X, x), new Leg(Y, y)])));
        Assert.Equal(TransferStatus.Committed, deposit.Transaction!.Status);
    }

    private static PoolCall Swap(ulong amountIn, ulong minOut = 0) => new(Pool, PoolCallKind.SwapExactIn, [new Leg(X, amountIn)], Y, MinOut: minOut);

    /// <summary>Per asset over the accounts named and the pool: holdings plus in flight. Conservation says zero.</summary>
    private Dictionary<AssetId, Int128> Sums(IEnumerable<string> accounts)
    {
        var sums = new Dictionary<AssetId, Int128>();
        var all = accounts.Select(a => Ask<Holdings>(_accounts, new GetHoldings(new(a)))).Append(Ask<Holdings>(_pools, new GetPoolHoldings(Pool)));
        foreach (var h in all.SelectMany(h => h.Items)) sums[h.Asset] = sums.GetValueOrDefault(h.Asset) + h.Held + (Int128)h.InFlight.Value;
        return sums;
    }

    [Fact]
    public async Task Concurrent_swaps_from_a_thousand_accounts_keep_every_asset_summing_to_zero_across_pool_restarts()
    {
        FundPool(1_000_000_000, 1_000_000_000);
        var traders = Enumerable.Range(0, 1_000).Select(i => "t" + i).ToArray();
        foreach (var t in traders) Mint(X, t, 10_000);

        // Every trader swaps at once; a third ask for more than the pool can give them and are refused; the pool
        // is stopped twice while the swaps are in flight and recovers from its journal.
        var swaps = traders.Select((t, i) => _accounts.Ask<TransferOutcome>(
            new CallPool(new(t), new("s"), Swap(10_000, minOut: i % 3 == 0 ? 10_000UL : 1UL)), WaitForAll)).ToArray();
        _pools.Tell(new EntityParent.Kill(Pool.Value));
        await Task.Delay(50);
        _pools.Tell(new EntityParent.Kill(Pool.Value));
        var outcomes = await Task.WhenAll(swaps);

        Assert.All(outcomes, o => Assert.NotNull(o.Transaction));
        var committed = outcomes.Where(o => o.Transaction!.Status == TransferStatus.Committed).ToArray();
        var refused = outcomes.Where(o => o.Transaction!.Status == TransferStatus.Rejected).ToArray();
        Assert.Equal(666, committed.Length);
        Assert.All(refused, o => Assert.Equal(Codes.SlippageExceeded, o.Transaction!.Code));

        // Retries are answered from the records (the pool's answers were evicted and are read back), not executed again.
        var retry = Ask<TransferOutcome>(_accounts, new CallPool(new("t1"), new("s"), Swap(10_000, minOut: 1)));
        Assert.Equal(committed.Single(o => o.Transaction!.From.Value == "t1").Transaction!.Returned, retry.Transaction!.Returned);

        var pool = Ask<PoolView>(_pools, new GetPool(Pool));
        Assert.Equal(1_000_000_000 + 666 * 10_000UL, (ulong)pool.ReserveA.Value);
        var paidOut = committed.Aggregate(UInt128.Zero, (sum, o) => sum + o.Transaction!.Returned!.Single().Amount.Value);
        Assert.Equal(1_000_000_000 - paidOut, pool.ReserveB.Value);
        var sums = Sums(traders.Append("lp").Append("bank"));
        Assert.Equal(0, sums[X]);
        Assert.Equal(0, sums[Y]);
        Assert.Equal(0, sums[Pool.ShareAsset]);
        Assert.All(traders, t => Assert.DoesNotContain(Ask<Holdings>(_accounts, new GetHoldings(new(t))).Items, h => !h.InFlight.IsZero));
    }

    [Fact]
    public async Task A_trader_stopped_with_a_swap_in_flight_finishes_it_after_recovery()
    {
        FundPool(1_000_000, 1_000_000);
        Mint(X, "alice", 1_000);
        var swap = _accounts.Ask<TransferOutcome>(new CallPool(new("alice"), new("s1"), Swap(1_000)), Wait);
        _accounts.Tell(new EntityParent.Kill("alice"));
        // Whether or not the first ask was lost with the stopped incarnation, the retry gets the one outcome.
        var retry = Ask<TransferOutcome>(_accounts, new CallPool(new("alice"), new("s1"), Swap(1_000)));
        Assert.Equal(TransferStatus.Committed, retry.Transaction!.Status);
        if (await Task.WhenAny(swap, Task.Delay(TimeSpan.FromSeconds(2))) == swap) Assert.Equal(retry.Transaction.Returned, (await swap).Transaction!.Returned);
        var y = new Amount((UInt128)UniswapV2.AmountOut(1_000, 1_000_000, 1_000_000));
        var alice = Ask<AccountView>(_accounts, new GetAccount(new("alice")));
        Assert.Equal((Int128)y.Value, alice.Balances.Single(b => b.Asset == Y).Posted);
        Assert.Equal(0, alice.Balances.Single(b => b.Asset == X).Posted);
        Assert.Equal(1_000_000 - y.Value, Ask<PoolView>(_pools, new GetPool(Pool)).ReserveB.Value);
    }
}
