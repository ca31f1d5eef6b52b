using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>With <c>Ledger:LogFormat=json</c> the node writes one JSON object per line, Akka's lines included (but its last, at exit).</summary>
public class LoggingTests
{
    [Fact]
    public async Task Json_logs_are_one_object_per_line_for_akka_and_aspnet_alike()
    {
        await using var host = new HostProcess();
        await host.Start("--Ledger:LogFormat=json");
        Assert.Equal(201, (await host.Post("/v1/accounts", new { id = "x", owner = "x" })).Status);
        // Both kinds of line are written by background loggers: wait until each has reached the output before the kill
        // (what is still queued in a logger dies with the process).
        await TestCluster.Until(() => Categories(host.Output).Any(c => c.StartsWith("Cluster", StringComparison.Ordinal))
            && Categories(host.Output).Any(c => c.StartsWith("Microsoft.Hosting", StringComparison.Ordinal)), "a cluster and a hosting line logged");
        // Stopped without a graceful exit: Akka writes its very last line ("Remoting shut down.") to stdout after its
        // loggers have stopped, past any bridge.
        host.Kill();

        var lines = host.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var categories = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("Category").GetString()).ToArray();
        Assert.Contains(categories, c => c!.StartsWith("Cluster", StringComparison.Ordinal));
        Assert.Contains(categories, c => c!.StartsWith("Microsoft.Hosting", StringComparison.Ordinal));
    }

    /// <summary>The categories of the output's lines that are complete JSON objects so far (the assertions above check every line).</summary>
    private static IEnumerable<string> Categories(string output)
    {
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string? category = null;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("Category", out var c)) category = c.GetString();
            }
            catch (JsonException)
            {
            }
            if (category is not null) yield return category;
        }
    }
}
