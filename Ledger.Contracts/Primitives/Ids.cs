namespace Ledger.Contracts.Primitives;

/// <summary>Client-chosen ids: 1–64 characters of [A-Za-z0-9_.:-], case-sensitive (api.md).</summary>
public static class Id
{
    public const int MaxLength = 64;

    public static bool IsValid(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength) return false;
        foreach (var c in text)
        {
            var ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' or '.' or ':' or '-';
            if (!ok) return false;
        }
        return true;
    }
}

public readonly record struct AccountId(string Value)
{
    public override string ToString() => Value;
}

public readonly record struct AssetId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>A transaction id; unique within its initiating account, which makes (account, id) the idempotency key.</summary>
public readonly record struct TxId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>An AMM pool; its liquidity shares are the asset <c>lp.&lt;id&gt;</c>.</summary>
public readonly record struct PoolId(string Value)
{
    public const string SharePrefix = "lp.";

    public AssetId ShareAsset => new(SharePrefix + Value);

    public override string ToString() => Value;
}
