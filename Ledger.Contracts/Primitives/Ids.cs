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

/// <summary>An option series; its token is the asset <c>opt.&lt;id&gt;</c>.</summary>
public readonly record struct OptionId(string Value)
{
    public const string TokenPrefix = "opt.";

    public AssetId Token => new(TokenPrefix + Value);

    public override string ToString() => Value;
}

/// <summary>A governor; its treasury is the account <c>gov.&lt;id&gt;</c>, which only its proposals' execution spends from.</summary>
public readonly record struct GovernorId(string Value)
{
    public const string TreasuryPrefix = "gov.";

    public AccountId Treasury => new(TreasuryPrefix + Value);

    public override string ToString() => Value;
}

/// <summary>A payment channel between two accounts.</summary>
public readonly record struct ChannelId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>A perpetual futures market.</summary>
public readonly record struct PerpId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>An isolated lending market.</summary>
public readonly record struct MarketId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>A staking farm.</summary>
public readonly record struct FarmId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>
/// The key of a multi-party transaction: its initiating account and id — those of its first operation, so a
/// route is keyed like the swap it is, and an atomic batch like its first operation.
/// </summary>
public readonly record struct SagaKey(AccountId Account, TxId Id)
{
    /// <summary>The saga entity's id: <c>account/id</c> ('/' is never part of an id).</summary>
    public string EntityId => Account.Value + "/" + Id.Value;

    public static SagaKey Parse(string entityId)
    {
        var slash = entityId.IndexOf('/', StringComparison.Ordinal);
        return new SagaKey(new AccountId(entityId[..slash]), new TxId(entityId[(slash + 1)..]));
    }

    /// <summary>What an account remembers once it has applied this saga's outcome (distinct from any transaction key).</summary>
    public ulong Hash => Fingerprint.Of("saga", Account.Value, Id.Value);

    public override string ToString() => EntityId;
}
