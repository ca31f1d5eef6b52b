using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

public sealed class HostFixture : IAsyncLifetime
{
    public HostProcess Host { get; } = new();
    public Task InitializeAsync() => Host.Start();
    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>End to end: the real host process, spoken to over HTTP exactly as api.md describes.</summary>
public class GatewayTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    private async Task Setup(params string[] accounts)
    {
        Assert.Equal(201, (await _host.Post("/v1/assets", new { id = _p + "USD", decimals = 2, issuer = _p + "bank" })).Status);
        foreach (var a in accounts) Assert.Equal(201, (await _host.Post("/v1/accounts", new { id = _p + a, owner = a })).Status);
    }

    private Task<(int Status, JsonElement Body)> Transfer(string from, string to, string amount, string id, bool pending = false, long? timeoutMs = null) =>
        _host.Post("/v1/transfers", new { id, from = _p + from, to = _p + to, asset = _p + "USD", amount, pending, timeout_ms = timeoutMs });

    private Task<JsonElement> Balance(string account) => _host.Balance(_p + account, _p + "USD");

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    [Fact]
    public async Task Walkthrough_asset_accounts_mint_transfer_reserve_and_post()
    {
        await Setup("alice", "bob");
        var again = await _host.Post("/v1/accounts", new { id = _p + "alice", owner = "alice" });
        Assert.Equal(200, again.Status);
        var other = await _host.Post("/v1/accounts", new { id = _p + "alice", owner = "mallory" });
        Assert.Equal((409, "account_exists"), (other.Status, S(other.Body, "code")));

        var mint = await Transfer("bank", "alice", "10000", "mint-1");
        Assert.Equal(200, mint.Status);
        Assert.Equal("committed", S(mint.Body, "status"));
        Assert.Equal(_p + "bank", S(mint.Body, "account"));
        Assert.Equal("transfer", S(mint.Body, "type"));

        Assert.Equal("committed", S((await Transfer("alice", "bob", "2500", "t1")).Body, "status"));
        var reserve = await Transfer("alice", "bob", "1000", "p1", pending: true, timeoutMs: 3_600_000);
        Assert.Equal("pending", S(reserve.Body, "status"));
        var alice = await Balance("alice");
        Assert.Equal(("7500", "1000", "6500"), (S(alice, "posted"), S(alice, "pending_out"), S(alice, "available")));
        Assert.Equal("1000", S(await Balance("bob"), "pending_in"));

        var post = await _host.Post("/v1/transfers/p1/post", new { from = _p + "alice", amount = "600" });
        Assert.Equal(200, post.Status);
        Assert.Equal("committed", S(post.Body, "status"));
        Assert.Equal("600", S(post.Body.GetProperty("legs")[0], "amount"));
        Assert.Equal(("6900", "0"), (S(await Balance("alice"), "posted"), S(await Balance("alice"), "pending_out")));
        Assert.Equal("3100", S(await Balance("bob"), "posted"));

        var asset = await _host.Get($"/v1/assets/{_p}USD");
        Assert.Equal(("10000", "-10000"), (S(asset.Body, "supply"), S(await Balance("bank"), "posted")));

        var tx = await _host.Get($"/v1/accounts/{_p}alice/transactions/t1");
        Assert.Equal(("t1", "committed"), (S(tx.Body, "id"), S(tx.Body, "status")));

        // Newest first, one per page, following the cursor.
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await _host.Get($"/v1/accounts/{_p}bob/transactions?limit=1" + (cursor is null ? "" : "&before=" + cursor));
            seen.AddRange(page.Body.GetProperty("items").EnumerateArray().Select(i => S(i, "id")));
            cursor = page.Body.GetProperty("next").GetString();
        } while (cursor is not null);
        Assert.Equal(["p1", "t1"], seen);
    }

    public static TheoryData<string, string> Malformed() => new()
    {
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":100}""", "invalid_amount" },
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":"-1"}""", "invalid_amount" },
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":"1.5"}""", "invalid_amount" },
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":"1e3"}""", "invalid_amount" },
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":" 1"}""", "invalid_amount" },
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":"340282366920938463463374607431768211456"}""", "invalid_amount" },
        { """{"id":"a b","from":"F","to":"T","asset":"A","amount":"1"}""", "invalid_id" },
        { """{"id":"x","from":"F/","to":"T","asset":"A","amount":"1"}""", "invalid_id" },
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":"1","note":"hi"}""", "invalid_request" },
        { """{"id":"x","from":"F","asset":"A","amount":"1"}""", "invalid_request" },
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":"1","timeout_ms":5}""", "invalid_request" },
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":"1","pending":"yes"}""", "invalid_request" },
        { """{"id":"x","from":"F","to":"T","asset":"A","amount":"1","pending":true,"timeout_ms":-5}""", "invalid_request" },
        { """not json""", "invalid_request" },
        { """[1,2]""", "invalid_request" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Malformed_transfer_is_400_with_its_code_and_changes_nothing(string template, string code)
    {
        await Setup("alice", "bob");
        await Transfer("bank", "alice", "100", "mint");
        var body = template.Replace("\"F", "\"" + _p + "alice", StringComparison.Ordinal).Replace("\"T\"", "\"" + _p + "bob\"", StringComparison.Ordinal)
            .Replace("\"A\"", "\"" + _p + "USD\"", StringComparison.Ordinal);
        var (status, problem) = await _host.Post("/v1/transfers", body);
        Assert.Equal(400, status);
        Assert.Equal(code, S(problem, "code"));
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal("100", S(await Balance("alice"), "posted"));
        Assert.Equal(404, (await _host.Get($"/v1/accounts/{_p}alice/transactions/x")).Status);
    }

    [Fact]
    public async Task Business_rejections_are_422_with_their_codes_and_retries_return_them_again()
    {
        await Setup("alice", "bob");
        await Transfer("bank", "alice", "100", "mint");
        async Task Expect(int status, string code, Task<(int Status, JsonElement Body)> call)
        {
            var (s, b) = await call;
            Assert.Equal((status, code), (s, S(b, "code")));
        }
        await Expect(422, "insufficient_funds", Transfer("alice", "bob", "101", "t1"));
        await Transfer("bank", "alice", "1000", "mint-2");
        await Expect(422, "insufficient_funds", Transfer("alice", "bob", "101", "t1")); // same key: same outcome
        await Expect(409, "id_conflict", Transfer("alice", "bob", "102", "t1"));
        await Expect(422, "zero_amount", Transfer("alice", "bob", "0", "t2"));
        await Expect(422, "same_account", Transfer("alice", "alice", "1", "t3"));
        await Expect(422, "account_not_found", Transfer("alice", "nobody", "1", "t4"));
        await Expect(422, "account_not_found", Transfer("nobody", "alice", "1", "t5"));
        await Expect(422, "asset_not_found", _host.Post("/v1/transfers", new { id = "t6", from = _p + "alice", to = _p + "bob", asset = _p + "XXX", amount = "1" }));
        await Expect(422, "pending_not_found", _host.Post("/v1/transfers/nope/post", new { from = _p + "alice" }));
        await Expect(404, "account_not_found", _host.Get($"/v1/accounts/{_p}nobody"));
        await Expect(404, "asset_not_found", _host.Get($"/v1/assets/{_p}XXX"));
        await Expect(404, "not_found", _host.Get("/v1/nothing-here"));
        await Expect(400, "invalid_id", _host.Get("/v1/accounts/a%20b"));
        Assert.Equal("1100", S(await Balance("alice"), "posted"));
    }

    /// <summary>
    /// <c>balances?at=</c> over HTTP: before a mint, between it and a transfer, and after both; the instants are read
    /// from this machine's clock, which the host shares, each taken after one answer and before the next request.
    /// </summary>
    [Fact]
    public async Task Balances_at_an_instant_count_what_moved_at_or_before_it()
    {
        await Setup("alice", "bob");
        static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        static long After(long t)
        {
            while (Now() <= t) Thread.Sleep(1);
            return Now();
        }
        var before = Now() - 1;
        Assert.Equal(200, (await Transfer("bank", "alice", "10000", "m1")).Status);
        var minted = After(Now());
        After(minted);
        Assert.Equal(200, (await Transfer("alice", "bob", "3000", "t1")).Status);
        var moved = After(Now());

        async Task<string?> At(string account, long at)
        {
            var r = await _host.Get($"/v1/accounts/{_p + account}/balances?at={at}");
            Assert.Equal(200, r.Status);
            Assert.Equal(_p + account, S(r.Body, "id"));
            return r.Body.GetProperty("balances").TryGetProperty(_p + "USD", out var b) ? S(b, "posted") : null;
        }
        Assert.Null(await At("alice", before));
        Assert.Equal("10000", await At("alice", minted));
        Assert.Null(await At("bob", minted));
        Assert.Equal(("7000", "3000", "-10000"), (await At("alice", moved), await At("bob", moved), await At("bank", moved)));

        foreach (var query in new[] { "", "?at=", "?at=soon", "?at=-5", $"?at={Now() + 3_600_000}", "?at=1&at=2" })
        {
            var bad = await _host.Get($"/v1/accounts/{_p}alice/balances{query}");
            Assert.Equal((400, "invalid_request"), (bad.Status, S(bad.Body, "code")));
        }
        var unknown = await _host.Get($"/v1/accounts/{_p}nobody/balances?at={moved}");
        Assert.Equal((404, "account_not_found"), (unknown.Status, S(unknown.Body, "code")));
    }

    [Fact]
    public async Task Pending_transfer_expires_on_its_own_and_can_then_not_be_posted()
    {
        await Setup("alice", "bob");
        await Transfer("bank", "alice", "100", "mint");
        // Answered "pending" once the reservation is durable on both sides and its waker is armed: within its 5 s even
        // on a loaded machine (2 s assumed an idle one).
        Assert.Equal("pending", S((await Transfer("alice", "bob", "40", "p1", pending: true, timeoutMs: 5_000)).Body, "status"));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (S(await Balance("alice"), "pending_out") != "0" || S(await Balance("bob"), "pending_in") != "0")
        {
            Assert.True(DateTime.UtcNow < deadline, "reservation not released");
            await Task.Delay(100);
        }
        Assert.Equal("expired", S((await _host.Get($"/v1/accounts/{_p}alice/transactions/p1")).Body, "status"));
        var post = await _host.Post("/v1/transfers/p1/post", new { from = _p + "alice" });
        Assert.Equal((422, "pending_expired"), (post.Status, S(post.Body, "code")));
        var voided = await Transfer("alice", "bob", "10", "p2", pending: true);
        Assert.Equal(200, voided.Status);
        Assert.Equal("voided", S((await _host.Post("/v1/transfers/p2/void", new { from = _p + "alice" })).Body, "status"));
        var postVoided = await _host.Post("/v1/transfers/p2/post", new { from = _p + "alice" });
        Assert.Equal((422, "already_voided"), (postVoided.Status, S(postVoided.Body, "code")));
        Assert.Equal("100", S(await Balance("alice"), "available"));
    }

    [Fact]
    public async Task Batch_answers_every_operation_in_request_order()
    {
        await Setup("alice", "bob", "carol");
        await Transfer("bank", "alice", "100", "mint");
        object Op(string id, string from, string to, string amount, string asset = "USD") =>
            new { type = "transfer", id, from = _p + from, to = _p + to, asset = _p + asset, amount };
        var (status, body) = await _host.Post("/v1/batches", new
        {
            atomic = false,
            // Order is kept per initiating account; bob receives nothing in this batch, so b2 fails whatever the timing.
            operations = new[] { Op("b1", "alice", "carol", "60"), Op("b2", "bob", "alice", "10"), Op("b3", "alice", "bob", "60"), Op("b4", "alice", "bob", "1", "XXX"), Op("b5", "alice", "bob", "50") },
        });
        Assert.Equal(200, status);
        var results = body.GetProperty("results").EnumerateArray().Select(r => (S(r, "id"), S(r, "status"), r.TryGetProperty("code", out var c) ? c.GetString() : null)).ToList();
        Assert.Equal([("b1", "committed", null), ("b2", "rejected", "insufficient_funds"), ("b3", "rejected", "insufficient_funds"),
            ("b4", "rejected", "asset_not_found"), ("b5", "rejected", "insufficient_funds")], results);
        Assert.Equal("40", S(await Balance("alice"), "posted"));

        var tooLarge = await _host.Post("/v1/batches", new { operations = Enumerable.Range(0, 8_191).Select(i => Op("x" + i, "alice", "bob", "1")).ToArray() });
        Assert.Equal((400, "batch_too_large"), (tooLarge.Status, S(tooLarge.Body, "code")));
        var atomic = await _host.Post("/v1/batches", new { atomic = true, operations = new[] { Op("a1", "alice", "bob", "1"), Op("a2", "alice", "bob", "41") } });
        Assert.Equal(200, atomic.Status);
        Assert.Equal([("rejected", "linked_operation_failed"), ("rejected", "insufficient_funds")],
            atomic.Body.GetProperty("results").EnumerateArray().Select(r => (S(r, "status"), S(r, "code"))));
        Assert.Equal("40", S(await Balance("alice"), "posted"));
        var malformed = await _host.Post("/v1/batches", new { operations = new object[] { Op("m1", "alice", "bob", "1"), new { type = "transfer", id = "m2" } } });
        Assert.Equal((400, "invalid_request"), (malformed.Status, S(malformed.Body, "code")));
        Assert.Equal(404, (await _host.Get($"/v1/accounts/{_p}alice/transactions/m1")).Status);
    }

    [Fact]
    public async Task Eight_clients_transferring_at_random_among_twenty_accounts_keep_the_sum_at_zero()
    {
        var accounts = Enumerable.Range(0, 20).Select(i => "u" + i).ToArray();
        await Setup(accounts);
        foreach (var a in accounts) Assert.Equal(200, (await Transfer("bank", a, "1000", "mint-" + a)).Status);

        var committed = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async client =>
        {
            var random = new Random(client);
            for (var i = 0; i < 40; i++)
            {
                var from = accounts[random.Next(accounts.Length)];
                var to = accounts[random.Next(accounts.Length)];
                var (status, _) = await Transfer(from, to, random.Next(1, 400).ToString(System.Globalization.CultureInfo.InvariantCulture), $"c{client}-{i}");
                Assert.True(status is 200 or 422, $"status {status}");
                if (status == 200) Interlocked.Increment(ref committed);
            }
        }));

        Int128 sum = 0;
        foreach (var a in accounts.Append("bank"))
        {
            var b = await Balance(a);
            sum += Int128.Parse(S(b, "posted"), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal("0", S(b, "pending_out"));
            if (a != "bank") Assert.True(Int128.Parse(S(b, "available"), System.Globalization.CultureInfo.InvariantCulture) >= 0);
        }
        Assert.Equal(0, sum);
        Assert.True(committed > 0);
    }

    [Fact]
    public async Task Operators_see_the_cluster_the_metrics_and_the_openapi_document()
    {
        await _host.Seed(_p + "OPS", _p + "ops-bank", (_p + "ops", "10"));
        var (status, cluster) = await _host.Get("/v1/cluster");
        Assert.Equal(200, status);
        var member = Assert.Single(cluster.GetProperty("members").EnumerateArray());
        Assert.Equal(("up", true), (S(member, "status"), member.GetProperty("reachable").GetBoolean()));
        Assert.Equal(["gateway", "ledger"], member.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.True(cluster.GetProperty("shards").GetProperty(S(cluster, "self")).GetProperty("account").GetProperty("entities").GetInt32() > 0);

        var metrics = await _host.Http.GetStringAsync("/metrics");
        Assert.Contains("ledger_journal_write_seconds_bucket{entity=\"account\"", metrics, StringComparison.Ordinal);
        Assert.Contains("http_requests_received_total{code=\"201\",method=\"POST\"", metrics, StringComparison.Ordinal);

        var (openApiStatus, openApi) = await _host.Get("/openapi/v1.json");
        Assert.Equal(200, openApiStatus);
        foreach (var path in new[] { "/v1/transfers", "/v1/swaps", "/v1/batches", "/v1/markets/{id}/borrow", "/v1/farms", "/v1/cluster" })
            Assert.True(openApi.GetProperty("paths").TryGetProperty(path, out _), path);
    }
}
