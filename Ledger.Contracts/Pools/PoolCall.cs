using System.Globalization;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Pools;

/// <summary>An amount of one asset moving in one direction.</summary>
public sealed record Leg(AssetId Asset, Amount Amount);

public enum PoolCallKind
{
    /// <summary>Exact input <c>In[0]</c>; at least <see cref="PoolCall.MinOut"/> of <see cref="PoolCall.AssetOut"/> back.</summary>
    SwapExactIn,
    /// <summary>Exactly <see cref="PoolCall.AmountOut"/> of <see cref="PoolCall.AssetOut"/>; <c>In[0]</c> is the most that may be paid (the rest comes back).</summary>
    SwapExactOut,
    /// <summary><c>In</c> = the desired amounts of A and B; what the pool does not use comes back with the shares.</summary>
    Deposit,
    /// <summary><c>In</c> = shares (<c>lp.&lt;pool&gt;</c>) to burn for A and B pro rata.</summary>
    Withdraw,
}

/// <summary>
/// One operation of an account on a pool. The account sends the <see cref="In"/> legs with it (debited from its
/// balance and in flight to the pool until the pool answers); the pool answers with what goes back — the
/// output, shares, change, or on a refusal the inputs themselves. Limits are the client's protection
/// (<c>min_amount_out</c>, <c>max_amount_in</c> as <c>In[0]</c>, <c>amount_a_min</c>…, <c>deadline</c>).
/// A swap along a <see cref="Route"/> of several pools goes to the route's coordinator (<see cref="RouteDesk"/>), its
/// lowest pool by id, which executes every hop or none.
/// </summary>
public sealed record PoolCall(PoolId Pool, PoolCallKind Kind, Leg[] In, AssetId? AssetOut = null, Amount? AmountOut = null,
    Amount MinOut = default, Amount MinA = default, Amount MinB = default, long? Deadline = null, PoolId[]? Route = null)
{
    /// <summary>The idempotency fingerprint of the request: the same key with another body is a conflict.</summary>
    public ulong Fingerprint(AccountId account)
    {
        var parts = new List<string?>
        {
            "pool-call", account.Value, Pool.Value, Kind.ToString(), AssetOut?.Value, AmountOut?.ToString(), MinOut.ToString(),
            MinA.ToString(), MinB.ToString(), Deadline?.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var leg in In)
        {
            parts.Add(leg.Asset.Value);
            parts.Add(leg.Amount.ToString());
        }
        if (Route is not null) parts.Add("route:" + string.Join(",", Route.Select(p => p.Value)));
        return Primitives.Fingerprint.Of([.. parts]);
    }
}

/// <summary>
/// A venue's (a pool's, market's or farm's) answer to one call: what goes back to the account (<see cref="Out"/>),
/// and the refusal code if it was refused (then <see cref="Out"/> is the inputs, returned whole). A venue's own commands
/// (a channel's close, a governor's vote) keep the request's <see cref="Fingerprint"/> (0: none kept), so that the same id
/// with another body is <c>id_conflict</c>; an account's calls are fingerprinted by the account. A route's answer carries
/// its path and the amount after each hop (<see cref="Fill"/>).
/// </summary>
public sealed record CallAnswer(Leg[] Out, string? Code, ulong Fingerprint = 0, Sagas.OpFill? Fill = null)
{
    public static CallAnswer Refusal(PoolCall call, string code) => new(call.In, code);
}

/// <summary>What an executed call did, as api.md reports it (derived from the legs).</summary>
public sealed record PoolCallResult(Amount AmountIn, Amount AmountOut, Amount AmountA, Amount AmountB, Amount Shares)
{
    /// <summary>How much of <paramref name="asset"/> the pool paid back.</summary>
    public static Amount Back(IReadOnlyList<Leg> @out, AssetId asset) => @out.Where(l => l.Asset == asset).Aggregate(Amount.Zero, (sum, l) => sum + l.Amount);

    public static PoolCallResult Of(PoolCall call, IReadOnlyList<Leg> @out)
    {
        var in0 = call.In[0];
        switch (call.Kind)
        {
            case PoolCallKind.SwapExactIn:
            case PoolCallKind.SwapExactOut:
                return new(in0.Amount - Back(@out, in0.Asset), Back(@out, call.AssetOut!.Value), default, default, default);
            case PoolCallKind.Deposit:
                var in1 = call.In[1];
                return new(default, default, in0.Amount - Back(@out, in0.Asset), in1.Amount - Back(@out, in1.Asset), Back(@out, call.Pool.ShareAsset));
            default:
                // A withdrawal pays out A then B.
                return new(default, default, @out.Count > 0 ? @out[0].Amount : default, @out.Count > 1 ? @out[1].Amount : default, in0.Amount);
        }
    }
}
