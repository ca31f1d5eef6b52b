using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// Keys per api.md on a real host: nothing under /v1 without a valid key; a key issued for an owner acts only on that
/// owner's accounts and reads shared objects; admin actions are the admin key's; keys are stored and logged nowhere
/// in plain text.
/// </summary>
public class AuthTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    private async Task<(int Status, string? Code)> Send(string? key, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        // An explicit header replaces the client's default admin key; null sends none at all.
        request.Headers.Authorization = key is null ? null : new AuthenticationHeaderValue("Bearer", key);
        using var client = new HttpClient { BaseAddress = _host.Http.BaseAddress };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var code = text.StartsWith('{') && JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var c) ? c.GetString() : null;
        return ((int)response.StatusCode, code);
    }

    [Fact]
    public async Task A_key_acts_only_on_its_owners_accounts_and_admin_actions_need_the_admin_key()
    {
        await _host.Seed(_p + "USD", _p + "bank", (_p + "alice", "1000"), (_p + "bob", "1000"));
        var issued = await _host.Post("/v1/keys", new { owner = _p + "alice" });
        Assert.Equal(201, issued.Status);
        var key = issued.Body.GetProperty("key").GetString()!;
        Assert.Equal(_p + "alice", issued.Body.GetProperty("owner").GetString());

        // Without a key, or with a wrong one, nothing is readable.
        Assert.Equal((401, "unauthorized"), await Send(null, HttpMethod.Get, $"/v1/assets/{_p}USD"));
        Assert.Equal((401, "unauthorized"), await Send("nope", HttpMethod.Get, $"/v1/assets/{_p}USD"));
        Assert.Equal((401, "unauthorized"), await Send(key + "x", HttpMethod.Get, $"/v1/accounts/{_p}alice"));

        // Alice's key: her accounts, shared reads.
        Assert.Equal(200, (await Send(key, HttpMethod.Get, $"/v1/accounts/{_p}alice")).Status);
        Assert.Equal(200, (await Send(key, HttpMethod.Post, "/v1/transfers", new { id = "t1", from = _p + "alice", to = _p + "bob", asset = _p + "USD", amount = "5" })).Status);
        Assert.Equal(200, (await Send(key, HttpMethod.Get, $"/v1/assets/{_p}USD")).Status);
        Assert.Equal(201, (await Send(key, HttpMethod.Post, "/v1/accounts", new { id = _p + "alice2", owner = _p + "alice" })).Status);

        // Not bob's accounts, not admin actions; and a refusal changes nothing.
        Assert.Equal((403, "forbidden"), await Send(key, HttpMethod.Get, $"/v1/accounts/{_p}bob"));
        Assert.Equal((403, "forbidden"), await Send(key, HttpMethod.Post, "/v1/transfers", new { id = "t2", from = _p + "bob", to = _p + "alice", asset = _p + "USD", amount = "5" }));
        Assert.Equal((403, "forbidden"), await Send(key, HttpMethod.Post, "/v1/batches", new { operations = new object[] { new { type = "transfer", id = "t3", from = _p + "alice", to = _p + "bob", asset = _p + "USD", amount = "1" }, new { type = "transfer", id = "t4", from = _p + "bob", to = _p + "alice", asset = _p + "USD", amount = "1" } } }));
        Assert.Equal((403, "forbidden"), await Send(key, HttpMethod.Post, "/v1/accounts", new { id = _p + "mallory", owner = _p + "bob" }));
        Assert.Equal((403, "forbidden"), await Send(key, HttpMethod.Post, "/v1/assets", new { id = _p + "FAKE", decimals = 2, issuer = _p + "alice" }));
        Assert.Equal((403, "forbidden"), await Send(key, HttpMethod.Post, "/v1/keys", new { owner = _p + "alice" }));
        Assert.Equal((403, "forbidden"), await Send(key, HttpMethod.Get, "/v1/audit/supply"));
        Assert.Equal("995", (await _host.Balance(_p + "alice", _p + "USD")).GetProperty("posted").GetString());
        Assert.Equal("1005", (await _host.Balance(_p + "bob", _p + "USD")).GetProperty("posted").GetString());

        // The key is in no file of the node and in none of its output; its hash stands in the journal.
        var files = Directory.EnumerateFiles(_host.DataDir, "*", SearchOption.AllDirectories)
            .Select(f => File.ReadAllBytes(f)).Select(b => System.Text.Encoding.Latin1.GetString(b));
        Assert.DoesNotContain(files, content => content.Contains(key, StringComparison.Ordinal));
        Assert.DoesNotContain(key, _host.Output, StringComparison.Ordinal);
    }
}
