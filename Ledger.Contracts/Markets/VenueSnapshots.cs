using System.Globalization;
using System.Numerics;
using Ledger.Contracts.Farms;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Markets;

/// <summary>The persisted form of <see cref="MarketState"/> (arbitrary-precision numbers as decimal strings).</summary>
public sealed record MarketSnapshot(bool Exists, AssetId LoanAsset, AssetId CollateralAsset, int LoanDecimals, int CollateralDecimals, int LltvBps,
    RateModel Rate, int ReserveFactorBps, int LiquidationBonusBps, long CreatedAt, string SupplyIndex, string BorrowIndex, long AccruedTo,
    Amount Cash, Amount CollateralHeld, string TotalScaledSupply, string TotalScaledDebt, string Reserves, string InterestCharged,
    PositionEntry[] Positions, PoolAnswerEntry[] Answers, byte[]? Seen = null, byte[]? SeenAt = null, byte[]? SeenRuns = null)
{
    public static MarketSnapshot Of(MarketState s)
    {
        var (answers, seen, seenRuns) = s.Answers.ToSnapshot();
        return new(s.Exists, s.LoanAsset, s.CollateralAsset, s.LoanDecimals, s.CollateralDecimals, s.LltvBps,
        s.Rate, s.ReserveFactorBps, s.LiquidationBonusBps, s.CreatedAt, Text(s.SupplyIndex), Text(s.BorrowIndex), s.AccruedTo, s.Cash,
        s.CollateralHeld, Text(s.TotalScaledSupply), Text(s.TotalScaledDebt), Text(s.Reserves), Text(s.InterestCharged),
        [.. s.Positions.Select(kv => new PositionEntry(kv.Key, Text(kv.Value.ScaledSupply), Text(kv.Value.ScaledDebt), kv.Value.Collateral))],
        answers, seen, SeenRuns: seenRuns);
    }

    /// <summary>Fills <paramref name="s"/> (new, empty) from this snapshot.</summary>
    public MarketState Restore(MarketState s)
    {
        (s.Exists, s.LoanAsset, s.CollateralAsset, s.LoanDecimals, s.CollateralDecimals, s.LltvBps) = (Exists, LoanAsset, CollateralAsset, LoanDecimals, CollateralDecimals, LltvBps);
        (s.Rate, s.ReserveFactorBps, s.LiquidationBonusBps, s.CreatedAt) = (Rate, ReserveFactorBps, LiquidationBonusBps, CreatedAt);
        (s.SupplyIndex, s.BorrowIndex, s.AccruedTo, s.Cash, s.CollateralHeld) = (Number(SupplyIndex), Number(BorrowIndex), AccruedTo, Cash, CollateralHeld);
        (s.TotalScaledSupply, s.TotalScaledDebt, s.Reserves, s.InterestCharged) = (Number(TotalScaledSupply), Number(TotalScaledDebt), Number(Reserves), Number(InterestCharged));
        foreach (var p in Positions) s.Positions[p.Account] = new Position { ScaledSupply = Number(p.ScaledSupply), ScaledDebt = Number(p.ScaledDebt), Collateral = p.Collateral };
        s.Answers.Restore(Answers, Seen, SeenRuns, SeenAt);
        return s;
    }

    internal static string Text(BigInteger v) => v.ToString(CultureInfo.InvariantCulture);

    internal static BigInteger Number(string v) => BigInteger.Parse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}

public sealed record PositionEntry(AccountId Account, string ScaledSupply, string ScaledDebt, Amount Collateral);

/// <summary>The persisted form of <see cref="FarmState"/>.</summary>
public sealed record FarmSnapshot(bool Exists, AssetId StakeAsset, AssetId RewardAsset, long DurationMs, long CreatedAt, string RewardRate,
    long PeriodFinish, long LastUpdate, string RewardPerTokenStored, Amount TotalStaked, Amount RewardHeld, StakeEntry[] Stakes, PoolAnswerEntry[] Answers,
    byte[]? Seen = null, byte[]? SeenAt = null, byte[]? SeenRuns = null)
{
    public static FarmSnapshot Of(FarmState s)
    {
        var (answers, seen, seenRuns) = s.Answers.ToSnapshot();
        return new(s.Exists, s.StakeAsset, s.RewardAsset, s.DurationMs, s.CreatedAt, MarketSnapshot.Text(s.RewardRate),
        s.PeriodFinish, s.LastUpdate, MarketSnapshot.Text(s.RewardPerTokenStored), s.TotalStaked, s.RewardHeld,
        [.. s.Stakes.Select(kv => new StakeEntry(kv.Key, kv.Value.Staked, MarketSnapshot.Text(kv.Value.Paid), MarketSnapshot.Text(kv.Value.Rewards)))],
        answers, seen, SeenRuns: seenRuns);
    }

    public FarmState Restore(FarmState s)
    {
        (s.Exists, s.StakeAsset, s.RewardAsset, s.DurationMs, s.CreatedAt) = (Exists, StakeAsset, RewardAsset, DurationMs, CreatedAt);
        (s.RewardRate, s.PeriodFinish, s.LastUpdate, s.RewardPerTokenStored) = (MarketSnapshot.Number(RewardRate), PeriodFinish, LastUpdate, MarketSnapshot.Number(RewardPerTokenStored));
        (s.TotalStaked, s.RewardHeld) = (TotalStaked, RewardHeld);
        foreach (var st in Stakes) s.Stakes[st.Account] = new Stake { Staked = st.Staked, Paid = MarketSnapshot.Number(st.Paid), Rewards = MarketSnapshot.Number(st.Rewards) };
        s.Answers.Restore(Answers, Seen, SeenRuns, SeenAt);
        return s;
    }
}

public sealed record StakeEntry(AccountId Account, Amount Staked, string Paid, string Rewards);
