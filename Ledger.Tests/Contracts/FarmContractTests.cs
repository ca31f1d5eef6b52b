using System.Numerics;
using Ledger.Contracts.Farms;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

/// <summary>The staking farm: reward splits between stakers entering at different times, and solvency under any sequence.</summary>
public class FarmContractTests(ITestOutputHelper output)
{
    private static readonly AssetId Lp = new("LP"), Gov = new("GOV");
    private static readonly AccountId Alice = new("alice"), Bob = new("bob"), Treasury = new("treasury");
    private static int _n;

    private static FarmState Farm(long durationMs = 100_000)
    {
        var s = new FarmState { Id = new("f") };
        FarmContract.Apply(s, new FarmCreated(Lp, Gov, durationMs, 0));
        return s;
    }

    private static FarmCallDecided Call(FarmState s, AccountId who, FarmCallKind kind, ulong amount, long at)
    {
        Leg[] @in = kind switch { FarmCallKind.Fund => [new Leg(Gov, amount)], FarmCallKind.Stake => [new Leg(Lp, amount)], _ => [] };
        var d = FarmContract.Decide(s, who, new TxId("f" + Interlocked.Increment(ref _n)), kind, @in, amount, at);
        FarmContract.Apply(s, d);
        return d;
    }

    private static BigInteger Claimed(FarmCallDecided d) => d.Out.Where(l => l.Asset == Gov).Aggregate(BigInteger.Zero, (sum, l) => sum + l.Amount.Value);

    [Fact]
    public void Stakers_entering_at_different_times_split_the_rewards_by_stake_and_time()
    {
        // 1,000 over 100 s = 10/s. Alice alone for 50 s (500), then Alice 100 and Bob 300 for 50 s (125 and 375).
        var s = Farm();
        Call(s, Treasury, FarmCallKind.Fund, 1_000, 0);
        Call(s, Alice, FarmCallKind.Stake, 100, 0);
        Call(s, Bob, FarmCallKind.Stake, 300, 50_000);
        Assert.Equal(625, Claimed(Call(s, Alice, FarmCallKind.Claim, 0, 200_000)));
        Assert.Equal(375, Claimed(Call(s, Bob, FarmCallKind.Claim, 0, 200_000)));
        Assert.Equal(Amount.Zero, s.RewardHeld);
        // Unstaking returns the stake; nothing more is earned after the period.
        Assert.Equal([new Leg(Lp, 300)], Call(s, Bob, FarmCallKind.Unstake, 300, 300_000).Out);
        Assert.Equal(0, FarmContract.Earned(s, Bob, 400_000));
        Assert.Equal(Codes.InsufficientFunds, Call(s, Alice, FarmCallKind.Unstake, 101, 300_000).Code);
    }

    [Fact]
    public void Rewards_while_nothing_is_staked_are_paid_to_no_one_and_a_new_reward_adds_what_is_left()
    {
        var s = Farm();
        Call(s, Treasury, FarmCallKind.Fund, 1_000, 0);
        // Nobody stakes for the first 40 s: those 400 stay in the farm for good.
        Call(s, Alice, FarmCallKind.Stake, 10, 40_000);
        Assert.Equal(600, FarmContract.Earned(s, Alice, 100_000));
        // Halfway (t = 70 s), 300 more: the 300 left of the first period plus 300, over 100 s from now.
        Call(s, Treasury, FarmCallKind.Fund, 300, 70_000);
        Assert.Equal(300 + 600, FarmContract.Earned(s, Alice, 170_000));
        Assert.Equal(Codes.FarmNotFound, FarmContract.Decide(new FarmState { Id = new("none") }, Alice, new("x"), FarmCallKind.Claim, [], 0, 0).Code);
    }

    private static readonly AccountId[] Users = [Alice, Bob, Treasury];

    /// <summary>
    /// Any sequence of funding, staking, unstaking and claims over time: the farm holds exactly what was funded and
    /// staked minus what it paid out, always at least what its stakers have earned (rounding is the farm's), the
    /// stakes add up to the total staked, and what someone has earned never falls but by their claim.
    /// </summary>
    [Fact]
    public void The_farm_never_owes_more_than_it_holds()
    {
        var seen = new Coverage();
        // Uniform words, up to 60 a script: FsCheck's own numbers stay below its size.
        PropertyRun.Check(Gens.Script(Gens.Word, 0, 60), script => Holds(script, seen), maxTest: 300, seed: 20_07_03, shrink: PropertyRun.ShrinkScript);
        seen.AssertFloors(output,
            ("Fund", 500), ("Stake", 500), ("Unstake", 200), ("Claim paying something", 300), ("Claim paying nothing", 50),
            ("refused insufficient_funds", 100));
    }

    private static bool Holds(uint[] script, Coverage seen)
    {
        var s = Farm(durationMs: 60_000);
        long now = 0;
        var steps = 0;
        BigInteger rewardIn = 0, rewardOut = 0, stakeIn = 0, stakeOut = 0;
        foreach (var raw in script)
        {
            var v = Scripts.Mix(raw + (uint)steps++ * 0x9E3779B9);
            var who = Users[v % 3];
            var kind = (FarmCallKind)((v >> 2) % 4);
            var amount = (ulong)((v >> 8) % 10_000);
            now += (long)((v >> 24) % 40) * 1_000;
            var before = Users.ToDictionary(u => u, u => FarmContract.Earned(s, u, now));
            var d = Call(s, who, kind, amount, now);
            seen.Add(d.Code is not null ? "refused " + d.Code : kind != FarmCallKind.Claim ? kind.ToString() : Claimed(d) > 0 ? "Claim paying something" : "Claim paying nothing");
            // The books: the farm holds exactly what came in minus what went out, of the reward and of the stake.
            if (d.Code is null)
            {
                rewardIn += d.In.Where(l => l.Asset == Gov).Aggregate(BigInteger.Zero, (sum, l) => sum + l.Amount.Value);
                rewardOut += Claimed(d);
                stakeIn += d.In.Where(l => l.Asset == Lp).Aggregate(BigInteger.Zero, (sum, l) => sum + l.Amount.Value);
                stakeOut += d.Out.Where(l => l.Asset == Lp).Aggregate(BigInteger.Zero, (sum, l) => sum + l.Amount.Value);
            }
            if ((BigInteger)s.RewardHeld.Value != rewardIn - rewardOut || (BigInteger)s.TotalStaked.Value != stakeIn - stakeOut) return false;
            var owed = Users.Aggregate(BigInteger.Zero, (sum, u) => sum + FarmContract.Earned(s, u, now));
            if (owed > (BigInteger)s.RewardHeld.Value) return false;
            if (s.TotalStaked != s.Stakes.Values.Aggregate(Amount.Zero, (sum, st) => sum + st.Staked)) return false;
            foreach (var u in Users)
                if (FarmContract.Earned(s, u, now) < before[u] && !(u == who && kind == FarmCallKind.Claim && d.Code is null)) return false;
            // Later, everything left is still covered.
            var later = Users.Aggregate(BigInteger.Zero, (sum, u) => sum + FarmContract.Earned(s, u, now + 1_000_000));
            if (later > (BigInteger)s.RewardHeld.Value) return false;
        }
        return true;
    }
}
