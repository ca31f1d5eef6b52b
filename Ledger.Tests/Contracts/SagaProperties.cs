using FsCheck.Xunit;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;

namespace Ledger.Tests.Contracts;

/// <summary>
/// A saga over the pure contracts — pool locks, planning, account votes, decision, unlocks, resolution — against
/// a plain sequential interpreter of the same operations: the saga commits exactly when running the operations
/// one after another would succeed, and then ends in exactly the state that run ends in; otherwise it changes
/// nothing. Either way nothing is left held or locked, and every asset keeps its total. Each generated number is
/// read as one operation (transfers, one- and two-pool swaps both ways, exact in and out), so FsCheck shrinks a
/// failure to a short batch.
/// </summary>
public class SagaProperties
{
    private static readonly AccountId[] Users = [new("a0"), new("a1"), new("a2")];
    private static readonly AssetId X = new("X"), Y = new("Y");
    private static readonly PoolId P1 = new("p1"), P2 = new("p2");
    private static readonly PoolId[][] Routes = [[P1], [P2], [P1, P2], [P2, P1]];

    [Property(MaxTest = 500)]
    public bool A_saga_commits_exactly_when_its_operations_would_succeed_in_order_and_otherwise_changes_nothing(uint[] script, ushort funds) =>
        script.Length == 0 || Check(script, funds).Ok;

    /// <summary>The property is not vacuous: over many scripts, both outcomes are common and each is checked.</summary>
    [Fact]
    public void Generated_batches_both_commit_and_abort_often()
    {
        var random = new Random(7);
        var (commits, aborts) = (0, 0);
        for (var i = 0; i < 1_000; i++)
        {
            var script = Enumerable.Range(0, 1 + random.Next(6)).Select(_ => (uint)random.NextInt64(0, 1L << 32)).ToArray();
            var (ok, committed) = Check(script, (ushort)random.Next(ushort.MaxValue));
            Assert.True(ok, $"script {string.Join(",", script)}");
            if (committed) commits++;
            else aborts++;
        }
        Assert.InRange(commits, 200, 800);
        Assert.InRange(aborts, 200, 800);
    }

    private static (bool Ok, bool Committed) Check(uint[] script, ushort funds)
    {
        var ops = script.Take(6).Select((v, i) => Op(Scripts.Mix(v), i)).ToArray();
        var (accounts, pools) = World((ushort)Scripts.Mix(funds));
        var before = Snapshot(accounts, pools);

        var expected = Sequential(ops, before);
        var committed = RunSaga(ops, accounts, pools);

        var after = Snapshot(accounts, pools);
        var nothingHeld = accounts.Values.All(a => a.Holds.Count == 0 && a.Balances.Values.All(b => b.PendingOut.IsZero)) && pools.Values.All(p => p.LockedBy is null);
        return (nothingHeld && committed == (expected is not null) && after.SequenceEqual(expected ?? before) && Totals(after).SequenceEqual(Totals(before)),
            committed);
    }

    private static SagaOp Op(uint v, int i)
    {
        var id = new TxId("o" + i);
        var account = (int)(v % 3);
        // Mostly 1–199, now and then zero (a refusal of its own).
        var amount = (v >> 8) % 64 == 0 ? 0UL : 1 + (v >> 14) % 199;
        var asset = (v >> 4) % 2 == 0 ? X : Y;
        var route = Routes[(v >> 22) % 4];
        switch ((v >> 2) % 3)
        {
            case 0:
                // Now and then to itself (same_account).
                return new TransferOp(id, Users[account], Users[(v >> 5) % 16 == 0 ? account : (account + 1 + (int)((v >> 6) % 2)) % 3], asset, amount);
            case 1:
                // A minimum out now and then, often above what the pools give.
                return new SwapOp(id, Users[account], route, asset, amount, MinOut: (v >> 24) % 4 == 0 ? (v >> 26) % 300 : 0);
            default:
                // Exact output: at most `amount` in for 1–100 out.
                return new SwapOp(id, Users[account], route, asset, amount, AmountOut: 1 + (v >> 24) % 100);
        }
    }

