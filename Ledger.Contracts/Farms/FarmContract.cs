using System.Numerics;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Farms;

public enum FarmCallKind
{
    /// <summary>In: the reward asset, paid out over the next period (Synthetix's notifyRewardAmount).</summary>
    Fund,
    /// <summary>In: the stake asset.</summary>
    Stake,
    /// <summary>Out: the stake asset.</summary>
    Unstake,
    /// <summary>Out: the reward asset earned so far.</summary>
    Claim,
}

/// <summary>Everything a farm persists (the durable schema: add fields only with defaults).</summary>
public interface IFarmEvent;

public sealed record FarmCreated(AssetId StakeAsset, AssetId RewardAsset, long DurationMs, long At) : IFarmEvent;

/// <summary>The farm decided a call at <paramref name="At"/>: it received <paramref name="In"/> and owes <paramref name="Out"/>; refused, Out is In.</summary>
public sealed record FarmCallDecided(AccountId Account, TxId Id, FarmCallKind Kind, Leg[] In, Leg[] Out, string? Code, long At) : IFarmEvent;

public sealed class Stake
{
    public Amount Staked { get; set; }
    /// <summary>The reward per staked unit (WAD) already counted for this stake.</summary>
    public BigInteger Paid { get; set; }
    /// <summary>Earned and not yet claimed.</summary>
    public BigInteger Rewards { get; set; }
}

/// <summary>A staking farm (Synthetix StakingRewards): stakers earn the reward asset in proportion to stake and time.</summary>
public sealed class FarmState
{
    public required FarmId Id { get; init; }
    public bool Exists { get; set; }
    public AssetId StakeAsset { get; set; }
    public AssetId RewardAsset { get; set; }
    public long DurationMs { get; set; }
    public long CreatedAt { get; set; }
    /// <summary>Reward paid per millisecond, in WAD (the reward asset's units × 10^18), until <see cref="PeriodFinish"/>.</summary>
    public BigInteger RewardRate { get; set; }
    public long PeriodFinish { get; set; }
    public long LastUpdate { get; set; }
    /// <summary>Reward per staked unit accumulated since creation, in WAD.</summary>
    public BigInteger RewardPerTokenStored { get; set; }
    public Amount TotalStaked { get; set; }
    /// <summary>The reward asset the farm holds (funded, not yet claimed).</summary>
    public Amount RewardHeld { get; set; }
    public Dictionary<AccountId, Stake> Stakes { get; } = [];
    public AnswerStore Answers { get; } = new();

    public Stake StakeOf(AccountId account)
    {
        if (!Stakes.TryGetValue(account, out var st)) Stakes[account] = st = new Stake();
        return st;
    }
}

/// <summary>
/// The farm's rules, after Synthetix StakingRewards: <c>rewardPerToken += Δt·rate / totalStaked</c> (unchanged while
/// nothing is staked — that period's rewards are paid to no one), <c>earned = staked·(rewardPerToken − paid) + rewards</c>,
/// every stake updated before it changes, <c>rate = reward / duration</c> (a new reward mid-period adds what is left of
/// the old one). Fixed point in WAD, every division rounded down: the farm never owes more than it holds.
/// </summary>
public static class FarmContract
{
    public static (IReadOnlyList<IFarmEvent> Events, string? Rejection) Create(FarmState s, FarmCreated c)
    {
        if (!s.Exists) return ([c], null);
        return s.StakeAsset == c.StakeAsset && s.RewardAsset == c.RewardAsset && s.DurationMs == c.DurationMs ? ([], null) : ([], Codes.FarmExists);
    }

    private static long LastApplicable(FarmState s, long now) => Math.Min(now, s.PeriodFinish);

    /// <summary>The reward per staked unit (WAD) at <paramref name="now"/>.</summary>
    public static BigInteger RewardPerToken(FarmState s, long now)
    {
        if (s.TotalStaked.IsZero) return s.RewardPerTokenStored;
        var elapsed = Math.Max(0, LastApplicable(s, now) - s.LastUpdate);
        return s.RewardPerTokenStored + elapsed * s.RewardRate / (BigInteger)s.TotalStaked.Value;
    }

    /// <summary>What <paramref name="account"/> has earned and not claimed at <paramref name="now"/>, in the reward asset's units.</summary>
    public static BigInteger Earned(FarmState s, AccountId account, long now)
    {
        if (!s.Stakes.TryGetValue(account, out var st)) return 0;
        return st.Staked.Value * (RewardPerToken(s, now) - st.Paid) / Fixed.Wad + st.Rewards;
    }

