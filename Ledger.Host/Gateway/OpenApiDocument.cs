using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ledger.Host.Gateway;

/// <summary>
/// What the generated OpenAPI document says beyond the routes: each operation's request body (the shape it declares with
/// <see cref="Accepting{T}"/>, which is also every field <see cref="RequestBody"/> lets through), the query parameters
/// read by hand, the bearer key every <c>/v1</c> operation needs, and the problems (RFC 9457, with api.md's stable
/// <c>code</c>) each may answer. Success responses are declared on the endpoints with <c>Produces</c>.
/// </summary>
public static class OpenApiDocument
{
    private static readonly (string Status, string Description)[] ProblemResponses =
    [
        ("400", "Malformed input (invalid_request, invalid_amount, invalid_id, batch_too_large); nothing changed."),
        ("401", "No key, or an unknown or revoked one (unauthorized)."),
        ("403", "The key may not act on this account or resource (forbidden)."),
        ("404", "What the path names does not exist (a *_not_found code)."),
        ("409", "The same id with another body, or an existing definition (id_conflict, account_exists, asset_exists)."),
        ("422", "A business refusal with its stable code; nothing changed."),
        ("503", "Overload or a timeout inside the cluster (unavailable): the outcome is unknown; retry with the same id."),
    ];

    /// <summary>
    /// Declares the JSON object the endpoint reads: the document describes it as the request body, and
    /// <see cref="RequestBody.ReadAsync"/> refuses any field it does not name — one declaration for both.
    /// </summary>
    public static RouteHandlerBuilder Accepting<T>(this RouteHandlerBuilder endpoint) => endpoint.WithMetadata(RequestShape.Of<T>());

    /// <summary>A query parameter the handler reads by hand (so the framework cannot see it), for the document.</summary>
    public static RouteHandlerBuilder Query(this RouteHandlerBuilder endpoint, string name, JsonSchemaType type, bool required, string description,
        string? format = null) =>
        endpoint.WithMetadata(new QueryParameter(name, type, required, description, format));