    /// <summary>Three accounts holding X and Y, and two X/Y pools of different depths.</summary>
    private static (Dictionary<AccountId, AccountState>, Dictionary<PoolId, PoolState>) World(ushort funds)
    {
        var accounts = Users.ToDictionary(u => u, u => new AccountState { Id = u });
        foreach (var (u, s) in accounts)
        {
            AccountContract.Apply(s, new AccountOpened(u.Value, 0));
            AccountContract.Apply(s, new TransferCredited(new("bank"), new("fx-" + u), X, (ulong)(funds % 500) + 1, false, null, 0));
            AccountContract.Apply(s, new TransferCredited(new("bank"), new("fy-" + u), Y, (ulong)(funds / 500 % 500), false, null, 0));
        }
        var pools = new Dictionary<PoolId, PoolState>();
        foreach (var (id, depth) in new[] { (P1, 10_000UL), (P2, 3_000UL) })
        {
            var p = new PoolState { Id = id };
            PoolContract.Apply(p, new PoolCreated(X, Y, 30, 0));
            PoolContract.Apply(p, PoolContract.Decide(p, new("lp"), new("d"), new PoolCall(id, PoolCallKind.Deposit, [new Leg(X, depth), new Leg(Y, depth * 2)]), 0));
            pools[id] = p;
        }
        return (accounts, pools);
    }

    /// <summary>The protocol, as the coordinator drives it, over the contracts alone. Returns whether it committed.</summary>
    private static bool RunSaga(SagaOp[] ops, Dictionary<AccountId, AccountState> accounts, Dictionary<PoolId, PoolState> pools)
    {
        var key = new SagaKey(ops[0].Account, ops[0].Id);
        var reserves = new Dictionary<PoolId, PoolReserves?>();
        foreach (var id in SagaPlanner.Pools(ops))
        {
            var (locked, wait, refusal) = PoolContract.Lock(pools[id], key, 10, 0);
            if (wait || refusal is not null) throw new InvalidOperationException("a free pool must lock");
            PoolContract.Apply(pools[id], locked!);
            reserves[id] = PoolContract.Reserves(pools[id]);
        }
        var (fills, _, _) = SagaPlanner.Plan(ops, reserves, 0);
        var commit = fills is not null;
        if (commit)
            foreach (var account in SagaPlanner.Accounts(ops))
            {
                var mine = SagaPlanner.OpsOf(ops, account);
                var (held, _, code) = AccountContract.PrepareSaga(accounts[account], key, mine, SagaPlanner.LegsOf(mine, fills!, account), 10, 0);
                foreach (var e in held) AccountContract.Apply(accounts[account], e);
                commit &= code is null;
            }
        foreach (var id in SagaPlanner.Pools(ops))
            PoolContract.Apply(pools[id], PoolContract.Unlock(pools[id], key, commit, commit ? SagaPlanner.HopsOf(ops, fills!, id) : [], 0)!);
        foreach (var account in SagaPlanner.Accounts(ops))
        {
            var mine = SagaPlanner.OpsOf(ops, account);
            foreach (var e in AccountContract.ResolveSaga(accounts[account], key, commit, 0, commit ? null : Codes.InsufficientFunds, mine,
                commit ? [.. mine.Select(o => fills![o.Index])] : null, 0))
                AccountContract.Apply(accounts[account], e);
        }
        return commit;
    }

