using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// What the host's OpenAPI document tells a client generator so far: the bearer scheme on every <c>/v1</c> operation,
/// the problems each may answer (with the problem's schema), and one named path per operation (no
/// <c>{operation}</c> placeholders).
/// </summary>
public class OpenApiTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    [Fact]
    public async Task Every_operation_names_its_key_its_problems_and_its_own_path()
    {
        using var response = await fixture.Host.Http.GetAsync("/openapi/v1.json");
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = doc.RootElement;
        var bearer = root.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal(("http", "bearer"), (bearer.GetProperty("type").GetString(), bearer.GetProperty("scheme").GetString()));
        var problem = root.GetProperty("components").GetProperty("schemas").GetProperty("Problem");
        Assert.True(problem.GetProperty("properties").TryGetProperty("code", out _));

        var operations = 0;
        foreach (var path in root.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/v1/", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain("{operation}", path.Name, StringComparison.Ordinal);
            foreach (var operation in path.Value.EnumerateObject())
            {
                operations++;
                var where = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                Assert.True(operation.Value.TryGetProperty("security", out var security) && security[0].TryGetProperty("bearer", out _), where + ": no bearer");
                var responses = operation.Value.GetProperty("responses");
                foreach (var status in new[] { "400", "401", "403", "422", "503" })
                {
                    Assert.True(responses.TryGetProperty(status, out var r), $"{where}: no {status}");
                    Assert.Equal("#/components/schemas/Problem",
                        r.GetProperty("content").GetProperty("application/problem+json").GetProperty("schema").GetProperty("$ref").GetString());
                }
            }
        }
        Assert.True(operations > 60, $"only {operations} operations listed");
    }
}
