using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// Every <c>/v1</c> route × every kind of caller, on a real host: the admin key, the key of the account's owner, the
/// key of another owner, and no key. Each route says who may call it; the test asserts the class of every answer
/// (a business answer — 2xx or 4xx — versus <c>401</c> versus <c>403</c>). The table must name exactly the routes
/// the host's OpenAPI document lists, so a route added without a row here fails the test.
/// </summary>
public class AuthorizationMatrixTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    /// <summary>Who may call a route: only the admin, the admin and the owner of the account it names, or any key.</summary>
    public enum Access { Admin, Owner, AnyKey }

    private enum Caller { Admin, Owner, OtherOwner, None }

    /// <summary>One request of a route: its pattern as the OpenAPI document names it, and a concrete path and body naming the owner's account.</summary>
    private sealed record Row(string Method, string Pattern, Access Access, string Path, object? Body = null);

    // The operations with a body of (id, account, amount) or (id, account) that each have a path of their own.
    private static readonly string[] MarketOperations = ["supply", "withdraw", "supply_collateral", "withdraw_collateral", "borrow", "repay"];
    private static readonly string[] FarmOperations = ["rewards", "stake", "unstake"];
    private static readonly string[] OptionOperations = ["mint", "burn", "redeem"];
    private static readonly string[] ProposalOperations = ["queue", "execute", "cancel"];
    private static readonly string[] PerpOperations = ["vault/deposit", "vault/withdraw", "margin/deposit", "margin/withdraw"];

    private string Alice => _p + "alice-acc";
    private string Bob => _p + "bob-acc";
    private string Carol => _p + "carol-acc";
    private string Usd => _p + "USD";
    private string Eur => _p + "EUR";

    private Row[] Table() =>
    [
        new("POST", "/v1/assets", Access.Admin, "/v1/assets", new { id = _p + "GBP", decimals = 2, issuer = _p + "bank" }),
        new("GET", "/v1/assets/{id}", Access.AnyKey, $"/v1/assets/{Usd}"),
        new("POST", "/v1/accounts", Access.Owner, "/v1/accounts", new { id = _p + "alice-2", owner = _p + "alice" }),
        new("GET", "/v1/accounts/{id}", Access.Owner, $"/v1/accounts/{Alice}"),
        new("POST", "/v1/accounts/{id}/close", Access.Owner, $"/v1/accounts/{Alice}/close", new { id = "close-1" }),
        new("GET", "/v1/accounts/{id}/balances", Access.Owner, $"/v1/accounts/{Alice}/balances?at=1700000000000"),
        new("GET", "/v1/accounts/{id}/transactions", Access.Owner, $"/v1/accounts/{Alice}/transactions"),
        new("GET", "/v1/accounts/{account}/transactions/{id}", Access.Owner, $"/v1/accounts/{Alice}/transactions/t-1"),
        new("POST", "/v1/transfers", Access.Owner, "/v1/transfers", new { id = "t-1", from = Alice, to = Bob, asset = Usd, amount = "1" }),
        new("POST", "/v1/transfers/{id}/post", Access.Owner, "/v1/transfers/t-none/post", new { from = Alice }),
        new("POST", "/v1/transfers/{id}/void", Access.Owner, "/v1/transfers/t-none/void", new { from = Alice }),
        new("POST", "/v1/batches", Access.Owner, "/v1/batches",
            new { operations = new object[] { new { type = "transfer", id = "b-1", from = Alice, to = Bob, asset = Usd, amount = "1" } } }),
        new("POST", "/v1/pools", Access.Admin, "/v1/pools", new { id = _p + "pool", asset_a = Usd, asset_b = Eur, fee_bps = 30 }),
        new("GET", "/v1/pools/{id}", Access.AnyKey, $"/v1/pools/{_p}pool"),
        new("GET", "/v1/pools/{id}/quote", Access.AnyKey, $"/v1/pools/{_p}pool/quote?asset_in={Usd}&amount_in=10"),
        new("POST", "/v1/pools/{id}/deposits", Access.Owner, $"/v1/pools/{_p}pool/deposits",
            new { id = "d-1", account = Alice, amount_a_desired = "10", amount_b_desired = "10", amount_a_min = "0", amount_b_min = "0" }),
        new("POST", "/v1/pools/{id}/withdrawals", Access.Owner, $"/v1/pools/{_p}pool/withdrawals",
            new { id = "w-1", account = Alice, shares = "1", amount_a_min = "0", amount_b_min = "0" }),
        new("POST", "/v1/swaps", Access.Owner, "/v1/swaps",
            new { id = "s-1", account = Alice, route = new[] { _p + "pool" }, asset_in = Usd, amount_in = "1", min_amount_out = "0" }),
        new("PUT", "/v1/oracle/prices/{asset}", Access.Admin, $"/v1/oracle/prices/{Usd}", new { price = "1" }),
        new("POST", "/v1/markets", Access.Admin, "/v1/markets",
            new
            {
                id = _p + "market", loan_asset = Usd, collateral_asset = Eur, lltv_bps = 8000,
                rate = new { base_bps = 0, slope1_bps = 400, slope2_bps = 30000, kink_bps = 8000 }, reserve_factor_bps = 1000, liquidation_bonus_bps = 500,
            }),
        new("GET", "/v1/markets/{id}", Access.AnyKey, $"/v1/markets/{_p}market"),
        new("GET", "/v1/markets/{id}/positions/{account}", Access.Owner, $"/v1/markets/{_p}market/positions/{Alice}"),
        .. MarketOperations.Select(op =>
            new Row("POST", "/v1/markets/{id}/" + op, Access.Owner, $"/v1/markets/{_p}market/{op}", new { id = "m-" + op, account = Alice, amount = "1" })),
        new("POST", "/v1/markets/{id}/liquidate", Access.Owner, $"/v1/markets/{_p}market/liquidate",
            new { id = "m-2", liquidator = Alice, borrower = Bob, repay_amount = "1" }),
        new("POST", "/v1/farms", Access.Admin, "/v1/farms", new { id = _p + "farm", stake_asset = Usd, reward_asset = Eur, duration_s = 3600 }),
        new("GET", "/v1/farms/{id}", Access.AnyKey, $"/v1/farms/{_p}farm"),
        new("GET", "/v1/farms/{id}/positions/{account}", Access.Owner, $"/v1/farms/{_p}farm/positions/{Alice}"),
        .. FarmOperations.Select(op =>
            new Row("POST", "/v1/farms/{id}/" + op, Access.Owner, $"/v1/farms/{_p}farm/{op}", new { id = "f-" + op, account = Alice, amount = "1" })),
        new("POST", "/v1/farms/{id}/claim", Access.Owner, $"/v1/farms/{_p}farm/claim", new { id = "f-2", account = Alice }),
        new("POST", "/v1/options", Access.Admin, "/v1/options",
            new { id = _p + "opt", underlying = Usd, strike_asset = Eur, kind = "put", strike = "1", expiry = 4_000_000_000_000L, dispute_ms = 0 }),
        new("GET", "/v1/options/{id}", Access.AnyKey, $"/v1/options/{_p}opt"),
        new("GET", "/v1/options/{id}/positions/{account}", Access.Owner, $"/v1/options/{_p}opt/positions/{Alice}"),
        new("PUT", "/v1/options/{id}/expiry_price", Access.Admin, $"/v1/options/{_p}opt/expiry_price", new { price = "1" }),
        .. OptionOperations.Select(op =>
            new Row("POST", "/v1/options/{id}/" + op, Access.Owner, $"/v1/options/{_p}opt/{op}", new { id = "o-" + op, account = Alice, amount = "1" })),
        new("POST", "/v1/options/{id}/settle", Access.Owner, $"/v1/options/{_p}opt/settle", new { id = "o-2", account = Alice }),
        new("POST", "/v1/governors", Access.Admin, "/v1/governors", new
        {
            id = _p + "gov", token = Usd, voting_delay_ms = 0, voting_period_ms = 60_000, proposal_threshold = "0", quorum_bps = 100, timelock_ms = 0,
            grace_ms = 60_000,
        }),
        new("GET", "/v1/governors/{g}", Access.AnyKey, $"/v1/governors/{_p}gov"),
        new("POST", "/v1/governors/{g}/proposals", Access.Owner, $"/v1/governors/{_p}gov/proposals",
            new { id = "gp-1", proposer = Alice, operations = new[] { new { type = "transfer", id = "g1", from = $"gov.{_p}gov", to = Alice, asset = Usd, amount = "1" } } }),
        new("GET", "/v1/governors/{g}/proposals/{p}", Access.AnyKey, $"/v1/governors/{_p}gov/proposals/gp-1"),
        new("POST", "/v1/governors/{g}/proposals/{p}/votes", Access.Owner, $"/v1/governors/{_p}gov/proposals/gp-1/votes", new { id = "gv-1", voter = Alice, support = "for" }),
        .. ProposalOperations.Select(op =>
            new Row("POST", "/v1/governors/{g}/proposals/{p}/" + op, Access.Owner, $"/v1/governors/{_p}gov/proposals/gp-1/{op}", new { id = "g-" + op, account = Alice })),
        new("POST", "/v1/perps", Access.Admin, "/v1/perps", new
        {
            id = _p + "perp", underlying = Eur, margin_asset = Usd, skew_scale = "1000", max_funding_velocity = "0.1", initial_margin_ratio = "0.1",
            maintenance_margin_ratio = "0.05", liquidation_reward_ratio = "0.01", taker_fee_bps = 5,
        }),
        new("GET", "/v1/perps/{id}", Access.AnyKey, $"/v1/perps/{_p}perp"),
        new("GET", "/v1/perps/{id}/positions/{account}", Access.Owner, $"/v1/perps/{_p}perp/positions/{Alice}"),
        .. PerpOperations.Select(op =>
            new Row("POST", "/v1/perps/{id}/" + op, Access.Owner, $"/v1/perps/{_p}perp/{op}", new { id = "p-" + op.Replace('/', '-'), account = Alice, amount = "1" })),
        new("POST", "/v1/perps/{id}/orders", Access.Owner, $"/v1/perps/{_p}perp/orders", new { id = "po-1", account = Alice, size_delta = "1" }),
        new("POST", "/v1/perps/{id}/liquidate", Access.Owner, $"/v1/perps/{_p}perp/liquidate", new { id = "pl-1", liquidator = Alice, account = Bob }),
        new("POST", "/v1/channels", Access.Owner, "/v1/channels",
            new { id = _p + "ch", asset = Usd, a = Alice, b = Carol, a_key = new string('a', 64), b_key = new string('b', 64), challenge_ms = 1_000 }),
        new("GET", "/v1/channels/{c}", Access.AnyKey, $"/v1/channels/{_p}ch"),
        new("POST", "/v1/channels/{c}/deposit", Access.Owner, $"/v1/channels/{_p}ch/deposit", new { id = "cd-1", account = Alice, amount = "1" }),
        new("POST", "/v1/channels/{c}/update", Access.Owner, $"/v1/channels/{_p}ch/update",
            new { id = "cu-1", account = Alice, proof = new { signer = Carol, nonce = 1, transferred = "1", signature = new string('0', 128) } }),
        new("POST", "/v1/channels/{c}/close", Access.Owner, $"/v1/channels/{_p}ch/close", new { id = "cc-1", account = Alice }),
        new("POST", "/v1/channels/{c}/settle", Access.Owner, $"/v1/channels/{_p}ch/settle", new { id = "cs-1", account = Alice }),
        new("GET", "/v1/events", Access.AnyKey, "/v1/events?limit=5"),
        new("GET", "/v1/events/stream", Access.AnyKey, "/v1/events/stream"),
        new("GET", "/v1/cluster", Access.Admin, "/v1/cluster"),
        new("POST", "/v1/keys", Access.Admin, "/v1/keys", new { owner = _p + "carol" }),
        new("GET", "/v1/keys", Access.Admin, "/v1/keys"),
        new("DELETE", "/v1/keys/{key_id}", Access.Admin, "/v1/keys/key_never_issued"),
        new("GET", "/v1/audit/supply", Access.Admin, "/v1/audit/supply"),
    ];

    private static string Expected(Access access, Caller caller) => (access, caller) switch
    {
        (_, Caller.None) => "401",
        (_, Caller.Admin) or (Access.AnyKey, _) or (Access.Owner, Caller.Owner) => "answer",
        _ => "403",
    };

    /// <summary>A business answer is anything but 401, 403, a server error, or the unknown-route 404 (a row with a wrong path).</summary>
    private static string Class(int status, string? code) => status switch
    {
        401 => "401",
        403 => "403",
        _ when status < 500 && code != "not_found" => "answer",
        _ => $"{status} {code}",
    };

    [Fact]
    public async Task Every_route_answers_each_kind_of_caller_as_the_table_says()
    {
        foreach (var asset in new[] { Usd, Eur }) Assert.Equal(201, (await _host.Post("/v1/assets", new { id = asset, decimals = 2, issuer = _p + "bank" })).Status);
        Assert.Equal(201, (await _host.Post("/v1/accounts", new { id = Alice, owner = _p + "alice" })).Status);
        Assert.Equal(201, (await _host.Post("/v1/accounts", new { id = Bob, owner = _p + "bob" })).Status);
        Assert.Equal(201, (await _host.Post("/v1/accounts", new { id = Carol, owner = _p + "carol" })).Status);
        Assert.Equal(200, (await _host.Post("/v1/transfers", new { id = "mint", from = _p + "bank", to = Alice, asset = Usd, amount = "1000" })).Status);
        var keys = new Dictionary<Caller, string?>
        {
            [Caller.Admin] = HostProcess.AdminKey,
            [Caller.Owner] = await Issue(_p + "alice"),
            [Caller.OtherOwner] = await Issue(_p + "bob"),
            [Caller.None] = null,
        };

        var wrong = new List<string>();
        foreach (var row in Table())
            foreach (var caller in new[] { Caller.Admin, Caller.Owner, Caller.OtherOwner, Caller.None })
            {
                var (status, code) = await Send(keys[caller], row);
                var (expected, actual) = (Expected(row.Access, caller), Class(status, code));
                if (expected != actual) wrong.Add($"{row.Method} {row.Path} as {caller}: expected {expected}, got {status} {code}");
            }
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public async Task The_table_names_exactly_the_routes_the_host_serves()
    {
        using var response = await _host.Http.GetAsync("/openapi/v1.json");
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var served = doc.RootElement.GetProperty("paths").EnumerateObject()
            .Where(p => p.Name.StartsWith("/v1/", StringComparison.Ordinal) || p.Name == "/v1")
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}"))
            .ToHashSet(StringComparer.Ordinal);
        var table = Table().Select(r => $"{r.Method} {r.Pattern}").ToHashSet(StringComparer.Ordinal);
        Assert.True(served.Count > 20, "the OpenAPI document lists the /v1 routes");
        Assert.True(served.SetEquals(table),
            $"served but not in the table: {string.Join(", ", served.Except(table))}; in the table but not served: {string.Join(", ", table.Except(served))}");
    }

    private async Task<string> Issue(string owner)
    {
        var (status, body) = await _host.Post("/v1/keys", new { owner });
        Assert.Equal(201, status);
        return body.GetProperty("key").GetString()!;
    }

    private async Task<(int Status, string? Code)> Send(string? key, Row row)
    {
        using var request = new HttpRequestMessage(new HttpMethod(row.Method), row.Path);
        if (row.Body is not null) request.Content = JsonContent.Create(row.Body);
        request.Headers.Authorization = key is null ? null : new AuthenticationHeaderValue("Bearer", key);
        using var client = new HttpClient { BaseAddress = _host.Http.BaseAddress };
        // A stream (the change feed's) answers its headers and stays open: its status is the answer.
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream") return ((int)response.StatusCode, null);
        var text = await response.Content.ReadAsStringAsync();
        var code = text.StartsWith('{') && JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        return ((int)response.StatusCode, code);
    }
}
