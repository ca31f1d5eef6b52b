using System.Text.Json;
using System.Text.Json.Nodes;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using static Ledger.Tests.Support.Problem;

namespace Ledger.Tests.Gateway;

/// <summary>
/// Payment channels end to end over HTTP on a real host, driven by the client helper (<see cref="ChannelParty"/>):
/// payments exchanged off the ledger, a cooperative close, a unilateral close answered in the window by a watchtower,
/// settlement paid once however often it is asked, and every bad input refused with its code and nothing changed.
/// </summary>
public class ChannelGatewayTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;



    private async Task<string> Posted(string account, string asset) =>
        (await _host.Balance(account, asset)) is { ValueKind: JsonValueKind.Object } b ? S(b, "posted") : "0";

    private (ChannelParty A, ChannelParty B) Parties(string channel, byte seed)
    {
        var (a, b) = (new ChannelParty(new(channel), new(_p + "alice"), new(_p + "bob"), Enumerable.Repeat(seed, 32).ToArray()),
            new ChannelParty(new(channel), new(_p + "bob"), new(_p + "alice"), Enumerable.Repeat((byte)(seed + 1), 32).ToArray()));
        (a.OtherKeyHex, b.OtherKeyHex) = (b.PublicKeyHex, a.PublicKeyHex);
        return (a, b);
    }

    private async Task Seed(string usd) =>
        await _host.Seed(usd, _p + "fed", (_p + "alice", "1000"), (_p + "bob", "1000"), (_p + "tower", "0"), (_p + "carol", "1000"));

    [Fact]
    public async Task Payments_off_the_ledger_settle_cooperatively_in_one_step()
    {
        var usd = _p + "USD";
        await Seed(usd);
        var ch = _p + "coop";
        var (a, b) = Parties(ch, 1);
        using var _a = a;
        using var _b = b;
        var open = a.OpenRequest(new(usd), b.PublicKeyHex, 60_000);
        Assert.Equal(201, (await _host.Post("/v1/channels", open)).Status);
        Assert.Equal(200, (await _host.Post("/v1/channels", open)).Status);
        var other = JsonNode.Parse(open.ToJsonString())!.AsObject();
        other["challenge_ms"] = 1;
        Assert.Equal((422, "channel_exists"), await Code(_host.Post("/v1/channels", other)));
        Assert.Equal(200, (await _host.Post($"/v1/channels/{ch}/deposit", a.DepositRequest("d1", new Amount(300)))).Status);
        Assert.Equal(200, (await _host.Post($"/v1/channels/{ch}/deposit", b.DepositRequest("d1", new Amount(200)))).Status);

        // Four hundred payments, none of them on the ledger: Alice nets 200 to Bob.
        for (var i = 0; i < 200; i++)
        {
            Assert.True(b.Accept(a.Pay(3)));
            Assert.True(a.Accept(b.Pay(2)));
        }
        var (balanceA, balanceB) = (new Amount(100), new Amount(400));
        var unequal = ChannelParty.CooperativeCloseRequest("c0", a.Self, balanceA, new Amount(1), a.SignClose(balanceA, new Amount(1)), b.SignClose(balanceA, new Amount(1)));
        Assert.Equal((422, "invalid_balances"), await Code(_host.Post($"/v1/channels/{ch}/close", unequal)));
        var forged = ChannelParty.CooperativeCloseRequest("c0b", a.Self, balanceA, balanceB, a.SignClose(balanceA, balanceB), a.SignClose(balanceA, balanceB));
        Assert.Equal((422, "invalid_signature"), await Code(_host.Post($"/v1/channels/{ch}/close", forged)));
        var close = ChannelParty.CooperativeCloseRequest("c1", a.Self, balanceA, balanceB, a.SignClose(balanceA, balanceB), b.SignClose(balanceA, balanceB));
        var closed = await _host.Post($"/v1/channels/{ch}/close", close);
        Assert.Equal((200, "settled", "100", "400"), (closed.Status, S(closed.Body, "state"), S(closed.Body, "settled_a"), S(closed.Body, "settled_b")));
        Assert.Equal(200, (await _host.Post($"/v1/channels/{ch}/close", close)).Status);
        Assert.Equal((422, "channel_closed"), await Code(_host.Post($"/v1/channels/{ch}/deposit", a.DepositRequest("d2", new Amount(1)))));
        Assert.Equal(("800", "1200"), (await Posted(_p + "alice", usd), await Posted(_p + "bob", usd)));
        await _host.AssertBalanced();
    }

    [Fact]
    public async Task A_unilateral_close_is_answered_in_the_window_by_a_watchtower_and_settled_once()
    {
        var usd = _p + "USD";
        await Seed(usd);
        var ch = _p + "uni";
        var (a, b) = Parties(ch, 3);
        using var _a = a;
        using var _b = b;
        var aliceKey = S((await _host.Post("/v1/keys", new { owner = _p + "alice" })).Body, "key");
        Assert.Equal(201, (await _host.PostAs(aliceKey, "/v1/channels", a.OpenRequest(new(usd), b.PublicKeyHex, 1_500))).Status);
        Assert.Equal(200, (await _host.PostAs(aliceKey, $"/v1/channels/{ch}/deposit", a.DepositRequest("d1", new Amount(100)))).Status);
        Assert.Equal((403, "forbidden"), await Code(_host.PostAs(aliceKey, $"/v1/channels/{ch}/deposit", b.DepositRequest("d1", new Amount(100)))));
        Assert.Equal(200, (await _host.Post($"/v1/channels/{ch}/deposit", b.DepositRequest("d1", new Amount(50)))).Status);
        Assert.Equal((422, "not_participant"), await Code(_host.Post($"/v1/channels/{ch}/deposit", new { id = "d1", account = _p + "carol", amount = "5" })));

        var stale = a.Pay(10);
        Assert.True(b.Accept(stale));
        Assert.True(b.Accept(a.Pay(60)));
        Assert.True(a.Accept(b.Pay(20)));
        // Alice closes with Bob's proof and keeps quiet about her own payments; Bob's watchtower answers with them.
        var closed = await _host.PostAs(aliceKey, $"/v1/channels/{ch}/close", a.CloseRequest("c1"));
        Assert.Equal((200, "closing"), (closed.Status, S(closed.Body, "state")));
        Assert.Equal((422, "channel_closed"), await Code(_host.Post($"/v1/channels/{ch}/close", b.CloseRequest("c1"))));
        Assert.Equal((422, "challenge_open"), await Code(_host.Post($"/v1/channels/{ch}/settle", new { id = "s0", account = _p + "tower" })));
        // Alice puts in a "newer" proof of her own that sends nothing: held for now, since nothing of hers is held yet.
        var own = new JsonObject { ["id"] = "u0", ["account"] = _p + "alice", ["proof"] = ChannelParty.Json(a.Sign(99, Amount.Zero)) };
        Assert.Equal(200, (await _host.PostAs(aliceKey, $"/v1/channels/{ch}/update", own)).Status);
        var bad = new JsonObject { ["id"] = "u0", ["account"] = _p + "tower", ["proof"] = ChannelParty.Json(b.Received! with { Transferred = new Amount(1) }) };
        Assert.Equal((422, "invalid_signature"), await Code(_host.Post($"/v1/channels/{ch}/update", bad)));
        var malformed = new JsonObject { ["id"] = "u0", ["account"] = _p + "tower", ["proof"] = ChannelParty.Json(b.Received! with { Signature = "xyz" }) };
        Assert.Equal((400, "invalid_request"), await Code(_host.Post($"/v1/channels/{ch}/update", malformed)));
        var tower = b.UpdateRequest("u1");
        tower["account"] = _p + "tower";
        var updated = await _host.Post($"/v1/channels/{ch}/update", tower);
        Assert.Equal((200, 2L), (updated.Status, updated.Body.GetProperty("proof_a").GetProperty("nonce").GetInt64()));
        Assert.Equal(200, (await _host.Post($"/v1/channels/{ch}/update", tower.DeepClone())).Status);
        var other = new JsonObject { ["id"] = "u1", ["account"] = _p + "tower", ["proof"] = ChannelParty.Json(stale) };
        Assert.Equal((409, "id_conflict"), await Code(_host.Post($"/v1/channels/{ch}/update", other)));
        var older = new JsonObject { ["id"] = "u2", ["account"] = _p + "bob", ["proof"] = ChannelParty.Json(stale) };
        Assert.Equal((422, "stale_proof"), await Code(_host.Post($"/v1/channels/{ch}/update", older)));
        // Her newest proof sends 70, so another of hers that sends less is stale whatever its nonce.
        var again = new JsonObject { ["id"] = "u3", ["account"] = _p + "alice", ["proof"] = ChannelParty.Json(a.Sign(100, new Amount(1))) };
        Assert.Equal((422, "stale_proof"), await Code(_host.PostAs(aliceKey, $"/v1/channels/{ch}/update", again)));

        var closesAt = DateTimeOffset.Parse(S(updated.Body, "closes_at"), System.Globalization.CultureInfo.InvariantCulture);
        while (DateTimeOffset.UtcNow <= closesAt.AddMilliseconds(20)) await Task.Delay(20);
        var settled = await _host.Post($"/v1/channels/{ch}/settle", new { id = "s1", account = _p + "tower" });
        // Alice: 100 + 20 − 70 = 50; Bob: 50 + 70 − 20 = 100.
        Assert.Equal((200, "settled", "50", "100"), (settled.Status, S(settled.Body, "state"), S(settled.Body, "settled_a"), S(settled.Body, "settled_b")));
        Assert.Equal(200, (await _host.Post($"/v1/channels/{ch}/settle", new { id = "s2", account = _p + "carol" })).Status);
        Assert.Equal(200, (await _host.Post($"/v1/channels/{ch}/settle", new { id = "s1", account = _p + "tower" })).Status);
        Assert.Equal(("950", "1050"), (await Posted(_p + "alice", usd), await Posted(_p + "bob", usd)));
        var view = (await _host.Get($"/v1/channels/{ch}")).Body;
        Assert.Equal(("100", "50", "settled"), (S(view, "deposit_a"), S(view, "deposit_b"), S(view, "state")));
        await _host.AssertBalanced();

        // The close, the updates and the settle are in the change feed at their callers, beside the deposits and payouts.
        bool Here(JsonElement t) => t.TryGetProperty("venue", out var v) && v.ValueKind == JsonValueKind.Object && S(v, "id") == ch;
        var feed = await _host.FeedUntil(items => items.Count(Here) >= 9);
        var calls = feed.Where(Here).Select(t => (S(t, "type"), S(t, "account"), S(t, "status"))).ToList();
        foreach (var expected in new[]
        {
            ("channel_deposit", _p + "alice", "committed"), ("channel_close", _p + "alice", "committed"), ("channel_update", _p + "tower", "committed"),
            ("channel_update", _p + "bob", "rejected"), ("channel_settle", _p + "tower", "committed"), ("channel_payout", _p + "bob", "committed"),
        })
            Assert.Contains(expected, calls);
    }

    [Fact]
    public async Task Bad_channel_input_is_refused_with_its_code()
    {
        var usd = _p + "USD";
        await Seed(usd);
        var (a, b) = Parties(_p + "bad", 5);
        using var _a = a;
        using var _b = b;
        JsonObject Open(string field, JsonNode? value)
        {
            var o = a.OpenRequest(new(usd), b.PublicKeyHex, 1_000);
            o[field] = value;
            return o;
        }
        Assert.Equal((400, "invalid_request"), await Code(_host.Post("/v1/channels", Open("a_key", "abc"))));
        Assert.Equal((400, "invalid_request"), await Code(_host.Post("/v1/channels", Open("b_key", new string('g', 64)))));
        Assert.Equal((400, "invalid_request"), await Code(_host.Post("/v1/channels", Open("challenge_ms", 0))));
        Assert.Equal((422, "same_account"), await Code(_host.Post("/v1/channels", Open("b", _p + "alice"))));
        Assert.Equal((422, "asset_not_found"), await Code(_host.Post("/v1/channels", Open("asset", _p + "none"))));
        Assert.Equal((422, "account_not_found"), await Code(_host.Post("/v1/channels", Open("b", _p + "nobody"))));
        Assert.Equal((400, "invalid_id"), await Code(_host.Post("/v1/channels", Open("id", "a b"))));
        Assert.Equal((404, "channel_not_found"), await Code(_host.Get($"/v1/channels/{_p}bad")));
        Assert.Equal((422, "channel_not_found"), await Code(_host.Post($"/v1/channels/{_p}bad/deposit", a.DepositRequest("d", new Amount(1)))));
        Assert.Equal(201, (await _host.Post("/v1/channels", Open("id", _p + "bad"))).Status);
        Assert.Equal((422, "zero_amount"), await Code(_host.Post($"/v1/channels/{_p}bad/deposit", a.DepositRequest("d", Amount.Zero))));
        Assert.Equal((422, "insufficient_funds"), await Code(_host.Post($"/v1/channels/{_p}bad/deposit", a.DepositRequest("d", new Amount(5_000)))));
        Assert.Equal((422, "channel_open"), await Code(_host.Post($"/v1/channels/{_p}bad/settle", new { id = "s", account = _p + "alice" })));
        Assert.Equal((422, "not_participant"), await Code(_host.Post($"/v1/channels/{_p}bad/close", new { id = "c", account = _p + "carol" })));
        Assert.Equal((400, "invalid_request"), await Code(_host.Post($"/v1/channels/{_p}bad/close",
            ChannelParty.CooperativeCloseRequest("c", a.Self, Amount.Zero, Amount.Zero, "00", "00"))));
        var view = (await _host.Get($"/v1/channels/{_p}bad")).Body;
        Assert.Equal(("0", "0", "open"), (S(view, "deposit_a"), S(view, "deposit_b"), S(view, "state")));
        Assert.Equal("1000", await Posted(_p + "alice", usd));
    }
}
