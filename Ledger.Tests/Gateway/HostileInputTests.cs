using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// Thousands of generated hostile requests against every route of a real host: bodies that are not JSON, JSON of the
/// wrong shape, fields of the wrong type, numbers as amounts, negative, huge and fractional amounts, ids with
/// forbidden characters or too long, unknown fields, deep nesting, path segments that are not ids. None may get a
/// 5xx, and none may change anything: the seeded balances and every asset's audit read the same afterwards.
/// </summary>
public class HostileInputTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;

    private static readonly string[] Routes =
    [
        "POST /v1/assets", "POST /v1/accounts", "POST /v1/transfers", "POST /v1/transfers/{id}/post", "POST /v1/transfers/{id}/void",
        "POST /v1/batches", "POST /v1/pools", "POST /v1/pools/{id}/deposits", "POST /v1/pools/{id}/withdrawals", "POST /v1/swaps",
        "PUT /v1/oracle/prices/{id}", "POST /v1/markets", "POST /v1/markets/{id}/supply", "POST /v1/markets/{id}/borrow",
        "POST /v1/markets/{id}/liquidate", "POST /v1/farms", "POST /v1/farms/{id}/stake", "POST /v1/farms/{id}/claim", "POST /v1/keys", "DELETE /v1/keys/{id}",
        "GET /v1/accounts/{id}", "GET /v1/accounts/{id}/transactions", "GET /v1/accounts/{id}/transactions/{id}", "GET /v1/assets/{id}",
        "GET /v1/pools/{id}", "GET /v1/pools/{id}/quote", "GET /v1/markets/{id}", "GET /v1/markets/{id}/positions/{id}", "GET /v1/farms/{id}",
        "GET /v1/keys",
    ];

    private static readonly string[] Fields =
        ["id", "from", "to", "asset", "amount", "account", "owner", "decimals", "issuer", "route", "asset_in", "amount_in", "min_amount_out",
         "operations", "atomic", "pending", "timeout_ms", "fee_bps", "asset_a", "asset_b", "price", "lltv_bps", "rate", "duration_s",
         "repay_amount", "borrower", "liquidator", "shares", "deadline", "type", "amount_out", "max_amount_in"];

    /// <summary>
    /// Values, none of them a valid id or amount string (each string holds a character ids refuse, or is empty or too
    /// long), so that no generated body is a valid request: numbers and other types where ids and amounts belong,
    /// and strings where numbers belong.
    /// </summary>
    private static readonly string[] Values =
        ["null", "true", "-1", "0", "1.5", "1e30", "12345678901234567890123", "\"\"", "\" 7\"", "\"1 000\"", "\"a/b\"", "\"../etc\"",
         "\"" + new string('x', 65) + "\"", "\"émoji😀\"", "\"\\u0000\"", "\"-5 \"", "[]", "{}", "[1,2]", "{\"a\":{\"b\":[]}}", "NaN"];

    private static readonly string[] PathIds = ["ok", "a%2Fb", "%20", new string('x', 65), "..", "%00", "é"];

    private static Gen<string> Body() =>
        Gen.OneOf(
            Gen.Elements("", "{", "not json", "[]", "null", "\"x\"", "{\"a\":" + string.Concat(Enumerable.Repeat("[", 40)) + string.Concat(Enumerable.Repeat("]", 40)) + "}"),
            from n in Gen.Choose(0, 6)
            from fields in Gen.ArrayOf(Gen.Elements(Fields), n)
            from values in Gen.ArrayOf(Gen.Elements(Values), n)
            select "{" + string.Join(",", fields.Zip(values, (f, v) => $"\"{f}\":{v}")) + "}");

    [Fact]
    public async Task Thousands_of_hostile_requests_get_no_5xx_and_change_nothing()
    {
        await _host.Seed("hx-USD", "hx-bank", ("hx-a", "100"));
        var before = await Snapshot();
        var gen = from route in Gen.Elements(Routes)
                  from ids in Gen.ArrayOf(Gen.Elements(PathIds), 2)
                  from body in Body()
                  from query in Gen.Elements("", "?limit=-1", "?limit=abc&before=1e9", "?asset_in=hx-USD&amount_in=-3", "?amount_in=1.5")
                  select (route, ids, body, query);
        var cases = gen.Sample(2_000, 7);
        var failures = new List<string>();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, token) =>
        {
            var (route, ids, body, query) = c;
            var parts = route.Split(' ');
            var k = 0;
            var path = string.Concat(parts[1].Split("{id}").Select((s, i) => i == 0 ? s : ids[k++ % ids.Length] + s)) + query;
            using var request = new HttpRequestMessage(new HttpMethod(parts[0]), path);
            if (parts[0] != "GET") request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await _host.Http.SendAsync(request, token);
            if ((int)response.StatusCode >= 500) lock (failures) failures.Add($"{(int)response.StatusCode} {route} {path} {body}");
        });
        Assert.Empty(failures);
        Assert.Equal(before, await Snapshot());
    }

    /// <summary>What hostile requests must not change: the seeded balances, per asset the audit's sums and supplies, and the keys.</summary>
    private async Task<string> Snapshot()
    {
        var a = (await _host.Get("/v1/accounts/hx-a")).Body.GetRawText() + (await _host.Get("/v1/keys")).Body.GetRawText();
        var audit = (await _host.Get("/v1/audit/supply")).Body.GetProperty("assets");
        return a + string.Join(";", audit.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Value.GetProperty("sum").GetString()}/{p.Value.GetProperty("supply").GetString()}"));
    }
}
