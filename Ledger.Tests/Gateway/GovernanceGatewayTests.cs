using System.Text.Json;
using Ledger.Tests.Support;
using static Ledger.Tests.Support.Problem;

namespace Ledger.Tests.Gateway;

/// <summary>
/// A DAO end to end over HTTP on a real host: a treasury funded and closed to everyone but its governor, a grant
/// proposed, votes weighted by the balances at the snapshot (a voter who sold after it keeps its weight, one who bought
/// after it has none), every step refused out of its order, the timelock, and an execution that pays once however
/// often it is asked.
/// </summary>
public class GovernanceGatewayTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    private async Task<JsonElement> Proposal(string g, string p)
    {
        var r = await _host.Get($"/v1/governors/{g}/proposals/{p}");
        Assert.Equal(200, r.Status);
        return r.Body;
    }

    /// <summary>Waits until the proposal reaches <paramref name="state"/> (its times are the host's clock; a bounded wait).</summary>
    private async Task<JsonElement> Until(string g, string p, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var view = await Proposal(g, p);
            if (S(view, "state") == state) return view;
            Assert.True(DateTime.UtcNow < deadline, $"proposal {p} is still {S(view, "state")}, not {state}");
            await Task.Delay(50);
        }
    }

    private async Task<string?> Posted(string account, string asset)
    {
        var r = await _host.Get($"/v1/accounts/{account}");
        return r.Body.GetProperty("balances").TryGetProperty(asset, out var b) ? S(b, "posted") : null;
    }

    [Fact]
    public async Task A_grant_is_proposed_voted_by_snapshot_balances_queued_and_executed_once()
    {
        var (gov, usd) = (_p + "GOV", _p + "USD");
        await _host.PostUntilKnown("/v1/assets", new { id = gov, decimals = 0, issuer = _p + "mint" });
        await _host.PostUntilKnown("/v1/assets", new { id = usd, decimals = 2, issuer = _p + "fed" });
        foreach (var a in new[] { "alice", "bob", "carol", "grantee" }) await _host.PostUntilKnown("/v1/accounts", new { id = _p + a, owner = _p + a });
        await _host.PostUntilKnown("/v1/transfers", new { id = "m-alice", from = _p + "mint", to = _p + "alice", asset = gov, amount = "60" });
        await _host.PostUntilKnown("/v1/transfers", new { id = "m-bob", from = _p + "mint", to = _p + "bob", asset = gov, amount = "30" });

        var g = _p + "dao";
        var treasury = "gov." + g;
        var definition = new
        {
            id = g,
            token = gov,
            voting_delay_ms = 400,
            voting_period_ms = 1_500,
            proposal_threshold = "50",
            quorum_bps = 1_000,
            timelock_ms = 400,
            grace_ms = 60_000,
        };
        Assert.Equal((422, "asset_not_found"), await Code(_host.Post("/v1/governors", definition with { token = _p + "none" })));
        Assert.Equal((400, "invalid_request"), await Code(_host.Post("/v1/governors", definition with { quorum_bps = 10_001 })));
        var created = await _host.Post("/v1/governors", definition);
        Assert.Equal((201, treasury), (created.Status, S(created.Body, "treasury")));

        // Anyone may fund the treasury; no one spends from it, not even the admin; its prefix is reserved.
        Assert.Equal(200, (await _host.Post("/v1/transfers", new { id = "fund", from = _p + "fed", to = treasury, asset = usd, amount = "100000" })).Status);
        Assert.Equal((403, "forbidden"), await Code(_host.Post("/v1/transfers", new { id = "steal", from = treasury, to = _p + "alice", asset = usd, amount = "1" })));
        Assert.Equal((400, "invalid_id"), await Code(_host.Post("/v1/accounts", new { id = "gov.x" + _p, owner = "mallory" })));

        object Grant(string id, string from, string amount = "25000", bool balancing = false) =>
            new { type = "transfer", id, from, to = _p + "grantee", asset = usd, amount, balancing };
        Assert.Equal((400, "invalid_request"), await Code(_host.Post($"/v1/governors/{g}/proposals", new { id = "p0", proposer = _p + "alice", operations = Array.Empty<object>() })));
        Assert.Equal((400, "invalid_request"), await Code(_host.Post($"/v1/governors/{g}/proposals", new { id = "p0", proposer = _p + "alice", operations = new[] { Grant("g", _p + "alice") } })));
        Assert.Equal((400, "invalid_request"), await Code(_host.Post($"/v1/governors/{g}/proposals",
            new { id = "p0", proposer = _p + "alice", operations = Enumerable.Range(0, 11).Select(i => Grant("g" + i, treasury)).ToArray() })));
        Assert.Equal((422, "below_threshold"), await Code(_host.Post($"/v1/governors/{g}/proposals", new { id = "p0", proposer = _p + "bob", operations = new[] { Grant("g", treasury) } })));

        // A grant of 25,000 and a balancing one of what is left (of at most 90,000): it moves the 75,000 left at its turn.
        var proposed = await _host.Post($"/v1/governors/{g}/proposals", new
        {
            id = "p1",
            proposer = _p + "alice",
            description = "a grant",
            operations = new[] { Grant("g1", treasury), Grant("g1b", treasury, "90000", balancing: true) },
        });
        Assert.Equal((201, "pending"), (proposed.Status, S(proposed.Body, "state")));
        Assert.Equal((422, "proposal_not_active"), await Code(_host.Post($"/v1/governors/{g}/proposals/p1/votes", new { id = "v0", voter = _p + "bob", support = "for" })));
        // A second proposal, canceled by its proposer while pending (not by anyone else).
        await _host.Post($"/v1/governors/{g}/proposals", new { id = "p2", proposer = _p + "alice", operations = new[] { Grant("g2", treasury) } });
        Assert.Equal((422, "proposal_not_succeeded"), await Code(_host.Post($"/v1/governors/{g}/proposals/p1/queue", new { id = "q0", account = _p + "carol" })));
        Assert.Equal((403, "forbidden"), await Code(_host.Post($"/v1/governors/{g}/proposals/p2/cancel", new { id = "c0", account = _p + "bob" })));
        var canceled = await _host.Post($"/v1/governors/{g}/proposals/p2/cancel", new { id = "c1", account = _p + "alice" });
        Assert.Equal((200, "canceled"), (canceled.Status, S(canceled.Body, "state")));

        await Until(g, "p1", "active");
        // After the snapshot alice sells 50 to carol: alice keeps her 60 votes, carol has none.
        Assert.Equal(200, (await _host.Post("/v1/transfers", new { id = "sell", from = _p + "alice", to = _p + "carol", asset = gov, amount = "50" })).Status);
        Assert.Equal((400, "invalid_request"), await Code(_host.Post($"/v1/governors/{g}/proposals/p1/votes", new { id = "v1", voter = _p + "alice", support = "maybe" })));
        Assert.Equal(200, (await _host.Post($"/v1/governors/{g}/proposals/p1/votes", new { id = "v1", voter = _p + "alice", support = "for" })).Status);
        Assert.Equal((422, "already_voted"), await Code(_host.Post($"/v1/governors/{g}/proposals/p1/votes", new { id = "v2", voter = _p + "alice", support = "against" })));
        // Her first vote's id with another body is another request: id_conflict; with the same body, the same answer.
        Assert.Equal((409, "id_conflict"), await Code(_host.Post($"/v1/governors/{g}/proposals/p1/votes", new { id = "v1", voter = _p + "alice", support = "abstain" })));
        Assert.Equal(200, (await _host.Post($"/v1/governors/{g}/proposals/p1/votes", new { id = "v1", voter = _p + "alice", support = "for" })).Status);
        Assert.Equal(200, (await _host.Post($"/v1/governors/{g}/proposals/p1/votes", new { id = "v1", voter = _p + "bob", support = "against" })).Status);
        var voted = await _host.Post($"/v1/governors/{g}/proposals/p1/votes", new { id = "v1", voter = _p + "carol", support = "for" });
        Assert.Equal(("60", "30", "0", "9"), (S(voted.Body, "for"), S(voted.Body, "against"), S(voted.Body, "abstain"), S(voted.Body, "quorum")));
        Assert.Equal((422, "proposal_not_succeeded"), await Code(_host.Post($"/v1/governors/{g}/proposals/p1/queue", new { id = "q1", account = _p + "carol" })));
        Assert.Equal((422, "proposal_not_succeeded"), await Code(_host.Post($"/v1/governors/{g}/proposals/p1/execute", new { id = "x0", account = _p + "carol" })));

        await Until(g, "p1", "succeeded");
        var queued = await _host.Post($"/v1/governors/{g}/proposals/p1/queue", new { id = "q2", account = _p + "carol" });
        Assert.Equal((200, "queued"), (queued.Status, S(queued.Body, "state")));
        var eta = DateTimeOffset.Parse(S(queued.Body, "eta"), System.Globalization.CultureInfo.InvariantCulture);
        if (DateTimeOffset.UtcNow < eta.AddMilliseconds(-50))
            Assert.Equal((422, "timelock"), await Code(_host.Post($"/v1/governors/{g}/proposals/p1/execute", new { id = "x1", account = _p + "carol" })));
        while (DateTimeOffset.UtcNow <= eta.AddMilliseconds(20)) await Task.Delay(20);
        var executed = await _host.Post($"/v1/governors/{g}/proposals/p1/execute", new { id = "x2", account = _p + "carol" });
        Assert.Equal((200, "executed"), (executed.Status, S(executed.Body, "state")));
        Assert.Equal([("g1", "committed"), ("g1b", "committed")], executed.Body.GetProperty("results").EnumerateArray().Select(r => (S(r, "id"), S(r, "status"))));
        var again = await _host.Post($"/v1/governors/{g}/proposals/p1/execute", new { id = "x3", account = _p + "bob" });
        Assert.Equal((200, "executed"), (again.Status, S(again.Body, "state")));
        Assert.Equal(("100000", "0"), (await Posted(_p + "grantee", usd), await Posted(treasury, usd)));
        Assert.Equal("executed", S(await Proposal(g, "p1"), "state"));

        // The governor's calls are in the change feed, each at its caller, with the governor as its venue; the grants as the
        // treasury's transfers, under the ids the execution gives them (proposal:attempt:operation).
        bool Governed(JsonElement t) => t.TryGetProperty("venue", out var v) && v.ValueKind == JsonValueKind.Object && S(v, "kind") == "governor" && S(v, "id") == g;
        var feed = await _host.FeedUntil(items => items.Count(Governed) >= 8 && items.Any(t => S(t, "id") == "p1:1:1"));
        var calls = feed.Where(Governed).Select(t => (S(t, "type"), S(t, "id"), S(t, "account"), S(t, "status"))).ToList();
        foreach (var expected in new[]
        {
            ("propose", "p1", _p + "alice", "committed"), ("propose", "p0", _p + "bob", "rejected"), ("cancel", "c1", _p + "alice", "committed"),
            ("vote", "v1", _p + "alice", "committed"), ("vote", "v2", _p + "alice", "rejected"), ("vote", "v1", _p + "carol", "committed"),
            ("queue", "q2", _p + "carol", "committed"), ("execute", "x2", _p + "carol", "committed"),
        })
            Assert.Contains(expected, calls);
        var moved = feed.Single(t => S(t, "id") == "p1:1:1" && S(t, "account") == treasury);
        Assert.Equal(("committed", "75000"), (S(moved, "status"), S(moved.GetProperty("legs")[0], "amount")));
    }

}
