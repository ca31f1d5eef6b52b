using System.Text.Json.Serialization;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Farms;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Options;
using Ledger.Contracts.Perps;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Accounts;

/// <summary>
/// An operation of an account on a lending market or a staking farm, run like a single-pool swap: the account
/// debits <see cref="In"/> first (in flight until answered), the venue decides and commits in one step, and the
/// account is credited with what comes back. <see cref="Amount"/> is the amount asked for (for calls that bring
/// assets, the same as the input).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "venue")]
[JsonDerivedType(typeof(MarketCall), "market")]
[JsonDerivedType(typeof(FarmCall), "farm")]
[JsonDerivedType(typeof(OptionCall), "option")]
[JsonDerivedType(typeof(PerpCall), "perp")]
[JsonDerivedType(typeof(ChannelCall), "channel")]
public abstract record VenueCall(Leg[] In, Amount Amount)
{
    /// <summary>The idempotency fingerprint of the request.</summary>
    public abstract ulong Fingerprint(AccountId account);

    /// <summary>The operation's name as api.md spells it (<c>supply</c>, <c>borrow</c>, <c>stake</c>…).</summary>
    public abstract string Operation { get; }

    public abstract string VenueId { get; }

    /// <summary>The venue's kind, as the feed and the gateway name it (<c>market</c>, <c>farm</c>, <c>option</c>, <c>perp</c>, <c>channel</c>).</summary>
    [JsonIgnore]
    public abstract string VenueKind { get; }

    [JsonIgnore]
    public VenueRef Venue => new(VenueKind, VenueId);
}

/// <summary>A venue an account has called, where it may hold a position.</summary>
public sealed record VenueRef(string Kind, string Id);

public sealed record MarketCall(MarketId Market, MarketCallKind Kind, Leg[] In, Amount Amount, AccountId? Borrower = null) : VenueCall(In, Amount)
{
    public override ulong Fingerprint(AccountId account) =>
        Primitives.Fingerprint.Of("market", account.Value, Market.Value, Kind.ToString(), Amount.ToString(), Borrower?.Value);

    public override string Operation => Kind switch
    {
        MarketCallKind.SupplyCollateral => "supply_collateral",
        MarketCallKind.WithdrawCollateral => "withdraw_collateral",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    public override string VenueId => Market.Value;

    public override string VenueKind => "market";
}

public sealed record FarmCall(FarmId Farm, FarmCallKind Kind, Leg[] In, Amount Amount) : VenueCall(In, Amount)
{
    public override ulong Fingerprint(AccountId account) =>
        Primitives.Fingerprint.Of("farm", account.Value, Farm.Value, Kind.ToString(), Amount.ToString());

    public override string Operation => Kind == FarmCallKind.Fund ? "rewards" : Kind.ToString().ToLowerInvariant();

    public override string VenueId => Farm.Value;

    public override string VenueKind => "farm";
}

public sealed record OptionCall(OptionId Series, OptionCallKind Kind, Leg[] In, Amount Amount) : VenueCall(In, Amount)
{
    public override ulong Fingerprint(AccountId account) =>
        Primitives.Fingerprint.Of("option", account.Value, Series.Value, Kind.ToString(), Amount.ToString());

    public override string Operation => Kind.ToString().ToLowerInvariant();

    public override string VenueId => Series.Value;

    public override string VenueKind => "option";
}

/// <summary>An operation on a perpetual futures market; an order's signed size is <see cref="SizeDelta"/> (its magnitude in <see cref="VenueCall.Amount"/>).</summary>
public sealed record PerpCall(PerpId Perp, PerpCallKind Kind, Leg[] In, Amount Amount, Int128 SizeDelta = default, AccountId? Target = null) : VenueCall(In, Amount)
{
    public override ulong Fingerprint(AccountId account) =>
        Primitives.Fingerprint.Of("perp", account.Value, Perp.Value, Kind.ToString(), Amount.ToString(),
            SizeDelta.ToString(System.Globalization.CultureInfo.InvariantCulture), Target?.Value);

    public override string Operation => Kind switch
    {
        PerpCallKind.VaultDeposit => "vault_deposit",
        PerpCallKind.VaultWithdraw => "vault_withdraw",
        PerpCallKind.MarginDeposit => "margin_deposit",
        PerpCallKind.MarginWithdraw => "margin_withdraw",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    public override string VenueId => Perp.Value;

    public override string VenueKind => "perp";
}

/// <summary>A deposit into a payment channel, or the payout of its settlement to a participant.</summary>
public sealed record ChannelCall(ChannelId Channel, ChannelCallKind Kind, Leg[] In, Amount Amount) : VenueCall(In, Amount)
{
    public override ulong Fingerprint(AccountId account) =>
        Primitives.Fingerprint.Of("channel", account.Value, Channel.Value, Kind.ToString(), Amount.ToString());

    public override string Operation => Kind == ChannelCallKind.Deposit ? "channel_deposit" : "channel_payout";

    public override string VenueId => Channel.Value;

    public override string VenueKind => "channel";
}