    /// <summary>Decides one call; <paramref name="in"/> is what the account already sent, <paramref name="amount"/> the amount asked for.</summary>
    public static FarmCallDecided Decide(FarmState s, AccountId account, TxId id, FarmCallKind kind, Leg[] @in, Amount amount, long now)
    {
        FarmCallDecided Refuse(string code) => new(account, id, kind, @in, @in, code, now);
        FarmCallDecided Done(params Leg[] @out) => new(account, id, kind, @in, @out, null, now);
        if (!s.Exists) return Refuse(Codes.FarmNotFound);
        AssetId? expected = kind switch { FarmCallKind.Fund => s.RewardAsset, FarmCallKind.Stake => s.StakeAsset, _ => null };
        if (expected is { } asset ? @in is not [var leg] || leg.Asset != asset || leg.Amount != amount : @in.Length != 0) return Refuse(Codes.InvalidRequest);
        switch (kind)
        {
            case FarmCallKind.Fund:
                if (amount.IsZero) return Refuse(Codes.ZeroAmount);
                // The rate must not round to zero, or the period would pay nothing.
                return (BigInteger)amount.Value * Fixed.Wad / s.DurationMs < 1 ? Refuse(Codes.ZeroAmount) : Done();
            case FarmCallKind.Stake:
                return amount.IsZero ? Refuse(Codes.ZeroAmount) : Done();
            case FarmCallKind.Unstake:
                if (amount.IsZero) return Refuse(Codes.ZeroAmount);
                return amount > (s.Stakes.GetValueOrDefault(account)?.Staked ?? Amount.Zero) ? Refuse(Codes.InsufficientFunds) : Done(new Leg(s.StakeAsset, amount));
            case FarmCallKind.Claim:
                {
                    var earned = Earned(s, account, now);
                    return earned.IsZero ? Done() : Done(new Leg(s.RewardAsset, new Amount((UInt128)earned)));
                }
            default:
                return Refuse(Codes.InvalidRequest);
        }
    }

    public static void Apply(FarmState s, IFarmEvent e)
    {
        switch (e)
        {
            case FarmCreated c:
                s.Exists = true;
                s.StakeAsset = c.StakeAsset;
                s.RewardAsset = c.RewardAsset;
                s.DurationMs = c.DurationMs;
                s.CreatedAt = s.LastUpdate = s.PeriodFinish = c.At;
                break;
            case FarmCallDecided d:
                s.Answers.Remember(d.Account, d.Id, new CallAnswer(d.Out, d.Code));
                if (d.Code is not null) break;
                // updateReward(account): bring the accumulator and this stake up to date before anything changes.
                s.RewardPerTokenStored = RewardPerToken(s, d.At);
                s.LastUpdate = LastApplicable(s, d.At);
                var st = s.StakeOf(d.Account);
                st.Rewards = Earned(s, d.Account, d.At);
                st.Paid = s.RewardPerTokenStored;
                switch (d.Kind)
                {
                    case FarmCallKind.Fund:
                        {
                            var reward = (BigInteger)d.In[0].Amount.Value * Fixed.Wad;
                            var leftover = d.At < s.PeriodFinish ? (s.PeriodFinish - d.At) * s.RewardRate : 0;
                            s.RewardRate = (reward + leftover) / s.DurationMs;
                            s.LastUpdate = d.At;
                            s.PeriodFinish = d.At + s.DurationMs;
                            s.RewardHeld += d.In[0].Amount;
                            break;
                        }
                    case FarmCallKind.Stake:
                        st.Staked += d.In[0].Amount;
                        s.TotalStaked += d.In[0].Amount;
                        break;
                    case FarmCallKind.Unstake:
                        st.Staked -= d.Out[0].Amount;
                        s.TotalStaked -= d.Out[0].Amount;
                        break;
                    case FarmCallKind.Claim:
                        foreach (var leg in d.Out)
                        {
                            st.Rewards -= leg.Amount.Value;
                            s.RewardHeld -= leg.Amount;
                        }
                        break;
                }
                break;
            default:
                throw new ArgumentException($"unknown farm event {e.GetType().Name}", nameof(e));
        }
    }
}
