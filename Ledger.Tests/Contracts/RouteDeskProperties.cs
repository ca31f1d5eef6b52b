using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

/// <summary>
/// A coordinator's batch of routes (<see cref="RouteDesk.Decide"/>) against a model written in the test: pools p1 = X/Y
/// (the coordinator), p2 = Y/Z and p3 = Z/X, routes of two or three of them through p1, exact input or output. Each route
/// is priced, in order, by Uniswap v2's router formulas (<see cref="UniswapV2"/>) on the reserves the routes before it
/// left, and runs every hop or none: a refused route returns its input and moves nothing, and the next is priced as if it
/// had never been. The coordinator's own hops and the other pools' unlocks leave every reserve as the model has it.
/// </summary>
public class RouteDeskProperties(ITestOutputHelper output)
{
    private static readonly PoolId P1 = new("p1"), P2 = new("p2"), P3 = new("p3");
    private static readonly AssetId X = new("X"), Y = new("Y"), Z = new("Z");
    private static readonly (PoolId Id, AssetId A, AssetId B)[] Pools = [(P1, X, Y), (P2, Y, Z), (P3, Z, X)];
    private static readonly PoolId[][] Routes =
        [[P1, P2], [P2, P1], [P1, P3], [P3, P1], [P1, P2, P3], [P3, P2, P1], [P2, P1, P3], [P3, P1, P2], [P2, P3, P1], [P1, P3, P2]];
    private const long Now = 1_000;

    private sealed record Step(int Route, bool ExactOut, UInt128 Amount, uint Word);

    private sealed record Batch(UInt128[] Reserves, int FeeBps, bool P3Locked, Step[] Steps);

    private static readonly Gen<Step> Steps =
        from route in Gen.Choose(0, Routes.Length - 1)
        from exactOut in Gen.Elements(false, false, true)
        from amount in Gens.Magnitude(40)
        from word in Gens.Word
        select new Step(route, exactOut, amount, word);

    private static readonly Gen<Batch> Batches =
        from reserves in Gen.ArrayOf(Gens.Magnitude(48).Select(r => r | (UInt128.One << 20)), 6)
        from fee in Gen.Elements(0, 5, 30, 100)
        from p3Locked in Gen.Elements(true, true, true, false)
        from steps in Gens.Script(Steps, 1, 12)
        select new Batch(reserves, fee, p3Locked, steps);

    [Fact]
    public void Each_route_of_a_batch_is_priced_after_the_ones_before_and_runs_every_hop_or_none()
    {
        var seen = new Coverage();
        PropertyRun.Check(Batches, batch => Holds(batch, seen), maxTest: 400, seed: 22_05,
            shrink: b => PropertyRun.ShrinkScript(b.Steps).Select(steps => b with { Steps = steps }));
        seen.AssertFloors(output,
            ("committed exact in, 2 hops", 200), ("committed exact in, 3 hops", 200), ("committed exact out", 130),
            ("committed at its minimum exactly", 100), ("refused slippage_exceeded", 150), ("refused pool_not_found", 200),
            ("refused deadline_passed", 100), ("refused asset_not_in_pool", 100), ("committed after a refusal in its batch", 300));
    }

