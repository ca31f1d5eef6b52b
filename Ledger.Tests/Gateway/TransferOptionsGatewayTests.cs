using System.Text.Json;
using Ledger.Tests.Support;
using static Ledger.Tests.Support.Problem;

namespace Ledger.Tests.Gateway;

/// <summary>Balancing transfers, user data and closing accounts over HTTP on a real host, in batches too, with their codes.</summary>
public class TransferOptionsGatewayTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    private static string Moved(JsonElement transaction) => S(transaction.GetProperty("legs")[0], "amount");

    [Fact]
    public async Task Balancing_transfers_move_what_is_available_alone_and_in_batches()
    {
        var usd = _p + "USD";
        await _host.Seed(usd, _p + "fed", (_p + "alice", "100"), (_p + "bob", "0"));
        var (a, b) = (_p + "alice", _p + "bob");
        var moved = await _host.Post("/v1/transfers", new { id = "b1", from = a, to = b, asset = usd, amount = "150", balancing = true });
        Assert.Equal((200, "committed", "100"), (moved.Status, S(moved.Body, "status"), Moved(moved.Body)));
        Assert.Equal((422, "zero_amount"), await Code(_host.Post("/v1/transfers", new { id = "b2", from = a, to = b, asset = usd, amount = "1", balancing = true })));
        Assert.Equal((400, "invalid_request"), await Code(_host.Post("/v1/transfers", new { id = "b3", from = b, to = a, asset = usd, amount = "1", balancing = true, pending = true })));
        // In a batch each moves what is available at its turn: 60 of 100, then the 40 left, then nothing.
        var batch = await _host.Post("/v1/batches", new
        {
            operations = new object[]
            {
                new { type = "transfer", id = "bb1", from = b, to = a, asset = usd, amount = "60", balancing = true },
                new { type = "transfer", id = "bb2", from = b, to = a, asset = usd, amount = "60", balancing = true },
                new { type = "transfer", id = "bb3", from = b, to = a, asset = usd, amount = "60", balancing = true },
            },
        });
        var results = batch.Body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["committed", "committed", "rejected"], results.Select(r => S(r, "status")));
        Assert.Equal("40", Moved((await _host.Get($"/v1/accounts/{b}/transactions/bb2")).Body));
        Assert.Equal(("100", "0"), (S(await _host.Balance(a, usd), "posted"), S(await _host.Balance(b, usd), "posted")));
    }

    [Fact]
    public async Task In_an_atomic_batch_a_balancing_transfer_moves_what_is_available_at_its_turn()
    {
        var usd = _p + "USD";
        var (a, b, c, d) = (_p + "a", _p + "b", _p + "c", _p + "d");
        await _host.Seed(usd, _p + "fed", (a, "100"), (b, "30"), (c, "0"), (d, "0"));
        static object Transfer(string id, string from, string to, string asset, string amount, bool balancing = false) =>
            new { type = "transfer", id, from, to, asset, amount, balancing };
        // a pays 10, then what it has left (90) to b; b pays on what that brings it (90 + its 30), c spends what b's brought.
        var batch = await _host.Post("/v1/batches", new
        {
            atomic = true,
            operations = new[]
            {
                Transfer("ab0", a, d, usd, "10"), Transfer("ab1", a, b, usd, "150", true), Transfer("ab2", b, c, usd, "1000", true), Transfer("ab3", c, d, usd, "50"),
            },
        });
        Assert.Equal(["committed", "committed", "committed", "committed"], batch.Body.GetProperty("results").EnumerateArray().Select(r => S(r, "status")));
        async Task<string> MovedBy(string account, string id) => Moved((await _host.Get($"/v1/accounts/{account}/transactions/{id}")).Body);
        Assert.Equal(("10", "90", "120"), (await MovedBy(a, "ab0"), await MovedBy(a, "ab1"), await MovedBy(b, "ab2")));
        Assert.Contains((await _host.Get($"/v1/accounts/{c}/transactions")).Body.GetProperty("items").EnumerateArray(),
            t => S(t, "id") == "ab2" && Moved(t) == "120");
        async Task<string[]> Posted() => [.. await Task.WhenAll(new[] { a, b, c, d }.Select(async x => S(await _host.Balance(x, usd), "posted")))];
        Assert.Equal(["0", "0", "70", "60"], await Posted());

        // Nothing available at its turn: zero_amount, and the whole batch changes nothing.
        var refused = await _host.Post("/v1/batches", new
        {
            atomic = true,
            operations = new[] { Transfer("ab4", d, c, usd, "10"), Transfer("ab5", b, a, usd, "5", true) },
        });
        Assert.Equal(["linked_operation_failed", "zero_amount"], refused.Body.GetProperty("results").EnumerateArray().Select(r => S(r, "code")));
        Assert.Equal(["0", "0", "70", "60"], await Posted());

        // Balancing transfers paying around a cycle would each wait for the other's amount: refused before anything runs.
        Assert.Equal((400, "invalid_request"), await Code(_host.Post("/v1/batches", new
        {
            atomic = true,
            operations = new[] { Transfer("ab6", c, d, usd, "10", true), Transfer("ab7", d, c, usd, "10", true) },
        })));
        Assert.Equal(["0", "0", "70", "60"], await Posted());
        await _host.AssertBalanced();
    }

    [Fact]
    public async Task User_data_is_stored_and_returned_with_the_transaction_on_both_sides()
    {
        var usd = _p + "USD";
        await _host.Seed(usd, _p + "fed", (_p + "alice", "100"), (_p + "bob", "0"));
        var (a, b) = (_p + "alice", _p + "bob");
        var sent = await _host.Post("/v1/transfers", new { id = "u1", from = a, to = b, asset = usd, amount = "5", user_data = "order 7 / invoice 42" });
        Assert.Equal((200, "order 7 / invoice 42"), (sent.Status, S(sent.Body, "user_data")));
        Assert.Equal("order 7 / invoice 42", S((await _host.Get($"/v1/accounts/{a}/transactions/u1")).Body, "user_data"));
        var history = (await _host.Get($"/v1/accounts/{b}/transactions")).Body.GetProperty("items").EnumerateArray();
        Assert.Contains(history, t => S(t, "id") == "u1" && S(t, "user_data") == "order 7 / invoice 42");
        Assert.Equal((409, "id_conflict"), await Code(_host.Post("/v1/transfers", new { id = "u1", from = a, to = b, asset = usd, amount = "5", user_data = "other" })));
        Assert.Equal((400, "invalid_request"), await Code(_host.Post("/v1/transfers", new { id = "u2", from = a, to = b, asset = usd, amount = "5", user_data = new string('x', 129) })));
        // Empty user data is none: the same transfer as without it, so its retry is answered, not refused as another body.
        var empty = await _host.Post("/v1/transfers", new { id = "u4", from = a, to = b, asset = usd, amount = "2", user_data = "" });
        Assert.Equal((200, false), (empty.Status, empty.Body.TryGetProperty("user_data", out _)));
        Assert.Equal(200, (await _host.Post("/v1/transfers", new { id = "u4", from = a, to = b, asset = usd, amount = "2" })).Status);
        await _host.PostUntilKnown("/v1/batches", new
        {
            atomic = true,
            operations = new object[] { new { type = "transfer", id = "u3", from = a, to = b, asset = usd, amount = "1", user_data = "atomic" } },
        });
        Assert.Equal("atomic", S((await _host.Get($"/v1/accounts/{a}/transactions/u3")).Body, "user_data"));
    }

    [Fact]
    public async Task An_account_closes_when_empty_and_then_refuses_value_but_stays_readable()
    {
        var usd = _p + "USD";
        await _host.Seed(usd, _p + "fed", (_p + "alice", "100"), (_p + "bob", "0"));
        var (a, b) = (_p + "alice", _p + "bob");
        Assert.Equal((422, "account_not_empty"), await Code(_host.Post($"/v1/accounts/{a}/close", new { id = "c1" })));
        await _host.PostUntilKnown("/v1/transfers", new { id = "empty", from = a, to = b, asset = usd, amount = "1000", balancing = true });
        var closed = await _host.Post($"/v1/accounts/{a}/close", new { id = "c2" });
        Assert.Equal((200, true), (closed.Status, closed.Body.GetProperty("closed").GetBoolean()));
        Assert.Equal(200, (await _host.Post($"/v1/accounts/{a}/close", new { id = "c2" })).Status);
        Assert.Equal((422, "account_closed"), await Code(_host.Post("/v1/transfers", new { id = "out", from = a, to = b, asset = usd, amount = "1" })));
        Assert.Equal((422, "account_closed"), await Code(_host.Post("/v1/transfers", new { id = "in", from = b, to = a, asset = usd, amount = "1" })));
        var atomic = await _host.Post("/v1/batches", new
        {
            atomic = true,
            operations = new object[] { new { type = "transfer", id = "in2", from = b, to = a, asset = usd, amount = "1" } },
        });
        Assert.Equal("account_closed", S(atomic.Body.GetProperty("results")[0], "code"));
        var view = await _host.Get($"/v1/accounts/{a}");
        Assert.Equal((200, true), (view.Status, view.Body.GetProperty("closed").GetBoolean()));
        Assert.Equal("100", S(await _host.Balance(b, usd), "posted"));
        Assert.Equal((422, "account_not_found"), await Code(_host.Post($"/v1/accounts/{_p}nobody/close", new { id = "c3" })));
        await _host.AssertBalanced();
    }

    [Fact]
    public async Task An_account_with_a_position_in_a_venue_is_not_empty()
    {
        var usd = _p + "USD";
        var (a, b, farm) = (_p + "alice", _p + "bob", _p + "farm");
        await _host.Seed(usd, _p + "fed", (a, "100"), (b, "0"));
        await _host.PostUntilKnown("/v1/farms", new { id = farm, stake_asset = usd, reward_asset = usd, duration_s = 3600 });
        await _host.PostUntilKnown($"/v1/farms/{farm}/stake", new { id = "s1", account = a, amount = "100" });
        // Her balance is zero, but the farm holds her stake.
        Assert.Equal("0", S(await _host.Balance(a, usd), "posted"));
        Assert.Equal((422, "account_not_empty"), await Code(_host.Post($"/v1/accounts/{a}/close", new { id = "c1" })));
        await _host.PostUntilKnown($"/v1/farms/{farm}/unstake", new { id = "w1", account = a, amount = "100" });
        await _host.PostUntilKnown("/v1/transfers", new { id = "out", from = a, to = b, asset = usd, amount = "100" });
        var closed = await _host.Post($"/v1/accounts/{a}/close", new { id = "c2" });
        Assert.Equal((200, true), (closed.Status, closed.Body.GetProperty("closed").GetBoolean()));
        Assert.Equal((422, "account_closed"), await Code(_host.Post($"/v1/farms/{farm}/stake", new { id = "s2", account = a, amount = "1" })));
        await _host.AssertBalanced();
    }
}
