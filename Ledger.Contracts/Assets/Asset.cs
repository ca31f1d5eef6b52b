using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Assets;

public interface IAssetEvent;

public sealed record AssetCreated(int Decimals, AccountId Issuer, long At) : IAssetEvent;

/// <summary>The issuer account confirmed it holds the issuer right; only then is the asset usable.</summary>
public sealed record IssuerLinked : IAssetEvent;

public sealed class AssetState
{
    public required AssetId Id { get; init; }
    public bool Exists { get; set; }
    public int Decimals { get; set; }
    public AccountId Issuer { get; set; }
    public bool Linked { get; set; }
    public long CreatedAt { get; set; }
}

/// <summary>An asset's definition: immutable once created. Its supply lives in the issuer's balance.</summary>
public static class AssetContract
{
    public const int MaxDecimals = 38;

    /// <summary>Creating the same definition again is a retry; a different one under the same id is refused.</summary>
    public static (IReadOnlyList<IAssetEvent> Events, string? Rejection) Create(AssetState s, int decimals, AccountId issuer, long now)
    {
        if (!s.Exists) return ([new AssetCreated(decimals, issuer, now)], null);
        return s.Decimals == decimals && s.Issuer == issuer ? ([], null) : ([], Codes.AssetExists);
    }

    public static Action<IAssetEvent> ApplyTo(AssetState s) => e => Apply(s, e);

    public static void Apply(AssetState s, IAssetEvent e)
    {
        switch (e)
        {
            case AssetCreated c:
                s.Exists = true;
                s.Decimals = c.Decimals;
                s.Issuer = c.Issuer;
                s.CreatedAt = c.At;
                break;
            case IssuerLinked:
                s.Linked = true;
                break;
            default:
                throw new ArgumentException($"unknown asset event {e.GetType().Name}", nameof(e));
        }
    }
}
