using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Security;
using Ledger.Actors.Venues;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Assets;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Farms;
using Ledger.Contracts.Governance;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Options;
using Ledger.Contracts.Perps;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Actors.Serialization;

/// <summary>
/// The durable schema: every persisted event and snapshot is JSON (source-generated, no reflection) under a
/// versioned manifest. A change to a record that is not backwards compatible gets a new manifest (".v2")
/// and an upcaster here; the old manifest must keep loading forever.
/// </summary>
public sealed class EventSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 7102;

    private static readonly Dictionary<Type, string> ManifestOf = new()
    {
        [typeof(AccountOpened)] = "AccountOpened.v1",
        [typeof(AccountClosed)] = "AccountClosed.v1",
        [typeof(IssuerGranted)] = "IssuerGranted.v1",
        [typeof(TransferRejected)] = "TransferRejected.v1",
        [typeof(TransferDebited)] = "TransferDebited.v1",
        [typeof(DeliveryAcknowledged)] = "DeliveryAcknowledged.v1",
        [typeof(TransferCompensated)] = "TransferCompensated.v1",
        [typeof(PendingPosted)] = "PendingPosted.v1",
        [typeof(PendingVoided)] = "PendingVoided.v1",
        [typeof(PendingExpired)] = "PendingExpired.v1",
        [typeof(TransferCredited)] = "TransferCredited.v1",
        [typeof(CreditRefused)] = "CreditRefused.v1",
        [typeof(PendingResolved)] = "PendingResolved.v1",
        [typeof(AccountSnapshot)] = "AccountSnapshot.v1",
        [typeof(AccountWrite)] = "AccountWrite.v1",
        [typeof(AssetCreated)] = "AssetCreated.v1",
        [typeof(IssuerLinked)] = "IssuerLinked.v1",
        [typeof(PoolCallRejected)] = "PoolCallRejected.v1",
        [typeof(PoolCallSent)] = "PoolCallSent.v1",
        [typeof(PoolCallAnswered)] = "PoolCallAnswered.v1",
        [typeof(PoolCreated)] = "PoolCreated.v1",
        [typeof(PoolCallDecided)] = "PoolCallDecided.v1",
        [typeof(PoolWrite)] = "PoolWrite.v1",
        [typeof(PoolSnapshot)] = "PoolSnapshot.v1",
        [typeof(SagaHeld)] = "SagaHeld.v1",
        [typeof(SagaApplied)] = "SagaApplied.v1",
        [typeof(BalancesRecorded)] = "BalancesRecorded.v1",
        [typeof(PoolLocked)] = "PoolLocked.v1",
        [typeof(RouteAnswered)] = "RouteAnswered.v1",
        [typeof(RouteBatchDecided)] = "RouteBatchDecided.v1",
        [typeof(RouteBatchUnlocked)] = "RouteBatchUnlocked.v1",
        [typeof(PoolUnlocked)] = "PoolUnlocked.v1",
        [typeof(SagaStarted)] = "SagaStarted.v1",
        [typeof(SagaDecided)] = "SagaDecided.v1",
        [typeof(SagaFinished)] = "SagaFinished.v1",
        [typeof(VenueCallSent)] = "VenueCallSent.v1",
        [typeof(VenueCallRejected)] = "VenueCallRejected.v1",
        [typeof(MarketCreated)] = "MarketCreated.v1",
        [typeof(MarketCallDecided)] = "MarketCallDecided.v1",
        [typeof(MarketWrite)] = "MarketWrite.v1",
        [typeof(FarmCreated)] = "FarmCreated.v1",
        [typeof(FarmCallDecided)] = "FarmCallDecided.v1",
        [typeof(FarmWrite)] = "FarmWrite.v1",
        [typeof(PriceSet)] = "PriceSet.v1",
        [typeof(MarketSnapshot)] = "MarketSnapshot.v1",
        [typeof(KeyIssued)] = "KeyIssued.v1",
        [typeof(FarmSnapshot)] = "FarmSnapshot.v1",
        [typeof(KeyCreated)] = "KeyCreated.v1",
        [typeof(KeyRevoked)] = "KeyRevoked.v1",
        [typeof(OptionCreated)] = "OptionCreated.v1",
        [typeof(ExpiryPriceSet)] = "ExpiryPriceSet.v1",
        [typeof(OptionCallDecided)] = "OptionCallDecided.v1",
        [typeof(OptionWrite)] = "OptionWrite.v1",
        [typeof(OptionSnapshot)] = "OptionSnapshot.v1",
        [typeof(PerpCreated)] = "PerpCreated.v1",
        [typeof(PerpCallDecided)] = "PerpCallDecided.v1",
        [typeof(PerpWrite)] = "PerpWrite.v1",
        [typeof(PerpSnapshot)] = "PerpSnapshot.v1",
        [typeof(GovernorCreated)] = "GovernorCreated.v1",
        [typeof(ProposalSubmitted)] = "ProposalSubmitted.v1",
        [typeof(VoteCast)] = "VoteCast.v1",
        [typeof(ProposalQueued)] = "ProposalQueued.v1",
        [typeof(ProposalCanceled)] = "ProposalCanceled.v1",
        [typeof(ExecutionStarted)] = "ExecutionStarted.v1",
        [typeof(ExecutionEnded)] = "ExecutionEnded.v1",
        [typeof(GovernorWrite)] = "GovernorWrite.v1",
        [typeof(GovernorSnapshot)] = "GovernorSnapshot.v1",
        [typeof(ChannelOpened)] = "ChannelOpened.v1",
        [typeof(ChannelCallDecided)] = "ChannelCallDecided.v1",
        [typeof(ChannelClosed)] = "ChannelClosed.v1",
        [typeof(ProofUpdated)] = "ProofUpdated.v1",
        [typeof(ChannelSettled)] = "ChannelSettled.v1",
        [typeof(ChannelWrite)] = "ChannelWrite.v1",
        [typeof(ChannelSnapshot)] = "ChannelSnapshot.v1",
    };

    /// <summary>Every type this serializer persists; each needs its binding in akka.hocon, or Akka falls back to Newtonsoft.</summary>
    public static IEnumerable<Type> PersistedTypes => ManifestOf.Keys;

    private static readonly Dictionary<string, Type> TypeOf = ManifestOf.ToDictionary(kv => kv.Value, kv => kv.Key);

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        ManifestOf.TryGetValue(o.GetType(), out var m) ? m : throw new ArgumentException($"{o.GetType()} has no event manifest");

    public override byte[] ToBinary(object obj) => obj switch
    {
        AccountWrite write => WriteToBinary(write.Events),
        PoolWrite write => WriteToBinary(write.Events),
        MarketWrite write => WriteToBinary(write.Events),
        FarmWrite write => WriteToBinary(write.Events),
        OptionWrite write => WriteToBinary(write.Events),
        PerpWrite write => WriteToBinary(write.Events),
        GovernorWrite write => WriteToBinary(write.Events),
        ChannelWrite write => WriteToBinary(write.Events),
        _ => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), EventJson.Default),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        "AccountWrite.v1" => new AccountWrite(WriteFromBinary<IAccountEvent>(bytes)),
        "PoolWrite.v1" => new PoolWrite(WriteFromBinary<IPoolEvent>(bytes)),
        "MarketWrite.v1" => new MarketWrite(WriteFromBinary<IMarketEvent>(bytes)),
        "FarmWrite.v1" => new FarmWrite(WriteFromBinary<IFarmEvent>(bytes)),
        "OptionWrite.v1" => new OptionWrite(WriteFromBinary<IOptionEvent>(bytes)),
        "PerpWrite.v1" => new PerpWrite(WriteFromBinary<IPerpEvent>(bytes)),
        "GovernorWrite.v1" => new GovernorWrite(WriteFromBinary<IGovernorEvent>(bytes)),
        "ChannelWrite.v1" => new ChannelWrite(WriteFromBinary<IChannelEvent>(bytes)),
        _ when TypeOf.TryGetValue(manifest, out var type) => JsonSerializer.Deserialize(bytes, type, EventJson.Default)!,
        _ => throw new SerializationException($"unknown event manifest '{manifest}'"),
    };

    // One buffer and writer per thread, reused: serializing a write then allocates only the bytes it returns.
    [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? _buffer;
    [ThreadStatic] private static Utf8JsonWriter? _json;

    /// <summary>One write (group commit) as <c>[{"m": manifest, "e": event}, …]</c>: each event keeps its own versioned manifest.</summary>
    private static byte[] WriteToBinary<T>(T[] events) where T : class
    {
        var buffer = _buffer ??= new System.Buffers.ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var json = _json ??= new Utf8JsonWriter(buffer);
        json.Reset(buffer);
        json.WriteStartArray();
        foreach (var e in events)
        {
            json.WriteStartObject();
            json.WriteString("m", ManifestOf[e.GetType()]);
            json.WritePropertyName("e");
            JsonSerializer.Serialize(json, e, e.GetType(), EventJson.Default);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.Flush();
        var bytes = buffer.WrittenSpan.ToArray();
        // A rare huge write (a snapshot-sized batch) does not pin its buffer to the thread.
        if (buffer.Capacity > 1 << 20) _buffer = null;
        return bytes;
    }

    private static T[] WriteFromBinary<T>(byte[] bytes) where T : class
    {
        using var doc = JsonDocument.Parse(bytes);
        var events = new T[doc.RootElement.GetArrayLength()];
        var i = 0;
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            var manifest = item.GetProperty("m").GetString()!;
            if (!TypeOf.TryGetValue(manifest, out var type) || !typeof(T).IsAssignableFrom(type))
                throw new SerializationException($"unknown {typeof(T).Name} manifest '{manifest}'");
            events[i++] = (T)item.GetProperty("e").Deserialize(type, EventJson.Default)!;
        }
        return events;
    }
}

