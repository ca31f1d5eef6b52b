using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ledger.Host.Gateway;

/// <summary>
/// What the generated OpenAPI document says beyond the routes: the bearer key every <c>/v1</c> operation needs, and the
/// problems (RFC 9457, with api.md's stable <c>code</c>) each may answer.
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

    public static void Configure(OpenApiOptions options) => options.AddDocumentTransformer((document, _, _) =>
    {
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
    });
}
