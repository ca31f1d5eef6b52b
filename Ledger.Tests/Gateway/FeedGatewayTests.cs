using System.Text.Json;
using Ledger.Tests.Support;
using static Ledger.Tests.Support.Problem;

namespace Ledger.Tests.Gateway;

/// <summary>
/// The change feed over HTTP on a real host: every transaction of a run appears with its final status, each account's in
/// the order they were made; a page read from any cursor is the rest of the feed; an owner's key sees exactly the
/// items of its accounts; a cursor survives a restart of the node; and the stream delivers a new transfer and resumes
/// after the last id it sent.
/// </summary>
public class FeedGatewayTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    private sealed record Item(string Cursor, string Id, string Account, string Status, string[] Parties);

    private static Item Parse(JsonElement e)
    {
        var t = e.GetProperty("transaction");
        var legs = t.GetProperty("legs").EnumerateArray().SelectMany(l => new[] { l.GetProperty("from").GetString()!, l.GetProperty("to").GetString()! });
        return new(e.GetProperty("cursor").GetString()!, t.GetProperty("id").GetString()!, t.GetProperty("account").GetString()!,
            t.GetProperty("status").GetString()!, [t.GetProperty("account").GetString()!, .. legs]);
    }

    /// <summary>Pages from <paramref name="after"/> to the end of the feed.</summary>
    private static async Task<List<Item>> ReadAll(HostProcess host, string? after, int limit, string? key = null) =>
        [.. (await host.ReadFeed(after, limit, key)).Select(Parse)];

    /// <summary>Reads the whole feed until every id in <paramref name="ids"/> is in it (the feed is a moment behind the journal).</summary>
    private static async Task<List<Item>> Until(HostProcess host, IReadOnlyCollection<string> ids, string? after = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var all = await ReadAll(host, after, 1_000);
            var seen = all.Select(i => i.Id).ToHashSet();
            if (ids.All(seen.Contains)) return all;
            Assert.True(DateTime.UtcNow < deadline, $"not in the feed: {string.Join(", ", ids.Where(i => !seen.Contains(i)))}");
            await Task.Delay(100);
        }
    }


    /// <summary>Transfers among a, b and c (some refused, one pending and posted, one voided); returns each id with its expected status, in order.</summary>
    private async Task<List<(string Id, string From, string To, string Status)>> Traffic(HostProcess host, string usd, int n)
    {
        var made = new List<(string, string, string, string)>();
        string[] accounts = [_p + "a", _p + "b", _p + "c"];
        for (var i = 0; i < n; i++)
        {
            var (from, to) = (accounts[i % 3], accounts[(i + 1) % 3]);
            var amount = i % 7 == 6 ? "999999999" : (1 + i % 5).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var (status, body) = await host.Post("/v1/transfers", new { id = $"t{i}", from, to, asset = usd, amount });
            Assert.True(status is 200 or 422, body.ToString());
            made.Add(($"t{i}", from, to, status == 200 ? "committed" : "rejected"));
        }
        await host.PostUntilKnown("/v1/transfers", new { id = "p1", from = accounts[0], to = accounts[2], asset = usd, amount = "5", pending = true });
        await host.PostUntilKnown("/v1/transfers/p1/post", new { from = accounts[0] });
        made.Add(("p1", accounts[0], accounts[2], "committed"));
        await host.PostUntilKnown("/v1/transfers", new { id = "p2", from = accounts[1], to = accounts[2], asset = usd, amount = "5", pending = true });
        await host.PostUntilKnown("/v1/transfers/p2/void", new { from = accounts[1] });
        made.Add(("p2", accounts[1], accounts[2], "voided"));
        return made;
    }

    [Fact]
    public async Task Every_transaction_appears_in_order_per_account_and_any_cursor_resumes_the_rest()
    {
        var usd = _p + "USD";
        await _host.Seed(usd, _p + "fed", (_p + "a", "1000"), (_p + "b", "1000"), (_p + "c", "1000"));
        var made = await Traffic(_host, usd, 40);
        // Venue operations too: a pool deposit and a swap, a one-hop route (a saga), and a refused swap.
        var eur = _p + "EUR";
        await _host.Seed(eur, _p + "ecb", (_p + "lp", "100000"));
        await _host.Seed(usd, _p + "fed", (_p + "lp", "100000"));
        await _host.PostUntilKnown("/v1/pools", new { id = _p + "pool", asset_a = usd, asset_b = eur, fee_bps = 30 });
        await _host.PostUntilKnown($"/v1/pools/{_p}pool/deposits", new { id = "pd", account = _p + "lp", amount_a_desired = "50000", amount_b_desired = "50000" });
        await _host.PostUntilKnown("/v1/swaps", new { id = "sw1", account = _p + "a", route = new[] { _p + "pool" }, asset_in = usd, amount_in = "10" });
        Assert.Equal(422, (await _host.Post("/v1/swaps", new { id = "sw2", account = _p + "b", route = new[] { _p + "pool" }, asset_in = eur, amount_in = "10" })).Status);
        var all = await Until(_host, [.. made.Select(m => m.Id), "pd", "sw1", "sw2"]);
        var ours = all.Where(i => i.Parties.Any(p => p.StartsWith(_p, StringComparison.Ordinal))).ToList();
        Assert.Contains(ours, i => i.Id == "pd" && i.Status == "committed" && i.Parties.Contains(_p + "pool"));
        Assert.Contains(ours, i => i.Id == "sw1" && i.Status == "committed" && i.Parties.Contains(_p + "pool"));
        Assert.Contains(ours, i => i.Id == "sw2" && i.Status == "rejected");

        // Each transaction once per final record (at least once), with its status; the mints are there too.
        foreach (var (id, from, _, status) in made)
            Assert.Contains(ours, i => i.Id == id && i.Account == from && i.Status == status);
        Assert.Equal(5, ours.Count(i => i.Id.StartsWith("mint-", StringComparison.Ordinal)));
        // Each account's transactions in the order they were made (each was answered before the next was sent).
        foreach (var account in new[] { _p + "a", _p + "b", _p + "c" })
        {
            var expected = made.Where(m => m.From == account || m.To == account).Select(m => m.Id).ToList();
            var seen = ours.Where(i => i.Parties.Contains(account) && expected.Contains(i.Id)).Select(i => i.Id).Distinct().ToList();
            Assert.Equal(expected, seen);
        }
        // From any cursor, pages of any size give exactly the rest of the feed.
        var random = new Random(26_12_04);
        for (var k = 0; k < 6; k++)
        {
            var from = random.Next(all.Count);
            var rest = await ReadAll(_host, all[from].Cursor, random.Next(1, 9));
            Assert.Equal(all.Skip(from + 1).Select(i => i.Cursor), rest.Take(all.Count - from - 1).Select(i => i.Cursor));
        }
        Assert.Equal((400, "invalid_request"), await Code(_host.Get("/v1/events?after=x")));
        Assert.Equal((400, "invalid_request"), await Code(_host.Get("/v1/events?limit=1001")));
    }

    [Fact]
    public async Task An_owners_key_sees_exactly_the_items_of_its_accounts()
    {
        var usd = _p + "USD";
        await _host.Seed(usd, _p + "fed", (_p + "a", "1000"), (_p + "b", "1000"), (_p + "c", "1000"));
        var start = (await _host.Get("/v1/events?limit=1")).Body.GetProperty("items").EnumerateArray().Select(Parse).FirstOrDefault()?.Cursor;
        var made = await Traffic(_host, usd, 12);
        var key = (await _host.Post("/v1/keys", new { owner = _p + "b" })).Body.GetProperty("key").GetString()!;
        var all = await Until(_host, made.Select(m => m.Id).ToList(), start);
        var owned = await ReadAll(_host, start, 7, key);
        Assert.Equal(all.Where(i => i.Parties.Contains(_p + "b")).Select(i => i.Cursor), owned.Select(i => i.Cursor));
        Assert.NotEmpty(owned);
    }

    [Fact]
    public async Task A_cursor_survives_a_restart_and_the_stream_resumes_after_its_last_id()
    {
        await using var host = new HostProcess();
        await host.Start();
        var usd = _p + "USD";
        await host.Seed(usd, _p + "fed", (_p + "a", "1000"), (_p + "b", "1000"), (_p + "c", "1000"));
        var before = await Traffic(host, usd, 6);
        var first = await Until(host, before.Select(m => m.Id).ToList());
        var cursor = first[^1].Cursor;
        await host.Stop();
        await host.Start();
        var after = new List<(string Id, string, string, string)>();
        for (var i = 0; i < 5; i++)
        {
            await host.PostUntilKnown("/v1/transfers", new { id = $"r{i}", from = _p + "a", to = _p + "b", asset = usd, amount = "1" });
            after.Add(($"r{i}", "", "", ""));
        }
        var rest = await Until(host, after.Select(m => m.Id).ToList(), cursor);
        Assert.Equal(after.Select(m => m.Id), rest.Select(i => i.Id).Where(id => id.StartsWith('r')));
        Assert.DoesNotContain(rest, i => before.Any(b => b.Id == i.Id));

        // The stream: a transfer made after connecting arrives; a reconnect with its id as Last-Event-ID starts after it.
        var end = rest[^1].Cursor;
        var (id1, _) = await Streamed(host, end, async () => await host.PostUntilKnown("/v1/transfers", new { id = "s1", from = _p + "a", to = _p + "c", asset = usd, amount = "2" }), "s1");
        var (_, firstAfter) = await Streamed(host, id1, async () => await host.PostUntilKnown("/v1/transfers", new { id = "s2", from = _p + "b", to = _p + "c", asset = usd, amount = "2" }), "s2");
        Assert.Equal("s2", firstAfter);
    }

    /// <summary>Connects to the stream after <paramref name="lastEventId"/>, runs <paramref name="act"/>, and reads until <paramref name="wanted"/> arrives.</summary>
    private static async Task<(string Cursor, string FirstId)> Streamed(HostProcess host, string lastEventId, Func<Task> act, string wanted)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events/stream");
        request.Headers.Add("Last-Event-ID", lastEventId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await host.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        await act();
        string? id = null, first = null;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var item = Parse(JsonDocument.Parse(line[6..]).RootElement);
            first ??= item.Id;
            if (item.Id == wanted) return (id!, first);
        }
        throw new InvalidOperationException("the stream ended");
    }

}