    /// <summary>Balances per (holder, asset), holders being accounts and pools, in a fixed order.</summary>
    private static List<(string Holder, AssetId Asset, Int128 Amount)> Snapshot(Dictionary<AccountId, AccountState> accounts, Dictionary<PoolId, PoolState> pools) =>
    [
        .. accounts.Values.SelectMany(a => new[] { X, Y }.Select(asset => (a.Id.Value, asset, a.Balances.TryGetValue(asset, out var b) ? b.Posted : 0))),
        .. pools.Values.SelectMany(p => new[] { ("pool-" + p.Id.Value, X, (Int128)p.ReserveA.Value), ("pool-" + p.Id.Value, Y, (Int128)p.ReserveB.Value) }),
    ];

    private static IEnumerable<Int128> Totals(List<(string Holder, AssetId Asset, Int128 Amount)> snapshot) =>
        new[] { X, Y }.Select(asset => snapshot.Where(s => s.Asset == asset).Aggregate((Int128)0, (sum, s) => sum + s.Amount));

    /// <summary>The reference: run the operations one by one on plain numbers; null when any of them fails.</summary>
    private static List<(string Holder, AssetId Asset, Int128 Amount)>? Sequential(SagaOp[] ops, List<(string Holder, AssetId Asset, Int128 Amount)> start)
    {
        var held = start.ToDictionary(s => (s.Holder, s.Asset), s => s.Amount);
        bool Move(string from, string to, AssetId asset, Int128 amount)
        {
            if (held[(from, asset)] < amount) return false;
            held[(from, asset)] -= amount;
            held[(to, asset)] += amount;
            return true;
        }
        foreach (var op in ops)
            switch (op)
            {
                case TransferOp t:
                    if (t.To == t.Account || t.Amount.IsZero || !Move(t.Account.Value, t.To.Value, t.Asset, (Int128)t.Amount.Value)) return null;
                    break;
                case SwapOp s:
                    {
                        var path = new AssetId[s.Route.Length + 1];
                        path[0] = s.AssetIn;
                        for (var j = 0; j < s.Route.Length; j++) path[j + 1] = path[j] == X ? Y : X;
                        var amounts = new Int128[path.Length];
                        Int128 Reserve(int hop, AssetId asset) => held[("pool-" + s.Route[hop].Value, asset)];
                        if (s.AmountOut is { } exactOut)
                        {
                            amounts[^1] = (Int128)exactOut.Value;
                            if (exactOut.IsZero) return null;
                            for (var j = s.Route.Length - 1; j >= 0; j--)
                            {
                                if (amounts[j + 1] >= Reserve(j, path[j + 1])) return null;
                                // Uniswap v2 getAmountIn: in = R_in·out·10000 / ((R_out − out)·9970) + 1.
                                amounts[j] = Reserve(j, path[j]) * amounts[j + 1] * 10_000 / ((Reserve(j, path[j + 1]) - amounts[j + 1]) * 9_970) + 1;
                            }
                            if (amounts[0] > (Int128)s.AmountIn.Value) return null;
                        }
                        else
                        {
                            amounts[0] = (Int128)s.AmountIn.Value;
                            if (s.AmountIn.IsZero) return null;
                            for (var j = 0; j < s.Route.Length; j++)
                            {
                                // Uniswap v2 getAmountOut: out = in·9970·R_out / (R_in·10000 + in·9970).
                                amounts[j + 1] = amounts[j] * 9_970 * Reserve(j, path[j + 1]) / (Reserve(j, path[j]) * 10_000 + amounts[j] * 9_970);
                                if (amounts[j + 1] == 0) return null;
                            }
                            if (amounts[^1] < (Int128)s.MinOut.Value) return null;
                        }
                        if (!Move(s.Account.Value, "pool-" + s.Route[0].Value, path[0], amounts[0])) return null;
                        for (var j = 0; j < s.Route.Length; j++)
                            Move("pool-" + s.Route[j].Value, j + 1 < s.Route.Length ? "pool-" + s.Route[j + 1].Value : s.Account.Value, path[j + 1], amounts[j + 1]);
                        break;
                    }
            }
        return [.. start.Select(s => (s.Holder, s.Asset, held[(s.Holder, s.Asset)]))];
    }
}
