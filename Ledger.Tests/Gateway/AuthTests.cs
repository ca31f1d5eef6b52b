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

    [Fact]
    public async Task A_revoked_key_is_refused_within_a_second_and_the_list_never_shows_a_key()
    {
        await _host.Seed(_p + "USD", _p + "bank", (_p + "carol", "10"));
        var issued = await _host.Post("/v1/keys", new { owner = _p + "carol" });
        Assert.Equal(201, issued.Status);
        var key = issued.Body.GetProperty("key").GetString()!;
        var keyId = issued.Body.GetProperty("key_id").GetString()!;
        Assert.True(Ledger.Contracts.Primitives.Id.IsValid(keyId));
        Assert.DoesNotContain(keyId, key, StringComparison.Ordinal);
        Assert.Equal(200, (await Send(key, HttpMethod.Get, $"/v1/accounts/{_p}carol")).Status);

        var (status, list) = await _host.Get("/v1/keys");
        Assert.Equal(200, status);
        var mine = Assert.Single(list.GetProperty("items").EnumerateArray(), k => k.GetProperty("key_id").GetString() == keyId);
        Assert.Equal(_p + "carol", mine.GetProperty("owner").GetString());
        Assert.True(DateTimeOffset.TryParse(mine.GetProperty("created_at").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal(["created_at", "key_id", "owner"], mine.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var listed = list.GetRawText();
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(Hash(key), listed, StringComparison.Ordinal);

        // Only the admin lists and revokes; a refusal revokes nothing.
        Assert.Equal((403, "forbidden"), await Send(key, HttpMethod.Get, "/v1/keys"));
        Assert.Equal((403, "forbidden"), await Send(key, HttpMethod.Delete, "/v1/keys/" + keyId));
        Assert.Equal((401, "unauthorized"), await Send(null, HttpMethod.Delete, "/v1/keys/" + keyId));
        Assert.Equal((404, "key_not_found"), await Send(HostProcess.AdminKey, HttpMethod.Delete, "/v1/keys/key_0000000000000000000"));
        Assert.Equal((400, "invalid_id"), await Send(HostProcess.AdminKey, HttpMethod.Delete, "/v1/keys/" + new string('k', 65)));
        Assert.Equal(200, (await Send(key, HttpMethod.Get, $"/v1/accounts/{_p}carol")).Status);

        Assert.Equal((204, null), await Send(HostProcess.AdminKey, HttpMethod.Delete, "/v1/keys/" + keyId));
        var revokedAt = System.Diagnostics.Stopwatch.StartNew();
        while ((await Send(key, HttpMethod.Get, $"/v1/accounts/{_p}carol")).Status != 401)
        {
            Assert.True(revokedAt.Elapsed < TimeSpan.FromSeconds(10), "the revoked key still works after 10 s");
            await Task.Delay(50);
        }
        Assert.True(revokedAt.Elapsed <= TimeSpan.FromSeconds(1), $"the revoked key worked for {revokedAt.ElapsedMilliseconds} ms");
        Assert.Equal((401, "unauthorized"), await Send(key, HttpMethod.Get, $"/v1/assets/{_p}USD"));
        Assert.Equal((404, "key_not_found"), await Send(HostProcess.AdminKey, HttpMethod.Delete, "/v1/keys/" + keyId));
        Assert.DoesNotContain((await _host.Get("/v1/keys")).Body.GetProperty("items").EnumerateArray(), k => k.GetProperty("key_id").GetString() == keyId);
    }

    [Fact]
    public async Task A_revoked_key_stays_revoked_after_a_restart_and_the_others_keep_working()
    {
        await using var host = new HostProcess();
        await host.Start();
        Assert.Equal(201, (await host.Post("/v1/accounts", new { id = "dave", owner = "dave" })).Status);
        var kept = await host.Post("/v1/keys", new { owner = "dave" });
        var revoked = await host.Post("/v1/keys", new { owner = "dave" });
        Assert.Equal(204, (await host.Send(HttpMethod.Delete, "/v1/keys/" + revoked.Body.GetProperty("key_id").GetString())).Status);
        await host.Stop();
        await host.Start();

        using var client = new HttpClient { BaseAddress = host.Http.BaseAddress };
        async Task<int> Status(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/accounts/dave");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await client.SendAsync(request);
            return (int)response.StatusCode;
        }
        Assert.Equal(401, await Status(revoked.Body.GetProperty("key").GetString()!));
        Assert.Equal(200, await Status(kept.Body.GetProperty("key").GetString()!));
        var items = (await host.Get("/v1/keys")).Body.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("key_id").GetString()).ToList();
        Assert.Equal([kept.Body.GetProperty("key_id").GetString()], items);
    }

    private static string Hash(string key) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
}
