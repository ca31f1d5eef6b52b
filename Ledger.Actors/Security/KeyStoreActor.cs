using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Persistence;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Security;

/// <summary>The key store's first event: a key's SHA-256 hash (hex) and its owner. Still read; no longer written.</summary>
public sealed record KeyIssued(string Hash, string Owner, long At);

/// <summary>A key issued: its public id, the SHA-256 hash (hex) of the key and its owner. The key itself is never persisted.</summary>
public sealed record KeyCreated(string KeyId, string Hash, string Owner, long At);

/// <summary>A key revoked for good.</summary>
public sealed record KeyRevoked(string KeyId, long At);

/// <summary>
/// Every API key issued, as hash → owner, and every revocation, in one persistent entity (keys are few). Issuing and
/// revoking are persisted before they are acknowledged. The revocations, in order, make the store's version: a
/// gateway that caches keys polls <see cref="WatchKeys"/> for the hashes revoked since the version it has seen.
/// </summary>
public sealed class KeyStoreActor(TimeProvider time) : UntypedPersistentActor
{
    /// <summary>Revoked hashes one poll answer lists at most; a gateway further behind drops its whole cache instead.</summary>
    public const int RevokedPerAnswerMax = 256;

    private sealed record Key(string KeyId, string Hash, string Owner, long CreatedAt)
    {
        public bool Revoked { get; set; }
    }

    private readonly Dictionary<string, Key> _byHash = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Key> _byId = new(StringComparer.Ordinal);
    private readonly List<string> _revoked = [];

    public static Props Props(TimeProvider time) => Akka.Actor.Props.Create(() => new KeyStoreActor(time));

    public override string PersistenceId => "keys";

    private long Version => _revoked.Count;

    /// <summary>
    /// The id of a key issued before keys had ids: derived from its hash, so it is the same after every recovery, and
    /// (a hash of a hash of 32 random bytes) tells nothing about the key.
    /// </summary>
    public static string LegacyKeyId(string hash) =>
        "key_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("key_id:" + hash)))[..20];

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case KeyIssued k:
                Apply(new KeyCreated(LegacyKeyId(k.Hash), k.Hash, k.Owner, k.At));
                break;
            case KeyCreated k:
                Apply(k);
                break;
            case KeyRevoked r:
                Apply(r);
                break;
        }
    }

    private void Apply(KeyCreated e)
    {
        var key = new Key(e.KeyId, e.Hash, e.Owner, e.At);
        _byHash[e.Hash] = key;
        _byId[e.KeyId] = key;
    }

    private void Apply(KeyRevoked e)
    {
        if (!_byId.TryGetValue(e.KeyId, out var key) || key.Revoked) return;
        key.Revoked = true;
        _revoked.Add(key.Hash);
    }

    protected override void OnCommand(object message)
    {
        var sender = Sender;
        switch (message)
        {
            case IssueKey issue when _byHash.ContainsKey(issue.Hash) || _byId.ContainsKey(issue.KeyId):
                sender.Tell(new KeyIssueResult(null));
                break;
            case IssueKey issue:
                Persist(new KeyCreated(issue.KeyId, issue.Hash, issue.Owner, time.GetUtcNow().ToUnixTimeMilliseconds()), e =>
                {
                    Apply(e);
                    sender.Tell(new KeyIssueResult(new KeyEntry(e.KeyId, e.Owner, e.At)));
                });
                break;
            case FindKey find:
                sender.Tell(new KeyOwner(_byHash.TryGetValue(find.Hash, out var k) && !k.Revoked ? k.Owner : null, Version));
                break;
            case ListKeys:
                sender.Tell(new KeyList([.. _byId.Values.Where(k => !k.Revoked).OrderByDescending(k => k.CreatedAt).ThenBy(k => k.KeyId, StringComparer.Ordinal)
                    .Select(k => new KeyEntry(k.KeyId, k.Owner, k.CreatedAt))]));
                break;
            case RevokeKey revoke when !_byId.TryGetValue(revoke.KeyId, out var key) || key.Revoked:
                sender.Tell(new KeyRevocation(false, Version));
                break;
            case RevokeKey revoke:
                Persist(new KeyRevoked(revoke.KeyId, time.GetUtcNow().ToUnixTimeMilliseconds()), e =>
                {
                    Apply(e);
                    sender.Tell(new KeyRevocation(true, Version));
                });
                break;
            case WatchKeys watch:
                var behind = Version - watch.Since;
                sender.Tell(behind is < 0 or > RevokedPerAnswerMax
                    ? new KeyChanges(Version, [], Reset: true)
                    : new KeyChanges(Version, [.. _revoked.Skip((int)watch.Since)], Reset: false));
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}
