using Akka.Actor;
using Akka.Persistence;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Security;

/// <summary>The key store's event: a key's SHA-256 hash (hex) and its owner. The key itself is never persisted.</summary>
public sealed record KeyIssued(string Hash, string Owner, long At);

/// <summary>
/// Every API key issued, as hash → owner, in one persistent entity (keys are few and read once per gateway: the
/// gateway caches what it has verified). Issuing is persisted before it is acknowledged.
/// </summary>
public sealed class KeyStoreActor(TimeProvider time) : UntypedPersistentActor
{
    private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal);

    public static Props Props(TimeProvider time) => Akka.Actor.Props.Create(() => new KeyStoreActor(time));

    public override string PersistenceId => "keys";

    protected override void OnRecover(object message)
    {
        if (message is KeyIssued k) _owners[k.Hash] = k.Owner;
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case IssueKey issue:
                var sender = Sender;
                Persist(new KeyIssued(issue.Hash, issue.Owner, time.GetUtcNow().ToUnixTimeMilliseconds()), e =>
                {
                    _owners[e.Hash] = e.Owner;
                    sender.Tell(new KeyOwner(e.Owner));
                });
                break;
            case FindKey find:
                Sender.Tell(new KeyOwner(_owners.GetValueOrDefault(find.Hash)));
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}
