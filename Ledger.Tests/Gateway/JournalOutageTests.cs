using System.Net.Http.Json;
using System.Text.Json;
using Ledger.Actors.Hosting;
using Ledger.Tests.MultiNode;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// The journal's database goes away under a running node (PostgreSQL stopped as if it crashed): writes answer
/// 503 with Retry-After — never a 5xx of another kind, never a success — and nothing is half-applied; once the
/// database is back, the client's retry with the same id commits, once.
/// </summary>
[Collection(MultiProcess.Name)]
public sealed class JournalOutageTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    [Fact]
    public async Task While_the_database_is_down_writes_answer_503_and_once_it_is_back_the_retry_commits_once()
    {
        using var pg = ThrowawayPostgres.Start();
        await using var host = new HostProcess();
        await host.Start("--Ledger:Journal=postgres", "--Ledger:ConnectionString=" + pg.ConnectionString, "--Ledger:RequestTimeoutMs=3000");
        await host.Seed("OU", "ou-bank", ("ou-alice", "1000"), ("ou-bob", "0"));
        var transfer = new { id = "t1", from = "ou-alice", to = "ou-bob", asset = "OU", amount = "300" };

        pg.Halt();
        for (var i = 0; i < 3; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var response = await host.Http.PostAsJsonAsync("/v1/transfers", transfer);
            output.WriteLine($"attempt {i} while down: {(int)response.StatusCode} after {clock.ElapsedMilliseconds} ms"); // for the record, not asserted
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal((503, "unavailable"), ((int)response.StatusCode, S(body, "code")));
            Assert.NotNull(response.Headers.RetryAfter);
        }

        pg.Resume();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        (int Status, JsonElement Body) answer;
        while ((answer = await host.Post("/v1/transfers", transfer)).Status == 503)
        {
            Assert.True(DateTime.UtcNow < deadline, "the ledger did not recover within 60 s of the database coming back");
            await Task.Delay(500);
        }
        Assert.Equal((200, "committed"), (answer.Status, S(answer.Body, "status")));
        var again = await host.Post("/v1/transfers", transfer);
        Assert.Equal(answer.Body.GetRawText(), again.Body.GetRawText());
        Assert.Equal(("700", "300"), (S(await host.Balance("ou-alice", "OU"), "posted"), S(await host.Balance("ou-bob", "OU"), "posted")));
        var audit = (await host.Get("/v1/audit/supply")).Body.GetProperty("assets").GetProperty("OU");
        Assert.Equal(("0", "0"), (S(audit, "sum"), S(audit, "in_flight")));
    }
}
