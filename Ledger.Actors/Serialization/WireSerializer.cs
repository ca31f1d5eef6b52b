using Akka.Actor;
using Akka.Serialization;
using Hyperion;
using Ledger.Contracts.Protocol;
using HyperionSerializer = Hyperion.Serializer;

namespace Ledger.Actors.Serialization;

/// <summary>
/// Messages between nodes go through Hyperion (fast, schema-free), restricted to an allow-list: only types
/// from our contracts assembly (and the actor-ref surrogate) may be named on the wire, so a peer cannot
/// make us instantiate an arbitrary type. Actor references travel as their serialized paths.
/// </summary>
public sealed class WireSerializer : Akka.Serialization.Serializer
{
    public const int Id = 7101;

    private readonly HyperionSerializer _hyperion;

    public WireSerializer(ExtendedActorSystem system) : base(system)
    {
        var refs = Surrogate.Create<IActorRef, ActorRefSurrogate>(
            r => new ActorRefSurrogate(Akka.Serialization.Serialization.SerializedActorPath(r)),
            s => system.Provider.ResolveActorRef(s.Path));
        var filter = TypeFilterBuilder.Create();
        foreach (var t in AllowedTypes) filter.Include(t);
        _hyperion = new HyperionSerializer(new SerializerOptions(
            versionTolerance: false,
            preserveObjectReferences: false,
            surrogates: [refs],
            serializerFactories: null,
            knownTypes: null,
            ignoreISerializable: true,
            packageNameOverrides: null,
            disallowUnsafeTypes: true,
            typeFilter: filter.Build()));
    }

    /// <summary>Every public type of the contracts assembly, plus the surrogate.</summary>
    public static IReadOnlyList<Type> AllowedTypes { get; } =
        typeof(ILedgerMessage).Assembly.GetExportedTypes().Where(t => !t.IsAbstract || t.IsSealed)
            .Append(typeof(ActorRefSurrogate))
            .ToArray();

    public override int Identifier => Id;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj)
    {
        using var stream = new MemoryStream();
        _hyperion.Serialize(obj, stream);
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, Type? type)
    {
        using var stream = new MemoryStream(bytes);
        return _hyperion.Deserialize(stream);
    }
}

/// <summary>How an <see cref="IActorRef"/> crosses the wire: its full path, resolved again on arrival.</summary>
public sealed record ActorRefSurrogate(string Path);
