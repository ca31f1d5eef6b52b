using FsCheck;
using FsCheck.Fluent;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

/// <summary>
/// A saga over the pure contracts — pool locks, planning, account votes, decision, unlocks, resolution — against
/// a plain sequential interpreter of the same operations: the saga commits exactly when running the operations
/// one after another would succeed, and then ends in exactly the state that run ends in; otherwise it changes
/// nothing. Either way nothing is left held or locked, and every asset keeps its total. Each case is
/// a batch of transfers (plain and balancing) and one- and two-pool swaps both ways, exact in and out, and a failure
/// shrinks to a short batch. Balancing transfers paying around a cycle of accounts are refused before the saga starts.
/// </summary>
public class SagaProperties(ITestOutputHelper output)
{
    private static readonly AccountId[] Users = [new("a0"), new("a1"), new("a2")];
    private static readonly AssetId X = new("X"), Y = new("Y");
    private static readonly PoolId P1 = new("p1"), P2 = new("p2");
    private static readonly PoolId[][] Routes = [[P1], [P2], [P1, P2], [P2, P1]];

    /// <summary>One operation of a batch, before it gets its id: <see cref="Kind"/> 0 transfer, 1 exact-in swap, 2 exact-out swap, 3 balancing transfer.</summary>
    private sealed record OpSpec(int Kind, int Account, int To, bool AssetX, ulong Amount, int Route, ulong MinOut, ulong AmountOut);

    private sealed record Batch(OpSpec[] Ops, ushort FundsX, ushort FundsY);

