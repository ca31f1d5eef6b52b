using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;

namespace Ledger.Actors.Serialization;

/// <summary>
/// Akka's default serializer (Newtonsoft JSON) carries whatever is not bound to ours — Akka's own odds and ends —
/// and names types in <c>$type</c>, which it would otherwise instantiate whatever they are: a peer could make a node
/// build an arbitrary type. This binder lets it name only Akka's and our types, primitives and the framework's
/// collections of them; any other type fails the message (it is dropped, nothing is built).
/// </summary>
public sealed class JsonTypeGuard : ISerializationBinder
{
    private static readonly string[] Prefixes = ["Akka.", "Ledger.", "System.Collections.Generic.", "System.Collections.Immutable."];

    private static readonly HashSet<string> Primitives = new(StringComparer.Ordinal)
    {
        "System.Object", "System.String", "System.Boolean", "System.Byte", "System.Int16", "System.Int32", "System.Int64",
        "System.UInt16", "System.UInt32", "System.UInt64", "System.Int128", "System.UInt128", "System.Decimal", "System.Double",
        "System.Single", "System.Char", "System.Guid", "System.TimeSpan", "System.DateTime", "System.DateTimeOffset",
        "System.Nullable`1", "System.Tuple`2", "System.ValueTuple`2",
    };

    private readonly DefaultSerializationBinder _inner = new();

    public static bool IsAllowed(string typeName) =>
        AllowList.EveryPart(typeName, name => Primitives.Contains(name) || Prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)));

    public Type BindToType(string? assemblyName, string typeName) =>
        IsAllowed(typeName)
            ? _inner.BindToType(assemblyName, typeName)
            : throw new JsonSerializationException($"type '{typeName}' is not allowed on the wire");

    public void BindToName(Type serializedType, out string? assemblyName, out string? typeName) =>
        _inner.BindToName(serializedType, out assemblyName, out typeName);
}