    private static bool Holds(Batch batch, Coverage seen)
    {
        // The model's reserves per pool, (A, B).
        var model = new Dictionary<PoolId, (BigInteger A, BigInteger B)>();
        var states = new Dictionary<PoolId, PoolState>();
        for (var k = 0; k < Pools.Length; k++)
        {
            var (id, a, b) = Pools[k];
            var s = new PoolState { Id = id };
            PoolContract.Apply(s, new PoolCreated(a, b, batch.FeeBps, 0));
            var (ra, rb) = (batch.Reserves[2 * k], batch.Reserves[2 * k + 1]);
            PoolContract.Apply(s, PoolContract.Decide(s, new("lp"), new("d"), new PoolCall(id, PoolCallKind.Deposit, [new Leg(a, new Amount(ra)), new Leg(b, new Amount(rb))]), 0));
            states[id] = s;
            model[id] = (ra, rb);
        }
        var requests = new List<RouteRequest>();
        var expected = new List<(string? Code, BigInteger[]? Amounts)>();
        var refusedBefore = false;
        for (var i = 0; i < batch.Steps.Length; i++)
        {
            var step = batch.Steps[i];
            var route = Routes[step.Route];
            // The input that makes a path around the triangle, or (one time in eight) the other, which does not.
            var first = Pools.Single(p => p.Id == route[0]);
            var assetIn = Path(route, first.A).Contains(default) == ((step.Word >> 9 & 7) == 0) ? first.A : first.B;
            // The output the path gives, or (one time in eight) an asset the path does not end in.
            var path = Path(route, assetIn);
            var assetOut = (step.Word & 7) == 0 ? path[^2] : path[^1];
            var deadline = (step.Word & 0x38) == 0 ? Now - 1 : (long?)null;
            var (code, amounts) = Model(model, route, path, step, batch.P3Locked, assetOut, deadline, batch.FeeBps);
            // A minimum set exactly at what the model pays, one above it, or none.
            var minOut = BigInteger.Zero;
            if (!step.ExactOut && code is null or Codes.SlippageExceeded && amounts is not null)
                switch ((step.Word >> 6) & 3)
                {
                    case 0: minOut = amounts[^1]; break;
                    case 1: minOut = amounts[^1] + 1; (code, amounts) = (Codes.SlippageExceeded, null); break;
                }
            var maxIn = step.ExactOut && amounts is not null && ((step.Word >> 6) & 3) == 1 ? amounts[0] - 1 : UInt128.MaxValue >> 1;
            if (step.ExactOut && amounts is not null && ((step.Word >> 6) & 3) == 1) (code, amounts) = (Codes.SlippageExceeded, null);
            var call = step.ExactOut
                ? new PoolCall(P1, PoolCallKind.SwapExactOut, [new Leg(assetIn, Am(maxIn))], assetOut, new Amount(step.Amount), Deadline: deadline, Route: route)
                : new PoolCall(P1, PoolCallKind.SwapExactIn, [new Leg(assetIn, new Amount(step.Amount))], assetOut, MinOut: Am(minOut), Deadline: deadline, Route: route);
            requests.Add(new RouteRequest(new("t" + i), new("r" + i), call));
            expected.Add((code, amounts));
            if (code is null)
            {
                for (var j = 0; j < route.Length; j++) model[route[j]] = Moved(model[route[j]], route[j], path[j], amounts![j], amounts[j + 1]);
                seen.Add(step.ExactOut ? "committed exact out" : $"committed exact in, {route.Length} hops");
                seen.Add("committed at its minimum exactly", !step.ExactOut && minOut > 0 && minOut == amounts![^1]);
                seen.Add("committed after a refusal in its batch", refusedBefore);
            }
            else
            {
                seen.Add("refused " + code);
                refusedBefore = true;
            }
        }

        var locked = new Dictionary<PoolId, PoolReserves?> { [P2] = PoolContract.Reserves(states[P2]), [P3] = batch.P3Locked ? PoolContract.Reserves(states[P3]) : null };
        var key = RouteDesk.BatchKey(P1, "b");
        var (answers, decided) = RouteDesk.Decide(key, states[P1], requests, locked, Now);
        for (var i = 0; i < answers.Length; i++)
        {
            var (code, amounts) = expected[i];
            var call = requests[i].Call;
            if (answers[i].Code != code) return false;
            if (code is not null)
            {
                if (!answers[i].Out.SequenceEqual(call.In) || answers[i].Fill is not null) return false;
                continue;
            }
            if (!answers[i].Fill!.Amounts!.Select(a => (BigInteger)a.Value).SequenceEqual(amounts!)) return false;
            var change = (BigInteger)call.In[0].Amount.Value - amounts![0];
            Leg[] pays = change.IsZero ? [new Leg(call.AssetOut!.Value, Am(amounts[^1]))] : [new Leg(call.AssetOut!.Value, Am(amounts[^1])), new Leg(call.In[0].Asset, Am(change))];
            if (!answers[i].Out.SequenceEqual(pays)) return false;
        }
        foreach (var answer in answers) PoolContract.Apply(states[P1], answer);
        PoolContract.Apply(states[P1], decided);
        foreach (var remote in decided.Remote)
        {
            PoolContract.Apply(states[remote.Pool], new PoolLocked(key, Now + 1, Now));
            PoolContract.Apply(states[remote.Pool], PoolContract.Unlock(states[remote.Pool], key, true, remote.Hops, Now)!);
        }
        // Only locked pools are told; an unlocked one is not.
        if (decided.Remote.Any(r => r.Pool == P3) != batch.P3Locked) return false;
        return Pools.All(p => model[p.Id] == ((BigInteger)states[p.Id].ReserveA.Value, (BigInteger)states[p.Id].ReserveB.Value));
    }

    private static Amount Am(BigInteger v) => new((UInt128)v);

    private static AssetId[] Path(PoolId[] route, AssetId assetIn)
    {
        var path = new List<AssetId> { assetIn };
        foreach (var id in route)
        {
            var p = Pools.Single(q => q.Id == id);
            path.Add(path[^1] == p.A ? p.B : path[^1] == p.B ? p.A : default);
            if (path[^1] == default) break;
        }
        return [.. path];
    }

