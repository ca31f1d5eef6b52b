using System.Text.Json;
using System.Text.Json.Nodes;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// What the host's OpenAPI document tells a client generator: the bearer scheme on every <c>/v1</c> operation, the
/// problems each may answer (with the problem's schema), one named path and one operationId per operation, each
/// operation's request body and success response with their schemas — and that the C# client generated from it (kept in
/// <c>Ledger.Tests/Generated</c>) is the one the document gives today, and drives the README's walk-through
/// (<c>OpenApiTests.Walkthrough.cs</c>).
/// </summary>
public partial class OpenApiTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    /// <summary>Set to 1 to write the generated client anew from the running host's document instead of comparing.</summary>
    public const string RegenerateVariable = "LEDGER_REGENERATE_CLIENT";

    private static readonly string[] ProblemStatuses = ["400", "401", "403", "422", "503"];
    private static readonly string[] BodyMethods = ["post", "put"];

    private async Task<string> DocumentText()
    {
        using var response = await fixture.Host.Http.GetAsync("/openapi/v1.json");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<JsonElement> Document() => JsonDocument.Parse(await DocumentText()).RootElement.Clone();

    private static IEnumerable<(string Method, string Path, JsonElement Operation)> Operations(JsonElement root) =>
        from path in root.GetProperty("paths").EnumerateObject()
        from operation in path.Value.EnumerateObject()
        select (operation.Name, path.Name, operation.Value);

    private static JsonElement Schema(JsonElement root, string reference)
    {
        Assert.StartsWith("#/components/schemas/", reference, StringComparison.Ordinal);
        return root.GetProperty("components").GetProperty("schemas").GetProperty(reference["#/components/schemas/".Length..]);
    }

    private static HashSet<string> PropertyNames(JsonElement schema) => [.. schema.GetProperty("properties").EnumerateObject().Select(p => p.Name)];

    [Fact]
    public async Task Every_operation_names_its_key_its_problems_and_its_own_path()
    {
        var root = await Document();
        var bearer = root.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal(("http", "bearer"), (bearer.GetProperty("type").GetString(), bearer.GetProperty("scheme").GetString()));
        var problem = root.GetProperty("components").GetProperty("schemas").GetProperty("Problem");
        Assert.True(problem.GetProperty("properties").TryGetProperty("code", out _));

        var operations = 0;
        foreach (var (method, path, operation) in Operations(root).Where(o => o.Path.StartsWith("/v1/", StringComparison.Ordinal)))
        {
            operations++;
            var where = $"{method.ToUpperInvariant()} {path}";
            Assert.DoesNotContain("{operation}", path, StringComparison.Ordinal);
            Assert.True(operation.TryGetProperty("security", out var security) && security[0].TryGetProperty("bearer", out _), where + ": no bearer");
            var responses = operation.GetProperty("responses");
            foreach (var status in ProblemStatuses)
            {
                Assert.True(responses.TryGetProperty(status, out var r), $"{where}: no {status}");
                Assert.Equal("#/components/schemas/Problem",
                    r.GetProperty("content").GetProperty("application/problem+json").GetProperty("schema").GetProperty("$ref").GetString());
            }
        }
        Assert.True(operations > 60, $"only {operations} operations listed");
    }

    [Fact]
    public async Task Every_operation_has_an_id_its_request_body_and_its_success_response_with_schemas()
    {
        var root = await Document();
        var ids = new List<string>();
        var (bodies, successes) = (0, 0);
        foreach (var (method, path, operation) in Operations(root))
        {
            var where = $"{method.ToUpperInvariant()} {path}";
            Assert.True(operation.TryGetProperty("operationId", out var id) && id.GetString() is { Length: > 0 }, where + ": no operationId");
            ids.Add(id.GetString()!);

            if (BodyMethods.Contains(method))
            {
                Assert.True(operation.TryGetProperty("requestBody", out var body), where + ": no request body");
                Assert.True(body.GetProperty("required").GetBoolean(), where + ": body not required");
                var reference = body.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString()!;
                Assert.NotEmpty(PropertyNames(Schema(root, reference)));
                bodies++;
            }

            var success = operation.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2')).ToList();
            Assert.True(success.Count > 0, where + ": no success response");
            foreach (var response in success)
            {
                if (response.Name == "204")
                {
                    Assert.False(response.Value.TryGetProperty("content", out _), where + ": 204 with content");
                    continue;
                }
                var media = Assert.Single(response.Value.GetProperty("content").EnumerateObject());
                var schema = media.Value.GetProperty("schema");
                if (schema.TryGetProperty("$ref", out var reference)) Assert.NotEmpty(PropertyNames(Schema(root, reference.GetString()!)));
                else Assert.Equal(("text/event-stream", "string"), (media.Name, schema.GetProperty("type").GetString()));
                successes++;
            }
        }
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.True(bodies > 45, $"only {bodies} request bodies");
        Assert.True(successes >= ids.Count - 1, $"only {successes} success schemas for {ids.Count} operations");

        // A batch's operation is a transfer or a swap with its type: the document's shape is exactly their union.
        var schemas = root.GetProperty("components").GetProperty("schemas");
        HashSet<string> union = [.. PropertyNames(schemas.GetProperty("TransferBody")), .. PropertyNames(schemas.GetProperty("SwapBody")), "type"];
        Assert.Equal(union.Order(StringComparer.Ordinal), PropertyNames(schemas.GetProperty("BatchOperationBody")).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Each documented field of each request body gets past the gateway's strict reading, and an undocumented one does
    /// not: every field is sent (as null, which reads as absent), then one the document does not name, which must be the
    /// one refused. A governor and a channel exist first, since their operations look them up before reading the body.
    /// </summary>
    [Fact]
    public async Task Every_documented_request_field_is_read_and_nothing_else()
    {
        var host = fixture.Host;
        var p = "probe-" + Guid.NewGuid().ToString("N")[..6];
        await host.PostUntilKnown("/v1/assets", new { id = p, decimals = 0, issuer = p + "-mint" });
        await host.PostUntilKnown("/v1/accounts", new { id = p + "-a", owner = p });
        await host.PostUntilKnown("/v1/accounts", new { id = p + "-b", owner = p });
        await host.PostUntilKnown("/v1/governors", new
        {
            id = p,
            token = p,
            voting_delay_ms = 0,
            voting_period_ms = 1,
            proposal_threshold = "1",
            quorum_bps = 0,
            timelock_ms = 0,
            grace_ms = 0,
        });
        var key = new string('a', 64);
        await host.PostUntilKnown("/v1/channels", new { id = p, asset = p, a = p + "-a", b = p + "-b", a_key = key, b_key = key, challenge_ms = 1 });

        var root = await Document();
        var probed = 0;
        foreach (var (method, path, operation) in Operations(root).Where(o => BodyMethods.Contains(o.Method)))
        {
            var reference = operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString()!;
            var body = new JsonObject();
            foreach (var field in Schema(root, reference).GetProperty("properties").EnumerateObject()) body[field.Name] = null;
            body["zz_undocumented"] = 0;
            var url = path.Replace("{g}", p, StringComparison.Ordinal).Replace("{c}", p, StringComparison.Ordinal);
            url = System.Text.RegularExpressions.Regex.Replace(url, "{[a-z_]+}", p);
            var (status, answer) = await host.Send(new HttpMethod(method.ToUpperInvariant()), url, body.ToJsonString());
            var where = $"{method.ToUpperInvariant()} {path}";
            Assert.True(status == 400, $"{where}: {status} {answer}");
            Assert.Equal(("invalid_request", "unknown field 'zz_undocumented'"), (answer.GetProperty("code").GetString(), answer.GetProperty("detail").GetString()));
            probed++;
        }
        Assert.True(probed > 45, $"only {probed} bodies probed");
    }

    /// <summary>
    /// The kept client is what NSwag generates from the document the host serves now: a change to a route, a body or an
    /// answer shows here first. To take a change, run this test with <c>LEDGER_REGENERATE_CLIENT=1</c> and commit the file.
    /// </summary>
    [Fact]
    public async Task Generated_client_is_the_one_the_document_gives()
    {
        var generated = await ClientGenerator.Generate(await DocumentText());
        var kept = Path.Combine([RepositoryRoot(), .. ClientGenerator.KeptAt]);
        if (Environment.GetEnvironmentVariable(RegenerateVariable) == "1") await File.WriteAllTextAsync(kept, generated);
        var keptText = File.Exists(kept) ? (await File.ReadAllTextAsync(kept)).ReplaceLineEndings("\n") : "";
        Assert.True(generated == keptText,
            $"{string.Join('/', ClientGenerator.KeptAt)} differs from what the document generates; run this test with {RegenerateVariable}=1 and commit the file");
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ledger.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
