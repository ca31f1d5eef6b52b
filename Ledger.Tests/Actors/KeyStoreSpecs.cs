using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Security;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;

namespace Ledger.Tests.Actors;

/// <summary>
/// The key store: issuing and revoking are durable (a restarted store remembers both), revocations make its version,
/// a poll lists the hashes revoked since a version, and keys issued before keys had ids still load, with a stable id.
/// </summary>
public class KeyStoreSpecs() : Akka.TestKit.Xunit2.TestKit(SpecConfig.Local())
{
    private IActorRef Store() => Sys.ActorOf(KeyStoreActor.Props(TimeProvider.System));

    private static T Ask<T>(IActorRef store, object message) => store.Ask<T>(message, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();

    private void Restart(ref IActorRef store)
    {
        Watch(store);
        Sys.Stop(store);
        ExpectTerminated(store);
        store = Store();
    }

    [Fact]
    public void A_revoked_key_is_unknown_listed_nowhere_and_stays_revoked_after_a_restart()
    {
        var store = Store();
        var kept = Ask<KeyIssueResult>(store, new IssueKey("hash-kept", "alice", "key_kept")).Key!;
        Assert.Equal(new KeyEntry("key_kept", "alice", kept.CreatedAt), kept);
        Assert.NotNull(Ask<KeyIssueResult>(store, new IssueKey("hash-gone", "alice", "key_gone")).Key);
        // Neither the hash nor the id of a key can be issued twice.
        Assert.Null(Ask<KeyIssueResult>(store, new IssueKey("hash-gone", "bob", "key_other")).Key);
        Assert.Null(Ask<KeyIssueResult>(store, new IssueKey("hash-other", "bob", "key_gone")).Key);
        Assert.Equal(new KeyOwner("alice", 0), Ask<KeyOwner>(store, new FindKey("hash-gone")));

        Assert.Equal(new KeyRevocation(true, 1), Ask<KeyRevocation>(store, new RevokeKey("key_gone")));
        Assert.Equal(new KeyRevocation(false, 1), Ask<KeyRevocation>(store, new RevokeKey("key_gone")));
        Assert.Equal(new KeyRevocation(false, 1), Ask<KeyRevocation>(store, new RevokeKey("key_never")));
        Assert.Equal(new KeyOwner(null, 1), Ask<KeyOwner>(store, new FindKey("hash-gone")));
        var changes = Ask<KeyChanges>(store, new WatchKeys(0));
        Assert.Equal((1, false), (changes.Version, changes.Reset));
        Assert.Equal(["hash-gone"], changes.Revoked);
        Assert.Empty(Ask<KeyChanges>(store, new WatchKeys(1)).Revoked);

        Restart(ref store);
        Assert.Equal(new KeyOwner(null, 1), Ask<KeyOwner>(store, new FindKey("hash-gone")));
        Assert.Equal(new KeyOwner("alice", 1), Ask<KeyOwner>(store, new FindKey("hash-kept")));
        Assert.Equal([kept], Ask<KeyList>(store, new ListKeys()).Items);
        // A poller ahead of the store (a journal replaced under it) drops everything it holds.
        Assert.True(Ask<KeyChanges>(store, new WatchKeys(5)).Reset);
    }

    [Fact]
    public void A_key_issued_before_keys_had_ids_loads_with_an_id_derived_from_its_hash_and_can_be_revoked()
    {
        var writer = Sys.ActorOf(Props.Create(() => new OldKeyStore(new KeyIssued("hash-old", "carol", 1_700_000_000_000))));
        writer.Tell("write");
        ExpectMsg("written");
        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer);

        var store = Store();
        var id = KeyStoreActor.LegacyKeyId("hash-old");
        Assert.True(Ledger.Contracts.Primitives.Id.IsValid(id));
        Assert.Equal([new KeyEntry(id, "carol", 1_700_000_000_000)], Ask<KeyList>(store, new ListKeys()).Items);
        Assert.Equal("carol", Ask<KeyOwner>(store, new FindKey("hash-old")).Owner);
        Assert.True(Ask<KeyRevocation>(store, new RevokeKey(id)).Revoked);
        Restart(ref store);
        Assert.Null(Ask<KeyOwner>(store, new FindKey("hash-old")).Owner);
        Assert.Empty(Ask<KeyList>(store, new ListKeys()).Items);
    }

    /// <summary>Writes what an earlier build's key store wrote, under the same persistence id.</summary>
    private sealed class OldKeyStore(KeyIssued issued) : UntypedPersistentActor
    {
        public override string PersistenceId => "keys";

        protected override void OnRecover(object message) { }

        protected override void OnCommand(object message)
        {
            var sender = Sender;
            Persist(issued, _ => sender.Tell("written"));
        }
    }
}
