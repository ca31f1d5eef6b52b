using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Protocol;

/// <summary>Root of everything that travels between nodes; the wire serializer binds to it.</summary>
public interface ILedgerMessage;

/// <summary>A message for one sharded entity; the extractor routes on <see cref="EntityId"/>.</summary>
public interface IEntityMessage : ILedgerMessage
{
    string EntityId { get; }
}

/// <summary>
/// A venue's own command (a channel's close, a governor's vote), remembered by the venue under the caller's (account, id)
/// and answered as the venue answers it — unlike an account's venue call, which the account remembers and the venue answers
/// with a <c>VenueAnswer</c>.
/// </summary>
public interface IVenueCommand : IEntityMessage;

// ---- requests paired with their replies: any of them may also be answered JournalUnavailable ----------------

/// <summary>A request to one entity that is always answered with <typeparamref name="TReply"/> (a refusal, if any, is part of it).</summary>
public interface IAsk<TReply> : IEntityMessage where TReply : ILedgerMessage;

/// <summary>
/// A request to one entity answered with <typeparamref name="TReply"/>, or with <see cref="Rejected"/> when it changed
/// nothing (not found, exists with another definition…): the asker must handle both.
/// </summary>
public interface IRejectableAsk<TReply> : IEntityMessage where TReply : ILedgerMessage;

// ---- replies any entity may give ------------------------------------------------------------------------

/// <summary>A refusal that changed nothing (not found, id conflict, exists…).</summary>
public sealed record Rejected(string Code) : ILedgerMessage;

/// <summary>
/// The entity's write to the journal failed: the outcome of the request is unknown (the write may have landed) and
/// the entity restarts from the journal; retry with the same id.
/// </summary>
public sealed record JournalUnavailable(string Entity) : ILedgerMessage;

/// <summary>The ledger has more of this kind of work waiting than it queues (<see cref="What"/>): nothing was done; retry.</summary>
public sealed record Busy(string What) : ILedgerMessage;

// ---- venues: pools, markets and farms answer an account's call alike -------------------------------------

/// <summary>Venue → account (to the account's actor directly): the venue's durable answer to a call.</summary>
public sealed record VenueAnswer(string Venue, TxId Id, CallAnswer Answer) : ILedgerMessage;

// ---- the supply audit: accounts, pools, markets and farms answer their Get…Holdings with Holdings ------------

/// <summary>
/// One entity's part of the supply audit, per asset: its net holding (negative for an issuer), the value it
/// has sent that is still in flight, and the supply it has issued.
/// </summary>
public sealed record Holding(AssetId Asset, Int128 Held, Amount InFlight, Amount Issued);

public sealed record Holdings(Holding[] Items) : ILedgerMessage;
