using Akka.Actor;
using Akka.Serialization;
using Hyperion;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Serialization;

/// <summary>
/// Messages between nodes go through Akka's Hyperion serializer (fast, schema-free), restricted to <see cref="AllowList"/>:
/// only types from our contracts assembly may be named on the wire, so a peer cannot make us instantiate an arbitrary
/// type. Actor references travel as their serialized paths (Akka's own surrogate). A subclass only to give the
/// serializer its settings and its own id: the stock binding would read its settings from HOCON, where an allow-list
/// can only name single types, not "every type of an assembly" or generic instantiations of them.
/// </summary>
public sealed class WireSerializer(ExtendedActorSystem system) : HyperionSerializer(system, Wire)
{
    public const int Id = 7101;

    // Object references are not preserved and no field list is sent: our messages are trees of records, and every node
    // of a cluster runs the same build.
    private static readonly HyperionSerializerSettings Wire = HyperionSerializerSettings.Default
        .WithPreserveObjectReference(false)
        .WithVersionTolerance(false)
        .WithDisallowUnsafeType(true)
        .WithTypeFilter(new AllowList());

    public override int Identifier => Id;
}

/// <summary>
/// The types a peer may name on the wire: every public type of the contracts assembly, actor references (by Akka's
/// surrogate), and the few framework types they are made of. Hyperion asks with assembly-qualified names (full or
/// short), arrays and generic instantiations; each part must be on the list.
/// </summary>
public sealed class AllowList : ITypeFilter
{
    private static readonly HashSet<string> Names = typeof(ILedgerMessage).Assembly.GetExportedTypes()
        // What an actor reference is written as, by Akka's ISurrogated surrogate.
        .Concat([typeof(ActorRefBase.Surrogate), typeof(Nobody.NobodySurrogate)])
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