    /// <summary>
    /// Batches of one to six operations, each kind a quarter of them. Amounts are 1–300 (now and then zero; a balancing
    /// transfer's ten times that, so that it often asks for more than there is), funds
    /// 0–2,000 per account and asset (mostly more than a batch spends), pools 10,000 and 3,000 deep, so that whole
    /// batches commit often and every reason to abort — no funds, a minimum out missed, an input cap too low, a
    /// transfer to oneself, a zero amount — still comes up.
    /// </summary>
    private static readonly Gen<Batch> Batches =
        from ops in Gens.Script(
            from kind in Gen.Choose(0, 3)
            from account in Gen.Choose(0, 2)
                // 0 is the account itself (same_account), now and then.
            from to in Gen.Frequency((1, Gen.Constant(0)), (15, Gen.Choose(1, 2)))
            from assetX in Gen.Elements(true, false)
            from amount in Gen.Frequency((1, Gen.Constant(0)), (30, Gen.Choose(1, 300)))
            from route in Gen.Choose(0, 3)
                // A minimum out now and then, often above what the pools give.
            from minOut in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(1, 300)))
            from amountOut in Gen.Choose(1, 100)
            select new OpSpec(kind, account, to, assetX, (ulong)amount, route, (ulong)minOut, (ulong)amountOut), 1, 6)
        from fundsX in Gen.Frequency((1, Gen.Choose(0, 200)), (4, Gen.Choose(200, 2_000)))
        from fundsY in Gen.Frequency((1, Gen.Choose(0, 200)), (4, Gen.Choose(200, 2_000)))
        select new Batch(ops, (ushort)fundsX, (ushort)fundsY);

    [Fact]
    public void A_saga_commits_exactly_when_its_operations_would_succeed_in_order_and_otherwise_changes_nothing()
    {
        var seen = new Coverage();
        PropertyRun.Check(Batches, batch =>
        {
            var ops = batch.Ops.Select(Op).ToArray();
            if (SagaPlanner.BalancingCycle(ops))
            {
                seen.Add("refused: balancing cycle");
                return SagaContract.Start(new SagaState { Key = new(ops[0].Account, ops[0].Id) }, ops, TimeSpan.FromSeconds(1), 0).Rejection == Codes.InvalidRequest;
            }
            var (ok, committed, refusedBy) = Check(ops, batch.FundsX, batch.FundsY);
            seen.Add(committed ? "commit" : "abort, " + refusedBy);
            if (committed && ops.Any(o => o is TransferOp { Balancing: true } b && ops.Any(p => p is TransferOp { Balancing: true } c && c.To == b.Account)))
                seen.Add("committed chain of balancing transfers");
            if (committed)
                foreach (var op in ops)
                    seen.Add(op switch
                    {
                        TransferOp { Balancing: true } => "committed balancing transfer",
                        TransferOp => "committed transfer",
                        SwapOp { AmountOut: null } w => $"committed exact-in swap over {w.Route.Length} pool(s)",
                        SwapOp w => $"committed exact-out swap over {w.Route.Length} pool(s)",
                        _ => "?",
                    });
            return ok;
        }, maxTest: 800, seed: 20_07_06, shrink: b => PropertyRun.ShrinkScript(b.Ops).Where(o => o.Length > 0).Select(o => b with { Ops = o }));
        seen.AssertFloors(output,
            ("commit", 150), ("abort, planner", 50), ("abort, account vote", 50), ("refused: balancing cycle", 10),
            ("committed transfer", 100), ("committed balancing transfer", 100), ("committed chain of balancing transfers", 10), ("committed exact-in swap over 1 pool(s)", 30), ("committed exact-in swap over 2 pool(s)", 30),
            ("committed exact-out swap over 1 pool(s)", 30), ("committed exact-out swap over 2 pool(s)", 30));
    }

    private static (bool Ok, bool Committed, string RefusedBy) Check(SagaOp[] ops, ushort fundsX, ushort fundsY)
    {
        var (accounts, pools) = World(fundsX, fundsY);
        var before = Snapshot(accounts, pools);

        var expected = Sequential(ops, before);
        var (committed, refusedBy) = RunSaga(ops, accounts, pools);

        var after = Snapshot(accounts, pools);
        var nothingHeld = accounts.Values.All(a => a.Holds.Count == 0 && a.Balances.Values.All(b => b.PendingOut.IsZero)) && pools.Values.All(p => p.LockedBy is null);
        return (nothingHeld && committed == (expected is not null) && after.SequenceEqual(expected ?? before) && Totals(after).SequenceEqual(Totals(before)),
            committed, refusedBy);
    }

    private static SagaOp Op(OpSpec o, int i)
    {
        var id = new TxId("o" + i);
        var asset = o.AssetX ? X : Y;
        return o.Kind switch
        {
            0 => new TransferOp(id, Users[o.Account], Users[(o.Account + o.To) % 3], asset, o.Amount),
            1 => new SwapOp(id, Users[o.Account], Routes[o.Route], asset, o.Amount, MinOut: o.MinOut),
            // Exact output: at most `amount` in for 1–100 out.
            2 => new SwapOp(id, Users[o.Account], Routes[o.Route], asset, o.Amount, AmountOut: o.AmountOut),
            _ => new TransferOp(id, Users[o.Account], Users[(o.Account + o.To) % 3], asset, o.Amount * 10, Balancing: true),
        };
    }

    /// <summary>Three accounts holding X and Y, and two X/Y pools of different depths.</summary>
    private static (Dictionary<AccountId, AccountState>, Dictionary<PoolId, PoolState>) World(ushort fundsX, ushort fundsY)
    {
        var accounts = Users.ToDictionary(u => u, u => new AccountState { Id = u });
        foreach (var (u, s) in accounts)
        {
            AccountContract.Apply(s, new AccountOpened(u.Value, 0));
            AccountContract.Apply(s, new TransferCredited(new("bank"), new("fx-" + u), X, fundsX, false, null, 0));
            AccountContract.Apply(s, new TransferCredited(new("bank"), new("fy-" + u), Y, fundsY, false, null, 0));
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

    /// <summary>The protocol, as the coordinator drives it, over the contracts alone. Returns whether it committed, and if not who refused.</summary>
    private static (bool Committed, string RefusedBy) RunSaga(SagaOp[] ops, Dictionary<AccountId, AccountState> accounts, Dictionary<PoolId, PoolState> pools)
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
        // Votes in waves, as the coordinator asks them: an account paid by a balancing transfer once its payer has voted.
        var paidBy = SagaPlanner.BalancingInto(ops);
        var voted = new HashSet<AccountId>();
        while (commit && voted.Count < SagaPlanner.Accounts(ops).Length)
            foreach (var account in SagaPlanner.Accounts(ops).Where(a => !voted.Contains(a) && paidBy[a].All(i => fills![i].Amounts is not null)).ToList())
            {
                voted.Add(account);
                var mine = SagaPlanner.OpsOf(ops, account);
                var (held, _, code) = AccountContract.PrepareSaga(accounts[account], key, mine, SagaPlanner.LegsOf(mine, fills!, account), 10, 0);
                foreach (var e in held) AccountContract.Apply(accounts[account], e);
                commit &= code is null;
                foreach (var (op, moved) in AccountContract.Balanced(accounts[account], key) ?? []) fills![op] = OpFill.Balanced(moved);
            }
        foreach (var id in SagaPlanner.Pools(ops))
            PoolContract.Apply(pools[id], PoolContract.Unlock(pools[id], key, commit, commit ? SagaPlanner.HopsOf(ops, fills!, id) : [], 0)!);
        foreach (var account in SagaPlanner.Accounts(ops))
        {
            var mine = SagaPlanner.OpsOf(ops, account);
            foreach (var e in AccountContract.ResolveSaga(accounts[account], key, commit, 0, commit ? null : Codes.InsufficientFunds, mine,
                commit ? [.. mine.Select(o => fills![o.Index])] : null, 0, commit ? SagaPlanner.LegsOf(mine, fills!, account) : null))
                AccountContract.Apply(accounts[account], e);
        }
        return (commit, fills is null ? "planner" : "account vote");
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
                    {
                        // A balancing transfer moves min(amount, what the payer holds at its turn); nothing at all fails it.
                        var amount = t.Balancing ? Int128.Min((Int128)t.Amount.Value, held[(t.Account.Value, t.Asset)]) : (Int128)t.Amount.Value;
                        if (t.To == t.Account || amount == 0 || !Move(t.Account.Value, t.To.Value, t.Asset, amount)) return null;
                        break;
                    }
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
