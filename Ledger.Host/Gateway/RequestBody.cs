using System.Text.Json;
using Ledger.Contracts.Primitives;

namespace Ledger.Host.Gateway;

/// <summary>
/// Strict reading of a JSON request object: every field is checked for its type and range, unknown fields
/// are refused, and each failure names the field with the api.md code (<c>invalid_id</c>,
/// <c>invalid_amount</c>, <c>invalid_request</c>).
/// </summary>
public sealed class RequestBody
{
    private readonly JsonElement _object;
    private readonly string _where;

    public RequestBody(JsonElement element, string where = "")
    {
        if (element.ValueKind != JsonValueKind.Object) throw Invalid(Codes.InvalidRequest, $"{where}expected a JSON object");
        _object = element;
        _where = where;
    }

    /// <summary>
    /// Reads the body of a request to an endpoint that declares its shape (<see cref="OpenApiDocument.Accepting{T}"/>),
    /// refusing any field the shape does not name: the fields let through are those the OpenAPI document lists.
    /// </summary>
    public static async Task<RequestBody> ReadAsync(HttpRequest request)
    {
        var shape = request.HttpContext.GetEndpoint()?.Metadata.GetMetadata<RequestShape>()
            ?? throw new InvalidOperationException($"{request.Method} {request.Path} reads a body but declares no shape (Accepting<T>)");
        RequestBody body;
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 16 }, request.HttpContext.RequestAborted);
            body = new RequestBody(doc.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw Invalid(Codes.InvalidRequest, "the body is not valid JSON: " + e.Message);
        }
        return body.Allow(shape.Fields);
    }

    /// <summary>Refuses any field not in <paramref name="known"/>, so a typo never passes silently.</summary>
    public RequestBody Allow(params string[] known)
    {
        foreach (var p in _object.EnumerateObject())
            if (System.Array.IndexOf(known, p.Name) < 0) throw Invalid(Codes.InvalidRequest, $"{_where}unknown field '{p.Name}'");
        return this;
    }

    /// <summary>Refuses any field the record <typeparamref name="T"/> does not name (a nested object, a batch's operation).</summary>
    public RequestBody Allow<T>() => Allow(RequestShape.Of<T>().Fields);

    public bool Has(string name) => _object.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    private JsonElement? Field(string name, bool required)
    {
        if (_object.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null) return v;
        if (required) throw Invalid(Codes.InvalidRequest, $"{_where}'{name}' is required");
        return null;
    }

    public string Id(string name) => IdOrNull(name, true)!;

    public string? IdOrNull(string name, bool required = false)
    {
        if (Field(name, required) is not { } v) return null;
        var s = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (!Ledger.Contracts.Primitives.Id.IsValid(s)) throw Invalid(Codes.InvalidId, $"{_where}'{name}' must be 1–64 characters of [A-Za-z0-9_.:-]");
        return s;
    }

    public string Text(string name, int maxLength = 256, bool allowEmpty = false)
    {
        var v = Field(name, true)!.Value;
        if (v.ValueKind != JsonValueKind.String || v.GetString() is not { } s || s.Length > maxLength || s.Length == 0 && !allowEmpty)
            throw Invalid(Codes.InvalidRequest, $"{_where}'{name}' must be a {(allowEmpty ? "" : "non-empty ")}string of at most {maxLength} characters");
        return s;
    }

    public Amount Amount(string name) => AmountOrNull(name, true)!.Value;

    public Amount? AmountOrNull(string name, bool required = false)
    {
        if (Field(name, required) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.String || !Ledger.Contracts.Primitives.Amount.TryParse(v.GetString(), out var a))
            throw Invalid(Codes.InvalidAmount, $"{_where}'{name}' must be a string of decimal digits below 2^128");
        return a;
    }

    public bool Bool(string name, bool fallback)
    {
        if (Field(name, false) is not { } v) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(Codes.InvalidRequest, $"{_where}'{name}' must be true or false"),
        };
    }

    public long? WholeNumber(string name, long min, long max, bool required = false)
    {
        if (Field(name, required) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n) || n < min || n > max)
            throw Invalid(Codes.InvalidRequest, $"{_where}'{name}' must be an integer from {min} to {max}");
        return n;
    }

    /// <summary>A nested object, read with the same rules.</summary>
    public RequestBody Nested(string name) => new(Field(name, true)!.Value, $"{_where}{name}.");

    public JsonElement Array(string name)
    {
        var v = Field(name, true)!.Value;
        if (v.ValueKind != JsonValueKind.Array) throw Invalid(Codes.InvalidRequest, $"{_where}'{name}' must be an array");
        return v;
    }

    public static BadRequestException Invalid(string code, string detail) => new(code, detail);

    public static string PathId(string value, string what) =>
        Ledger.Contracts.Primitives.Id.IsValid(value) ? value : throw Invalid(Codes.InvalidId, $"the {what} id in the path must be 1–64 characters of [A-Za-z0-9_.:-]");
}
