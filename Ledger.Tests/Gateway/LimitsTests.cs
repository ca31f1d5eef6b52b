using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>Request size and rate limits on a real host: an oversized body is 413, too many requests from one key 429.</summary>
public class LimitsTests
{
    [Fact]
    public async Task Oversized_bodies_are_413_and_a_key_beyond_its_rate_gets_429_with_retry_after()
    {
        await using var host = new HostProcess();
        await host.Start("--Ledger:RateLimitPerSecond=5", "--Ledger:MaxRequestBytes=10000");

        var big = JsonSerializer.Serialize(new { atomic = false, operations = Enumerable.Range(0, 200).Select(i => new { type = "transfer", id = "t" + i, from = "a", to = "b", asset = "X", amount = "1" }) });
        var (status, body) = await host.Post("/v1/batches", big);
        Assert.Equal((413, "request_too_large"), (status, body.GetProperty("code").GetString()));

        // Well beyond five a second from one key: some are refused, with the problem and Retry-After; health is not limited.
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => host.Http.GetAsync("/v1/assets/none")));
        var limited = answers.Where(r => (int)r.StatusCode == 429).ToArray();
        Assert.NotEmpty(limited);
        Assert.All(limited, r => Assert.Equal("1", r.Headers.RetryAfter?.ToString()));
        Assert.Equal("rate_limited", JsonDocument.Parse(await limited[0].Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        Assert.All(await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => host.Http.GetAsync("/healthz/live"))), r => Assert.Equal(200, (int)r.StatusCode));
        foreach (var r in answers) r.Dispose();
    }
}
