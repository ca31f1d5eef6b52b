using System.Text.Json;
using System.Text.Json.Serialization;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Host.Gateway;

/// <summary>The JSON shapes of api.md (snake_case; amounts as strings).</summary>
public static class Views
{
    /// <summary>The naming of every request and response record (snake_case), for the host's JSON options and the document.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        // Bodies are read by hand (RequestBody), never bound: strict numbers only keep the document's integers plain integers.
        options.NumberHandling = JsonNumberHandling.Strict;
    }

    public static AccountJson Account(AccountView a) => new(a.Id.Value, a.Owner, Balances(a.Balances), a.Closed);

    public static Dictionary<string, BalanceJson> Balances(BalanceView[] balances) => balances.ToDictionary(b => b.Asset.Value, b => new BalanceJson(
        SignedAmount.Format(b.Posted), b.PendingOut.ToString(), b.PendingIn.ToString(), SignedAmount.Format(b.Available)));

    public static AssetJson Asset(AssetView a, Int128 issuerPosted) => new(a.Id.Value, a.Decimals, a.Issuer.Value, SignedAmount.Format(-issuerPosted));

    public static string Status(TransferStatus s) => s switch
    {
        TransferStatus.InFlight or TransferStatus.Pending => "pending",
        TransferStatus.Committed => "committed",
        TransferStatus.Rejected => "rejected",
        TransferStatus.Voided => "voided",
        TransferStatus.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    public static TransactionJson Transaction(TransferView t)
    {
        if (t.Call is { Route: not null } route) return RouteTransaction(t, RouteDesk.AsSwap(t.From, t.Id, route));
        if (t.Call is { } call) return PoolTransaction(t, call);
        if (t.Op is SwapOp swap) return RouteTransaction(t, swap);
        if (t.Venue is { } venue) return VenueTransaction(t, venue);
        return new(t.Id.Value, t.From.Value, "transfer", Status(t.Status), t.Code,
            [new LegJson(t.From.Value, t.To.Value, t.Asset.Value, (t.PostedAmount ?? t.Amount).ToString())],
            Result(t), Time(t.CreatedAt), t.CompletedAt is { } c ? Time(c) : null, t.UserData);
    }

    /// <summary>A swap, deposit or withdrawal: legs into the pool, and (once committed) what came back.</summary>
    private static TransactionJson PoolTransaction(TransferView t, PoolCall call)
    {
        var (account, pool) = (t.From.Value, call.Pool.Value);
        var committed = t.Status == TransferStatus.Committed;
        var result = committed ? PoolCallResult.Of(call, t.Returned!) : null;
        LegJson[] legs = committed
            ? [.. call.In.Select(l => new LegJson(account, pool, l.Asset.Value, (l.Amount - PoolCallResult.Back(t.Returned!, l.Asset)).ToString())),
               .. t.Returned!.Where(l => !call.In.Any(i => i.Asset == l.Asset)).Select(l => new LegJson(pool, account, l.Asset.Value, l.Amount.ToString()))]
            : [.. call.In.Select(l => new LegJson(account, pool, l.Asset.Value, l.Amount.ToString()))];
        object? view = (call.Kind, result) switch
        {
            (_, null) => null,
            (PoolCallKind.Deposit, { } r) => new { pool, amount_a = r.AmountA.ToString(), amount_b = r.AmountB.ToString(), shares = r.Shares.ToString() },
            (PoolCallKind.Withdraw, { } r) => new { pool, shares = r.Shares.ToString(), amount_a = r.AmountA.ToString(), amount_b = r.AmountB.ToString() },
            (_, _) => SwapResult(call.Route ?? [call.Pool], SwapsApi.Fill(call, t.Returned!, t.Fill)),
        };
        var type = call.Kind switch { PoolCallKind.Deposit => "deposit", PoolCallKind.Withdraw => "withdrawal", _ => "swap" };
        return new(t.Id.Value, account, type, Status(t.Status), t.Code, legs, view, Time(t.CreatedAt), t.CompletedAt is { } c ? Time(c) : null);
    }

    /// <summary>A swap along a route (a saga): the input to the first pool, the output from the last once committed.</summary>
    private static TransactionJson RouteTransaction(TransferView t, SwapOp swap)
    {
        var (account, first, last) = (t.From.Value, swap.Route[0].Value, swap.Route[^1].Value);
        var committed = t.Status == TransferStatus.Committed;
        LegJson[] legs = committed
            ? [new LegJson(account, first, swap.AssetIn.Value, t.Fill!.AmountIn.ToString()), new LegJson(last, account, t.Fill.Path![^1].Value, t.Fill.AmountOut.ToString())]
            : [new LegJson(account, first, swap.AssetIn.Value, swap.AmountIn.ToString())];
        return new(t.Id.Value, account, "swap", Status(t.Status), t.Code, legs, committed ? SwapResult(swap.Route, t.Fill!) : null,
            Time(t.CreatedAt), t.CompletedAt is { } c ? Time(c) : null);
    }

    /// <summary>A market or farm operation: what went to the venue, and (once committed) what came back.</summary>
    private static TransactionJson VenueTransaction(TransferView t, VenueCall call)
    {
        var (account, venue) = (t.From.Value, call.VenueId);
        var committed = t.Status == TransferStatus.Committed;
        LegJson[] legs = [.. call.In.Select(l => new LegJson(account, venue, l.Asset.Value, (l.Amount - (committed ? PoolCallResult.Back(t.Returned!, l.Asset) : Amount.Zero)).ToString())),
            .. (committed ? t.Returned! : []).Where(l => !call.In.Any(i => i.Asset == l.Asset)).Select(l => new LegJson(venue, account, l.Asset.Value, l.Amount.ToString()))];
        object? result = committed ? new { venue, amount = call.Amount.ToString(), returned = t.Returned!.Select(l => new { asset = l.Asset.Value, amount = l.Amount.ToString() }) } : null;
        return new(t.Id.Value, account, call.Operation, Status(t.Status), t.Code, legs, result, Time(t.CreatedAt), t.CompletedAt is { } c ? Time(c) : null);
    }

    private static object SwapResult(PoolId[] route, OpFill fill) => new
    {
        route = route.Select(p => p.Value).ToArray(),
        amount_in = fill.AmountIn.ToString(),
        amount_out = fill.AmountOut.ToString(),
        amounts = fill.Amounts!.Select(a => a.ToString()).ToArray(),
    };

    public static PoolJson Pool(PoolView p) => new(p.Id.Value, p.AssetA.Value, p.AssetB.Value, p.ReserveA.ToString(), p.ReserveB.ToString(),
        p.TotalShares.ToString(), p.FeeBps, p.Id.ShareAsset.Value);

    public static TransferResultJson Result(TransferView t) => new(
        t.Pending, t.Pending ? t.Amount.ToString() : null, t.PostedAmount?.ToString(), t.ExpiresAt is { } e ? Time(e) : null);

    public static string Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record AccountJson(string Id, string Owner, Dictionary<string, BalanceJson> Balances, bool Closed);

/// <summary>One asset's balance; <c>available = posted − pending_out</c>. Posted and available are signed (an issuer's go below zero).</summary>
public sealed record BalanceJson(string Posted, string PendingOut, string PendingIn, string Available);

/// <summary><c>GET /v1/accounts/{id}/balances?at=</c>: the balances as they stood at that instant.</summary>
public sealed record BalancesAtJson(string Id, string At, Dictionary<string, BalanceJson> Balances);

/// <summary>A page of an account's transactions, newest first; <c>next</c> is the cursor of the following page.</summary>
public sealed record TransactionPageJson(TransactionJson[] Items, string? Next);

/// <summary>An asset; <c>supply</c> is minus the issuer's balance.</summary>
public sealed record AssetJson(string Id, int Decimals, string Issuer, string Supply);

public sealed record PoolJson(string Id, string AssetA, string AssetB, string ReserveA, string ReserveB, string TotalShares, int FeeBps, string LpAsset);

public sealed record LegJson(string From, string To, string Asset, string Amount);

public sealed record TransferResultJson(
    bool Pending,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PendingAmount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PostedAmount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ExpiresAt);

public sealed record TransactionJson(
    string Id,
    string Account,
    string Type,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code,
    LegJson[] Legs,
    object? Result,
    string CreatedAt,
    string? CompletedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? UserData = null);
