using System.Text.Json.Serialization;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>The JSON shapes of api.md (snake_case; amounts as strings).</summary>
public static class Views
{
    public static object Account(AccountView a) => new
    {
        id = a.Id.Value,
        owner = a.Owner,
        balances = a.Balances.ToDictionary(b => b.Asset.Value, b => new
        {
            posted = SignedAmount.Format(b.Posted),
            pending_out = b.PendingOut.ToString(),
            pending_in = b.PendingIn.ToString(),
            available = SignedAmount.Format(b.Available),
        }),
    };

    public static object Asset(AssetView a, Int128 issuerPosted) => new
    {
        id = a.Id.Value,
        decimals = a.Decimals,
        issuer = a.Issuer.Value,
        supply = SignedAmount.Format(-issuerPosted),
    };

    public static string Status(TransferStatus s) => s switch
    {
        TransferStatus.InFlight or TransferStatus.Pending => "pending",
        TransferStatus.Committed => "committed",
        TransferStatus.Rejected => "rejected",
        TransferStatus.Voided => "voided",
        TransferStatus.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    public static TransactionJson Transaction(TransferView t) => new(
        t.Id.Value, t.From.Value, "transfer", Status(t.Status), t.Code,
        [new LegJson(t.From.Value, t.To.Value, t.Asset.Value, (t.PostedAmount ?? t.Amount).ToString())],
        Result(t), Time(t.CreatedAt), t.CompletedAt is { } c ? Time(c) : null);

    public static TransferResultJson Result(TransferView t) => new(
        t.Pending, t.Pending ? t.Amount.ToString() : null, t.PostedAmount?.ToString(), t.ExpiresAt is { } e ? Time(e) : null);

    public static string Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
}

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
    TransferResultJson Result,
    string CreatedAt,
    string? CompletedAt);
