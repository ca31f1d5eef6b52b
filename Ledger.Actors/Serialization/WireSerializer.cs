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
        _hyperion = new HyperionSerializer(new SerializerOptions(
            versionTolerance: false,
            preserveObjectReferences: false,
            surrogates: [refs],
            serializerFactories: null,
            knownTypes: null,
            ignoreISerializable: true,
            packageNameOverrides: null,
            disallowUnsafeTypes: true,
            typeFilter: new AllowList()));
    }

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

/// <summary>
/// The types a peer may name on the wire: every public type of the contracts assembly, the actor-ref
/// surrogate, and the few framework types they are made of. Hyperion asks with assembly-qualified names
/// (full or short), arrays and generic instantiations; each part must be on the list.
/// </summary>
public sealed class AllowList : ITypeFilter
{
    private static readonly HashSet<string> Names = typeof(ILedgerMessage).Assembly.GetExportedTypes()
        .Append(typeof(ActorRefSurrogate))
        // Hyperion checks an actor ref's concrete class before it applies the surrogate; only the path is written.
        .Concat(new[] { typeof(IActorRef).Assembly, typeof(Akka.Remote.RemoteActorRef).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => typeof(IActorRef).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface))
        .Select(t => t.FullName!)
        .Concat(["System.String", "System.Boolean", "System.Int32", "System.Int64", "System.UInt64", "System.Int128", "System.UInt128", "System.Nullable`1"])
        .ToHashSet(StringComparer.Ordinal);

    public bool IsAllowed(string typeName) => EveryPart(typeName, Names.Contains);

    /// <summary>
    /// Whether <paramref name="allowed"/> holds for every type a (possibly assembly-qualified, array or generic)
    /// type name names: the type itself and each generic argument, recursively.
    /// </summary>
    public static bool EveryPart(string typeName, Func<string, bool> allowed) => Allowed(typeName.AsSpan().Trim(), allowed);

    private static bool Allowed(ReadOnlySpan<char> name, Func<string, bool> allowed)
    {
        name = name[..TopLevel(name, ',')];
        while (name.EndsWith("[]")) name = name[..^2];
        var generic = name.IndexOf("[[");
        if (generic < 0) return allowed(name.ToString());
        if (!allowed(name[..generic].ToString()) || name[^1] != ']') return false;
        var args = name[(generic + 1)..^1];
        while (args.Length > 0)
        {
            var end = TopLevel(args, ',');
            var arg = args[..end].Trim();
            if (arg.Length < 2 || arg[0] != '[' || arg[^1] != ']' || !Allowed(arg[1..^1], allowed)) return false;
            args = end < args.Length ? args[(end + 1)..] : [];
        }
        return true;
    }

    /// <summary>Index of the first <paramref name="c"/> outside brackets, or the length.</summary>
    private static int TopLevel(ReadOnlySpan<char> s, char c)
    {
        var depth = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '[') depth++;
            else if (s[i] == ']') depth--;
            else if (s[i] == c && depth == 0) return i;
        }
        return s.Length;
    }
}

/// <summary>How an <see cref="IActorRef"/> crosses the wire: its full path, resolved again on arrival.</summary>
public sealed record ActorRefSurrogate(string Path);