[JsonSourceGenerationOptions(
    Converters = [typeof(AmountJsonConverter), typeof(Int128JsonConverter), typeof(AccountIdJsonConverter),
        typeof(AssetIdJsonConverter), typeof(TxIdJsonConverter), typeof(PoolIdJsonConverter), typeof(MarketIdJsonConverter), typeof(FarmIdJsonConverter), typeof(OptionIdJsonConverter), typeof(PerpIdJsonConverter)],
    UseStringEnumConverter = true,
    // Smaller rows: a field at its default is left out and reads back as that default.
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(AccountOpened))]
[JsonSerializable(typeof(AccountClosed))]
[JsonSerializable(typeof(IssuerGranted))]
[JsonSerializable(typeof(TransferRejected))]
[JsonSerializable(typeof(TransferDebited))]
[JsonSerializable(typeof(DeliveryAcknowledged))]
[JsonSerializable(typeof(TransferCompensated))]
[JsonSerializable(typeof(PendingPosted))]
[JsonSerializable(typeof(PendingVoided))]
[JsonSerializable(typeof(PendingExpired))]
[JsonSerializable(typeof(TransferCredited))]
[JsonSerializable(typeof(CreditRefused))]
[JsonSerializable(typeof(PendingResolved))]
[JsonSerializable(typeof(AccountSnapshot))]
[JsonSerializable(typeof(AssetCreated))]
[JsonSerializable(typeof(IssuerLinked))]
[JsonSerializable(typeof(PoolCallRejected))]
[JsonSerializable(typeof(PoolCallSent))]
[JsonSerializable(typeof(PoolCallAnswered))]
[JsonSerializable(typeof(PoolCreated))]
[JsonSerializable(typeof(PoolCallDecided))]
[JsonSerializable(typeof(RouteAnswered))]
[JsonSerializable(typeof(RouteBatchDecided))]
[JsonSerializable(typeof(RouteBatchUnlocked))]
[JsonSerializable(typeof(PoolSnapshot))]
[JsonSerializable(typeof(SagaHeld))]
[JsonSerializable(typeof(SagaApplied))]
[JsonSerializable(typeof(BalancesRecorded))]
[JsonSerializable(typeof(PoolLocked))]
[JsonSerializable(typeof(PoolUnlocked))]
[JsonSerializable(typeof(SagaStarted))]
[JsonSerializable(typeof(SagaDecided))]
[JsonSerializable(typeof(SagaFinished))]
[JsonSerializable(typeof(VenueCallSent))]
[JsonSerializable(typeof(VenueCallRejected))]
[JsonSerializable(typeof(MarketCreated))]
[JsonSerializable(typeof(MarketCallDecided))]
[JsonSerializable(typeof(FarmCreated))]
[JsonSerializable(typeof(FarmCallDecided))]
[JsonSerializable(typeof(PriceSet))]
[JsonSerializable(typeof(MarketSnapshot))]
[JsonSerializable(typeof(KeyIssued))]
[JsonSerializable(typeof(FarmSnapshot))]
[JsonSerializable(typeof(KeyCreated))]
[JsonSerializable(typeof(KeyRevoked))]
[JsonSerializable(typeof(OptionCreated))]
[JsonSerializable(typeof(ExpiryPriceSet))]
[JsonSerializable(typeof(OptionCallDecided))]
[JsonSerializable(typeof(OptionSnapshot))]
[JsonSerializable(typeof(PerpCreated))]
[JsonSerializable(typeof(PerpCallDecided))]
[JsonSerializable(typeof(PerpSnapshot))]
[JsonSerializable(typeof(GovernorCreated))]
[JsonSerializable(typeof(ProposalSubmitted))]
[JsonSerializable(typeof(VoteCast))]
[JsonSerializable(typeof(ProposalQueued))]
[JsonSerializable(typeof(ProposalCanceled))]
[JsonSerializable(typeof(ExecutionStarted))]
[JsonSerializable(typeof(ExecutionEnded))]
[JsonSerializable(typeof(GovernorSnapshot))]
[JsonSerializable(typeof(ChannelOpened))]
[JsonSerializable(typeof(ChannelCallDecided))]
[JsonSerializable(typeof(ChannelClosed))]
[JsonSerializable(typeof(ProofUpdated))]
[JsonSerializable(typeof(ChannelSettled))]
[JsonSerializable(typeof(ChannelSnapshot))]
internal sealed partial class EventJson : JsonSerializerContext;
