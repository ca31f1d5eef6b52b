using NJsonSchema;
using NJsonSchema.CodeGeneration;
using NJsonSchema.CodeGeneration.CSharp;
using NSwag.CodeGeneration;
using NSwag.CodeGeneration.CSharp;
using NSwag.CodeGeneration.OperationNameGenerators;

namespace Ledger.Tests.Support;

/// <summary>
/// Generates the typed C# client of the host's OpenAPI document with NSwag, in process: one class, one method per
/// operationId, System.Text.Json, and the problem of a refusal as <c>ApiException&lt;Problem&gt;</c>. The result is kept in
/// <c>Ledger.Tests/Generated/LedgerApiClient.cs</c>; <c>OpenApiTests</c> checks it still matches the document.
/// </summary>
public static class ClientGenerator
{
    public const string ClassName = "LedgerApiClient";
    public const string Namespace = "Ledger.Tests.Generated";

    /// <summary>Where the generated client is kept, from the repository root.</summary>
    public static readonly string[] KeptAt = ["Ledger.Tests", "Generated", ClassName + ".cs"];

    public static async Task<string> Generate(string openApiJson)
    {
        var document = await NSwag.OpenApiDocument.FromJsonAsync(openApiJson);
        var settings = new CSharpClientGeneratorSettings
        {
            ClassName = ClassName,
            OperationNameGenerator = new SingleClientFromOperationIdOperationNameGenerator(),
            // The caller's HttpClient carries the base address and the key.
            UseBaseUrl = false,
            ParameterNameGenerator = new CamelCaseParameters(),
            CSharpGeneratorSettings =
            {
                Namespace = Namespace,
                JsonLibrary = CSharpJsonLibrary.SystemTextJson,
                PropertyNameGenerator = new PascalCaseProperties(),
            },
        };
        // Line ends as the repository keeps them (.editorconfig), whatever the generator's templates carry.
        return new CSharpClientGenerator(document, settings).GenerateFile().ReplaceLineEndings("\n");
    }

    /// <summary>snake_case fields as C# properties (<c>pending_out</c> → <c>PendingOut</c>).</summary>
    private sealed class PascalCaseProperties : IPropertyNameGenerator
    {
        public string Generate(JsonSchemaProperty property) => Pascal(property.Name);
    }

    /// <summary>snake_case query and path parameters as C# parameters (<c>asset_in</c> → <c>assetIn</c>).</summary>
    private sealed class CamelCaseParameters : IParameterNameGenerator
    {
        public string Generate(NSwag.OpenApiParameter parameter, IEnumerable<NSwag.OpenApiParameter> allParameters)
        {
            var pascal = Pascal(parameter.Name);
            return char.ToLowerInvariant(pascal[0]) + pascal[1..];
        }
    }

    private static string Pascal(string name) =>
        string.Concat(name.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(part => char.ToUpperInvariant(part[0]) + part[1..]));
}
