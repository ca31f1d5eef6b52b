using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Serialization;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Assets;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;

namespace Ledger.Tests.Actors;

public class SerializationSpecs() : Akka.TestKit.Xunit2.TestKit(SpecConfig.Local())
{
    private static readonly TxId Tx = new("tx-1");
    private static readonly AccountId Alice = new("alice");
    private static readonly AssetId Usd = new("USD");

    public static TheoryData<object> Events() =>
    [
        new AccountOpened("alice", 1),
        new IssuerGranted(Usd),
        new TransferRejected(Tx, Alice, Usd, Amount.MaxValue, true, 5, ulong.MaxValue, Codes.InsufficientFunds, 2),
        new TransferDebited(Tx, Alice, Usd, new Amount(10), true, 5, 7, 42, 2),
        new DeliveryAcknowledged(Tx, 2, 3),
        new TransferCompensated(Tx, Codes.AccountNotFound, 4),
        new PendingPosted(Tx, new Amount(3), null, 5),
        new PendingVoided(Tx, 6),
        new PendingExpired(Tx, 7),
        new TransferCredited(Alice, Tx, Usd, new Amount(1), false, null, 8),
        new CreditRefused(Alice, Tx, Usd, new Amount(1), Codes.AccountNotFound, 9),
        new PendingResolved(Alice, Tx, TransferStatus.Committed, new Amount(2), 10),
        new AssetCreated(18, Alice, 11),
        new IssuerLinked(),
        new Ledger.Actors.Security.KeyIssued("ab12", "alice", 12),
        new Ledger.Actors.Security.KeyCreated("key_0123", "ab12", "alice", 13),
        new Ledger.Actors.Security.KeyRevoked("key_0123", 14),
    ];

    [Theory]
    [MemberData(nameof(Events))]
    public void Every_event_persists_as_versioned_json_and_reads_back_equal(object e)
    {
        var serializer = Sys.Serialization.FindSerializerFor(e);
        Assert.IsType<EventSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, e);
        Assert.EndsWith(".v1", manifest);
        Assert.Equal(e, Sys.Serialization.Deserialize(serializer.ToBinary(e), serializer.Identifier, manifest));
    }

    public static TheoryData<Type> PersistedTypes() => [.. EventSerializer.PersistedTypes];

    /// <summary>A persisted type without its binding would be written by Akka's Newtonsoft fallback, slowly and unversioned.</summary>
    [Theory]
    [MemberData(nameof(PersistedTypes))]
    public void Every_persisted_type_is_bound_to_the_event_serializer(Type type) =>
        Assert.IsType<EventSerializer>(Sys.Serialization.FindSerializerForType(type));

    [Fact]
    public void A_write_of_several_events_is_one_row_that_reads_back_equal()
    {
        var write = new AccountWrite(((IEnumerable<object[]>)Events()).Select(row => row[0]).OfType<IAccountEvent>().ToArray());
        var serializer = Sys.Serialization.FindSerializerFor(write);
        Assert.IsType<EventSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, write);
        var back = Assert.IsType<AccountWrite>(Sys.Serialization.Deserialize(serializer.ToBinary(write), serializer.Identifier, manifest));
        Assert.Equal(write.Events, back.Events);
    }

    [Fact]
    public void Events_stay_readable_in_their_v1_form()
    {
        // Written by an earlier build; if this fails, an event's schema changed incompatibly.
        const string stored = """{"Id":"tx-1","To":"alice","Asset":"USD","Amount":"10","Pending":true,"TimeoutMs":5,"ExpiresAt":7,"Fingerprint":42,"At":2}""";
        var e = Sys.Serialization.Deserialize(System.Text.Encoding.UTF8.GetBytes(stored), EventSerializer.Id, "TransferDebited.v1");
        Assert.Equal(new TransferDebited(Tx, Alice, Usd, new Amount(10), true, 5, 7, 42, 2), e);
        const string key = """{"Hash":"ab12","Owner":"alice","At":12}""";
        Assert.Equal(new Ledger.Actors.Security.KeyIssued("ab12", "alice", 12),
            Sys.Serialization.Deserialize(System.Text.Encoding.UTF8.GetBytes(key), EventSerializer.Id, "KeyIssued.v1"));
    }

    public static TheoryData<object> Messages() =>
    [
        new OpenAccount(Alice, "alice"),
        new SubmitTransfers(Alice, [new TransferRequest(Tx, new("bob"), Usd, Amount.MaxValue, true, 100)]),
        new Deliver(Alice, new("bob"), [new DeliveryItem(Tx, 1, Usd, new Amount(5), false, null, TransferStatus.InFlight, Amount.Zero)]),
        new TransferOutcome(new TransferView(Tx, Alice, new("bob"), Usd, new Amount(1), false, TransferStatus.Committed, null, null, null, 1, 2), null),
        new AccountView(Alice, "alice", [new BalanceView(Usd, Int128.MinValue + 1, Amount.MaxValue, Amount.Zero)], true),
        new Rejected(Codes.AccountExists),
        new IssueKey("ab12", "alice", "key_0123"),
        new KeyIssueResult(new KeyEntry("key_0123", "alice", 13)),
        new ListKeys(),
        new KeyList([new KeyEntry("key_0123", "alice", 13)]),
        new RevokeKey("key_0123"),
        new KeyRevocation(true, 1),
        new WatchKeys(0),
        new KeyChanges(1, ["ab12"], false),
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_message_crosses_the_wire_through_hyperion(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<WireSerializer>(serializer);
        var back = serializer.FromBinary(serializer.ToBinary(message), message.GetType());
        Assert.Equivalent(message, back, strict: true);
    }

    [Fact]
    public void Wire_refuses_a_type_outside_the_allow_list()
    {
        var bytes = new Hyperion.Serializer();
        using var stream = new MemoryStream();
        bytes.Serialize(new NotOnTheList("payload"), stream);
        var wire = (WireSerializer)Sys.Serialization.FindSerializerForType(typeof(ILedgerMessage));
        Assert.ThrowsAny<Exception>(() => wire.FromBinary(stream.ToArray(), typeof(object)));
    }

    [Fact]
    public void Actor_references_travel_as_paths()
    {
        var wire = Sys.Serialization.FindSerializerForType(typeof(ILedgerMessage));
        var probe = CreateTestProbe();
        var back = wire.FromBinary<IActorRef>(wire.ToBinary(probe.Ref));
        Assert.Equal(probe.Ref.Path, back.Path);
    }

    [Theory]
    [InlineData("Ledger.Contracts.Protocol.OpenAccount, Ledger.Contracts", true)]
    [InlineData("Ledger.Contracts.Accounts.TransferRequest[], Ledger.Contracts", true)]
    [InlineData("System.Nullable`1[[Ledger.Contracts.Primitives.Amount, Ledger.Contracts]], System.Private.CoreLib", true)]
    [InlineData("System.Nullable`1[[System.Diagnostics.Process, System]], System.Private.CoreLib", false)]
    [InlineData("System.Diagnostics.Process, System.Diagnostics.Process", false)]
    [InlineData("System.Collections.Generic.List`1[[Ledger.Contracts.Protocol.OpenAccount, Ledger.Contracts]], System.Private.CoreLib", false)]
    public void Allow_list_checks_every_part_of_a_type_name(string name, bool allowed) =>
        Assert.Equal(allowed, new AllowList().IsAllowed(name));

    public sealed record NotOnTheList(string Value);
}