    /// <summary>Router02 on the model: the code a route is refused with, or the amount after each hop (before the client's limits).</summary>
    private static (string? Code, BigInteger[]? Amounts) Model(Dictionary<PoolId, (BigInteger A, BigInteger B)> model, PoolId[] route, AssetId[] path,
        Step step, bool p3Locked, AssetId assetOut, long? deadline, int fee)
    {
        if (deadline < Now) return (Codes.DeadlinePassed, null);
        // Hop by hop: a pool that is not locked, or does not hold the asset coming in.
        for (var j = 0; j < route.Length; j++)
        {
            if (route[j] == P3 && !p3Locked) return (Codes.PoolNotFound, null);
            if (path[j + 1] == default) return (Codes.AssetNotInPool, null);
        }
        var sides = route.Select((id, j) => Sides(model[id], id, path[j])).ToArray();
        var amounts = new BigInteger[route.Length + 1];
        if (!step.ExactOut)
        {
            amounts[0] = step.Amount;
            for (var j = 0; j < route.Length; j++)
            {
                amounts[j + 1] = UniswapV2.AmountOut(amounts[j], sides[j].In, sides[j].Out, fee);
                if (amounts[j + 1].IsZero) return (Codes.InsufficientOutputAmount, null);
            }
        }
        else
        {
            amounts[^1] = step.Amount;
            for (var j = route.Length - 1; j >= 0; j--)
            {
                if (amounts[j + 1] >= sides[j].Out) return (Codes.InsufficientLiquidity, null);
                amounts[j] = UniswapV2.AmountIn(amounts[j + 1], sides[j].In, sides[j].Out, fee);
            }
        }
        return assetOut != path[^1] ? (Codes.AssetNotInPool, null) : (null, amounts);
    }

    private static (BigInteger In, BigInteger Out) Sides((BigInteger A, BigInteger B) r, PoolId id, AssetId assetIn) =>
        assetIn == Pools.Single(p => p.Id == id).A ? (r.A, r.B) : (r.B, r.A);

    private static (BigInteger, BigInteger) Moved((BigInteger A, BigInteger B) r, PoolId id, AssetId assetIn, BigInteger amountIn, BigInteger amountOut) =>
        assetIn == Pools.Single(p => p.Id == id).A ? (r.A + amountIn, r.B - amountOut) : (r.A - amountOut, r.B + amountIn);
}

public class RouteDeskHoldingsTests
{
    [Fact]
    public void A_decided_batch_counts_what_it_owes_the_other_pool_until_that_pool_applies_it_and_survives_a_snapshot()
    {
        PoolId p1 = new("p1"), p2 = new("p2");
        AssetId x = new("X"), y = new("Y"), z = new("Z");
        var pools = new[] { (p1, x, y), (p2, y, z) }.Select(p =>
        {
            var s = new PoolState { Id = p.Item1 };
            PoolContract.Apply(s, new PoolCreated(p.Item2, p.Item3, 30, 0));
            PoolContract.Apply(s, PoolContract.Decide(s, new("lp"), new("d"), new PoolCall(s.Id, PoolCallKind.Deposit, [new Leg(p.Item2, 1_000_000), new Leg(p.Item3, 1_000_000)]), 0));
            return s;
        }).ToArray();
        Int128 Sum(AssetId asset) => pools.SelectMany(p => PoolContract.Holdings(p)).Where(h => h.Asset == asset).Aggregate(Int128.Zero, (t, h) => t + h.Held + (Int128)h.InFlight.Value);
        var before = (Sum(x), Sum(y), Sum(z));
        var key = RouteDesk.BatchKey(p1, "b");
        PoolContract.Apply(pools[1], PoolContract.Lock(pools[1], key, 10, 0).Lock!);
        var call = new PoolCall(p1, PoolCallKind.SwapExactIn, [new Leg(x, 10_000)], z, Route: [p1, p2]);
        var (answers, decided) = RouteDesk.Decide(key, pools[0], [new RouteRequest(new("alice"), new("r"), call)], new Dictionary<PoolId, PoolReserves?> { [p2] = PoolContract.Reserves(pools[1]) }, 0);
        PoolContract.Apply(pools[0], answers[0]);
        PoolContract.Apply(pools[0], decided);
        var z1 = (Int128)answers[0].Out.Single().Amount.Value;
        // Alice paid 10,000 X and got z1 Z: the pools hold that much more X and that much less Z, p2's part still owed by p1.
        var expected = (before.Item1 + 10_000, before.Item2, before.Item3 - z1);
        Assert.Equal(expected, (Sum(x), Sum(y), Sum(z)));
        Assert.Contains(PoolContract.Holdings(pools[0]), h => h.InFlight != Amount.Zero);

        var restored = PoolSnapshot.Of(pools[0]).Restore(new PoolState { Id = p1 });
        Assert.Equal(decided.Remote.Single().Hops, restored.RouteUnlocks[key][p2]);

        PoolContract.Apply(pools[1], PoolContract.Unlock(pools[1], key, true, decided.Remote.Single().Hops, 0)!);
        PoolContract.Apply(pools[0], new RouteBatchUnlocked(key, p2, 0));
        Assert.Equal(expected, (Sum(x), Sum(y), Sum(z)));
        Assert.Empty(pools[0].RouteUnlocks);
        Assert.All(pools.SelectMany(p => PoolContract.Holdings(p)), h => Assert.Equal(Amount.Zero, h.InFlight));
    }
}