    public static void Configure(OpenApiOptions options)
    {
        // The records end in Json (AccountJson) to tell them from the ledger's own types; a client's classes need not.
        options.CreateSchemaReferenceId = type => OpenApiOptions.CreateDefaultSchemaReferenceId(type) is { } id ? SchemaId(id) : null;
        options.AddSchemaTransformer((schema, context, _) =>
        {
            MarkRequired(schema, context.JsonTypeInfo);
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(async (operation, context, cancel) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<RequestShape>().FirstOrDefault() is { } shape)
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new OpenApiMediaType { Schema = await Component(shape.Type, context, cancel) },
                    },
                };
            foreach (var query in metadata.OfType<QueryParameter>())
            {
                operation.Parameters ??= [];
                // A parameter the framework already binds (a nullable string) is replaced: the handler decides whether it is required.
                if (operation.Parameters.FirstOrDefault(p => p.Name == query.Name && p.In == ParameterLocation.Query) is { } bound) operation.Parameters.Remove(bound);
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = query.Name,
                    In = ParameterLocation.Query,
                    Required = query.Required,
                    Description = query.Description,
                    Schema = new OpenApiSchema { Type = query.Type, Format = query.Format },
                });
            }
        });
        options.AddDocumentTransformer(Describe);
    }

    private static string SchemaId(string typeName) =>
        typeName.EndsWith("Json", StringComparison.Ordinal) && typeName.Length > 4 ? typeName[..^4] : typeName;

    /// <summary>A request body's schema as a named component, so that a generated client names its class after the record.</summary>
    private static async Task<IOpenApiSchema> Component(Type type, OpenApiOperationTransformerContext context, CancellationToken cancel)
    {
        var id = SchemaId(type.Name);
        var document = context.Document ?? throw new InvalidOperationException("no document to hold the request schemas");
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        if (!document.Components.Schemas.ContainsKey(id))
            document.AddComponent(id, Nested(await context.GetOrCreateSchemaAsync(type, null, cancel), document));
        return new OpenApiSchemaReference(id, document);
    }

    /// <summary>The records inside a request body (a market's rate, a proof, a batch's operations) as components too, not inline copies.</summary>
    private static IOpenApiSchema Nested(IOpenApiSchema schema, Microsoft.OpenApi.OpenApiDocument document)
    {
        if (schema is not OpenApiSchema s) return schema;
        if (s.Properties is { } properties)
            foreach (var name in properties.Keys.ToList()) properties[name] = Reference(properties[name], document);
        if (s.Items is { } items) s.Items = Reference(items, document);
        return s;
    }

    private static IOpenApiSchema Reference(IOpenApiSchema schema, Microsoft.OpenApi.OpenApiDocument document)
    {
        Nested(schema, document);
        if (schema is not OpenApiSchema { Metadata: { } metadata } || !metadata.TryGetValue("x-schema-id", out var id) || id is not string name || name.Length == 0)
            return schema;
        document.Components!.Schemas!.TryAdd(name, schema);
        return new OpenApiSchemaReference(name, document);
    }

    /// <summary>
    /// A field is required unless its record parameter has a default (an optional request field) or it is left out when
    /// null (an optional response field); a field always written, even as null, is required and nullable.
    /// </summary>
    private static void MarkRequired(OpenApiSchema schema, JsonTypeInfo type)
    {
        if (type.Kind != JsonTypeInfoKind.Object || schema.Properties is not { Count: > 0 } || !IsLedgerShape(type.Type)) return;
        var required = type.Properties
            .Where(p => p.AssociatedParameter is { HasDefaultValue: false } && !OmittedWhenNull(p))
            .Select(p => p.Name);
        schema.Required = new HashSet<string>(required, StringComparer.Ordinal);
    }

    private static bool IsLedgerShape(Type type) => type.Namespace == typeof(OpenApiDocument).Namespace;

    private static bool OmittedWhenNull(JsonPropertyInfo property) =>
        property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: false).OfType<JsonIgnoreAttribute>()
            .Any(a => a.Condition is JsonIgnoreCondition.WhenWritingNull or JsonIgnoreCondition.WhenWritingDefault) == true;

    private static Task Describe(Microsoft.OpenApi.OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancel)
    {
        document.Info.Title = "Ledger";
        document.Info.Description = "The Ledger HTTP API, version 1 (and 1.1): amounts are strings of decimal digits in base units, ids are 1–64 characters of [A-Za-z0-9_.:-], times are Unix milliseconds in requests and RFC 3339 in responses.";
        // The address a request reached this node by is no address for a client elsewhere: it names its own base address.
        document.Servers = [];
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "Authorization: Bearer <key> — the admin key, or a key issued by POST /v1/keys for one owner.",
        };
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas["Problem"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "type", "title", "status", "code" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "api.md's stable snake_case code" },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["trace_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "the request's trace, as the node's logs name it" },
            },
        };
        var requirement = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] };
        foreach (var (path, item) in document.Paths)
        {
            if (!path.StartsWith("/v1/", StringComparison.Ordinal) || item.Operations is null) continue;
            foreach (var operation in item.Operations.Values)
            {
                operation.Security = [requirement];
                operation.Responses ??= new OpenApiResponses();
                foreach (var (status, description) in ProblemResponses)
                    operation.Responses.TryAdd(status, new OpenApiResponse
                    {
                        Description = description,
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            ["application/problem+json"] = new OpenApiMediaType { Schema = new OpenApiSchemaReference("Problem", document) },
                        },
                    });
            }
        }
        return Task.CompletedTask;
    }
}

/// <summary>The JSON object an endpoint reads, and the names of its fields as they are written on the wire.</summary>
public sealed class RequestShape
{
    private RequestShape(Type type, string[] fields) => (Type, Fields) = (type, fields);

    public Type Type { get; }
    public string[] Fields { get; }

    public static RequestShape Of<T>() => Cache<T>.Shape;

    private static readonly JsonSerializerOptions Names = Named();

    private static JsonSerializerOptions Named()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        Views.ConfigureJson(options);
        return options;
    }

    private static class Cache<T>
    {
        public static readonly RequestShape Shape = new(typeof(T), [.. Names.GetTypeInfo(typeof(T)).Properties.Select(p => p.Name)]);
    }
}

/// <summary>A query parameter read by hand, as the document shows it.</summary>
public sealed record QueryParameter(string Name, JsonSchemaType Type, bool Required, string Description, string? Format);
