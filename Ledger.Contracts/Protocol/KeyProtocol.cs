namespace Ledger.Contracts.Protocol;

// ---- API keys: one entity holding the hash, id and owner of every key issued, and the keys revoked ---------------

public interface IKeyMessage : IEntityMessage
{
    string IEntityMessage.EntityId => "keys";
}

/// <summary>
/// Records a key by its hash (the key itself is never sent or stored) under <see cref="KeyId"/>, a public name for it.
/// Answered with <see cref="KeyIssueResult"/>: the key's entry, or null if the hash or the id is already taken.
/// </summary>
public sealed record IssueKey(string Hash, string Owner, string KeyId) : IKeyMessage, IAsk<KeyIssueResult>;

public sealed record KeyIssueResult(KeyEntry? Key) : ILedgerMessage;

/// <summary>What may be shown of a key: never the key, never its hash.</summary>
public sealed record KeyEntry(string KeyId, string Owner, long CreatedAt) : ILedgerMessage;

/// <summary>
/// Answered with <see cref="KeyOwner"/>: the owner, or null for an unknown or revoked hash, with the store's
/// <see cref="KeyOwner.Version"/> (the number of revocations) at the time of the answer.
/// </summary>
public sealed record FindKey(string Hash) : IKeyMessage, IAsk<KeyOwner>;

public sealed record KeyOwner(string? Owner, long Version) : ILedgerMessage;

/// <summary>Answered with <see cref="KeyList"/>: every key not revoked, newest first.</summary>
public sealed record ListKeys : IKeyMessage, IAsk<KeyList>;

public sealed record KeyList(KeyEntry[] Items) : ILedgerMessage;

/// <summary>Revokes a key for good, durably before the answer. Answered with <see cref="KeyRevocation"/> (false: no such key, or already revoked).</summary>
public sealed record RevokeKey(string KeyId) : IKeyMessage, IAsk<KeyRevocation>;

public sealed record KeyRevocation(bool Revoked, long Version) : ILedgerMessage;

/// <summary>
/// A gateway's poll: the hashes revoked after version <see cref="Since"/>. Answered with <see cref="KeyChanges"/>;
/// <see cref="KeyChanges.Reset"/> when the gap is too long to list (or the store is behind the asker): drop every cached key.
/// </summary>
public sealed record WatchKeys(long Since) : IKeyMessage, IAsk<KeyChanges>;

public sealed record KeyChanges(long Version, string[] Revoked, bool Reset) : ILedgerMessage;
