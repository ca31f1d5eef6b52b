using System.Collections.Concurrent;
using System.Text.Json;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Primitives;
using Ledger.Host.Bench;
using Ledger.Tests.Support;

namespace Ledger.Tests.MultiNode;

/// <summary>
/// Three real <c>Ledger.Host</c> processes on one throwaway PostgreSQL, with clients transferring through every
/// gateway and asking again, with the same id and through the next gateway, whenever they did not hear an outcome.
/// A node killed with SIGKILL, and a rolling restart of all three: afterwards every acknowledged transfer is recorded
/// once, balances equal a replay of the acknowledged transfers, the audit sums to zero, the nodes are back, and no
/// client ever saw an answer other than an outcome or "retry" (503, or a gateway not answering).
/// </summary>
[Collection(MultiProcess.Name)]
public sealed class NodeLossTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Accounts = 48;
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(10);
    private const ulong Funding = 1_000_000;
    private const string P = "nl-";

    [Fact]
    public async Task A_node_killed_under_load_loses_and_doubles_nothing_and_rejoins()
    {
        await using var cluster = await Cluster.Start();
        var load = cluster.Load(clients: 2);
        await load.Run(TimeSpan.FromSeconds(4), acknowledged: 25);
        var killedAt = load.Elapsed;
        cluster.Nodes[2].Kill();
        await load.Run(TimeSpan.FromSeconds(8), acknowledged: 51);
        await load.Stop();

        await cluster.Verify(load);
        // For the record (not asserted): how long after the kill some request had to be asked again.
        output.WriteLine($"acknowledged {load.Acknowledged.Count}, asked again {load.Retried.Count} times, " +
            $"between {(load.Retried.IsEmpty ? 0 : load.Retried.Min() - killedAt):F1} s and {(load.Retried.IsEmpty ? 0 : load.Retried.Max() - killedAt):F1} s after the kill");
        await cluster.Restart(2);
    }

    [Fact]
    public async Task A_rolling_restart_of_every_node_under_load_shows_a_retrying_client_no_error()
    {
        await using var cluster = await Cluster.Start();
        var load = cluster.Load(clients: 3);
        for (var i = 0; i < 3; i++)
        {
            await load.Run(TimeSpan.FromSeconds(2), acknowledged: 10 * (i + 1));
            await cluster.Nodes[i].Stop();
            Assert.Equal(0, cluster.Nodes[i].ExitCode);
            await cluster.Restart(i);
        }
        await load.Run(TimeSpan.FromSeconds(2), acknowledged: 51);
        await load.Stop();
        await cluster.Verify(load);
    }

    /// <summary>
    /// One node kill for every venue (a put, a perpetual, a grant and a channel, each on accounts of its own), so that
    /// the three-node cluster is started and a node lost once rather than once a venue; their waits (expiry, voting,
    /// timelock, challenge window) also run side by side.
    /// </summary>
    [Fact]
    public async Task Venues_begun_through_one_gateway_are_settled_once_through_the_others_after_a_node_is_killed()
    {
        await using var cluster = await Cluster.Start();
        await cluster.Nodes[0].Seed(P + "ETH", P + "eth-bank", (P + "a0", "0"));
        var perp = await OpenPerpetual(cluster);
        var governor = await ProposeGrant(cluster);
        var channel = await CloseChannel(cluster);
        // Last, so that the others' set-up does not eat into the 6 s before its expiry, in which its puts are written and given.
        var put = await WritePut(cluster);
        cluster.Nodes[2].Kill();

        await put();
        await perp();
        await governor();
        await channel();
        // The change feed through a survivor, in pages: both payouts and the grant's transfer are in it.
        var (ids, after) = (new List<string>(), (string?)null);
        while (true)
        {
            var page = (await Until503Ends(() => cluster.Nodes[1].Get("/v1/events?limit=1000" + (after is null ? "" : "&after=" + after)))).Body;
            var items = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("transaction").GetProperty("id").GetString()!).ToList();
            ids.AddRange(items);
            after = page.GetProperty("next").GetString();
            if (items.Count < 1000) break;
        }
        Assert.Equal(2, ids.Count(id => id == "payout~" + P + "ch"));
        Assert.Contains("p1:1:0", ids);
        var audit = (await Until503Ends(() => cluster.Nodes[0].Get("/v1/audit/supply"))).Body.GetProperty("assets");
        foreach (var asset in new[] { P + "USD", P + "VOTE", "opt." + P + "put" })
            Assert.Equal(("0", "0"), (audit.GetProperty(asset).GetProperty("sum").GetString(), audit.GetProperty(asset).GetProperty("in_flight").GetString()));
    }

    private static string Funded(long delta) => ((long)Funding + delta).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>a0 writes 10.00 ETH of puts at 2 (20.00 USD locked) through node 1 and gives a1 6.00 of them through node 2; after the kill they are priced, redeemed and settled through the survivors.</summary>
    private static async Task<Func<Task>> WritePut(Cluster cluster)
    {
        var series = P + "put";
        var expiry = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 6_000;
        Assert.Equal(201, (await cluster.Nodes[0].PostUntilKnown("/v1/options",
            new { id = series, underlying = P + "ETH", strike_asset = P + "USD", kind = "put", strike = "2", expiry, dispute_ms = 1_000L })).Status);
        Assert.Equal(200, (await cluster.Nodes[1].PostUntilKnown($"/v1/options/{series}/mint", new { id = "w1", account = P + "a0", amount = "1000" })).Status);
        Assert.Equal(200, (await cluster.Nodes[2].PostUntilKnown("/v1/transfers", new { id = "give", from = P + "a0", to = P + "a1", asset = "opt." + series, amount = "600" })).Status);
        return async () =>
        {
            while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < expiry) await Task.Delay(100);
            Assert.Equal(200, (await Until503Ends(() => cluster.Nodes[0].Put($"/v1/options/{series}/expiry_price", new { price = "1.5" }))).Status);
            while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < expiry + 1_000) await Task.Delay(100);
            // (2 − 1.5) USD a put: a1's 600 pay 300; a0 redeems its 400 for 200 and settles for 2,000 − 500.
            Assert.Equal(200, (await cluster.Nodes[1].PostUntilKnown($"/v1/options/{series}/redeem", new { id = "r1", account = P + "a1", amount = "600" })).Status);
            Assert.Equal(200, (await cluster.Nodes[0].PostUntilKnown($"/v1/options/{series}/redeem", new { id = "r2", account = P + "a0", amount = "400" })).Status);
            Assert.Equal(200, (await cluster.Nodes[0].PostUntilKnown($"/v1/options/{series}/settle", new { id = "s1", account = P + "a0" })).Status);
            Assert.Equal(Funded(300), (await cluster.Nodes[1].Balance(P + "a1", P + "USD")).GetProperty("posted").GetString());
            Assert.Equal(Funded(-2_000 + 200 + 1_500), (await cluster.Nodes[0].Balance(P + "a0", P + "USD")).GetProperty("posted").GetString());
        };
    }

    /// <summary>a10 funds the vault through node 1; a11 goes long 10.00 ETH (200.00 USD) on 30.00 USD of margin through node 2; after the kill a12 liquidates it through another.</summary>
    private static async Task<Func<Task>> OpenPerpetual(Cluster cluster)
    {
        var perp = P + "perp";
        Assert.Equal(200, (await Until503Ends(() => cluster.Nodes[0].Put($"/v1/oracle/prices/{P}ETH", new { price = "20" }))).Status);
        Assert.Equal(200, (await Until503Ends(() => cluster.Nodes[0].Put($"/v1/oracle/prices/{P}USD", new { price = "1" }))).Status);
        Assert.Equal(201, (await cluster.Nodes[0].PostUntilKnown("/v1/perps", new
        {
            id = perp,
            underlying = P + "ETH",
            margin_asset = P + "USD",
            skew_scale = "1000000",
            max_funding_velocity = "0.1",
            initial_margin_ratio = "0.1",
            maintenance_margin_ratio = "0.05",
            liquidation_reward_ratio = "0.01",
            taker_fee_bps = 0,
        })).Status);
        Assert.Equal(200, (await cluster.Nodes[1].PostUntilKnown($"/v1/perps/{perp}/vault/deposit", new { id = "v1", account = P + "a10", amount = "100000" })).Status);
        Assert.Equal(200, (await cluster.Nodes[2].PostUntilKnown($"/v1/perps/{perp}/margin/deposit", new { id = "m1", account = P + "a11", amount = "3000" })).Status);
        Assert.Equal(200, (await cluster.Nodes[2].PostUntilKnown($"/v1/perps/{perp}/orders", new { id = "o1", account = P + "a11", size_delta = "1000" })).Status);
        return async () =>
        {
            // ETH at 18: equity 30 − 20 = 10 ≥ 10 · 18 · 5 % = 9, healthy. At 17.5: 5 < 8.75, liquidatable; the keeper
            // a12 gets 1 % of 175 = 1.75 USD, a11 keeps the rest of its equity.
            Assert.Equal(200, (await Until503Ends(() => cluster.Nodes[0].Put($"/v1/oracle/prices/{P}ETH", new { price = "18" }))).Status);
            var healthy = await Until503Ends(() => cluster.Nodes[1].Post($"/v1/perps/{perp}/liquidate", new { id = "l0", liquidator = P + "a12", account = P + "a11" }));
            Assert.Equal((422, "healthy_position"), (healthy.Status, healthy.Body.GetProperty("code").GetString()));
            Assert.Equal(200, (await Until503Ends(() => cluster.Nodes[0].Put($"/v1/oracle/prices/{P}ETH", new { price = "17.5" }))).Status);
            Assert.Equal(200, (await cluster.Nodes[1].PostUntilKnown($"/v1/perps/{perp}/liquidate", new { id = "l1", liquidator = P + "a12", account = P + "a11" })).Status);
            Assert.Equal(Funded(175), (await cluster.Nodes[0].Balance(P + "a12", P + "USD")).GetProperty("posted").GetString());
            var position = (await Until503Ends(() => cluster.Nodes[0].Get($"/v1/perps/{perp}/positions/{P}a11"))).Body;
            // 3.25 less the funding the long paid over the seconds the node took to move (a long skew of 10 ETH on a
            // scale of 10,000: cents at most), rounded against the trader.
            Assert.Equal("0", position.GetProperty("size").GetString());
            Assert.InRange(long.Parse(position.GetProperty("margin").GetString()!, System.Globalization.CultureInfo.InvariantCulture), 320, 325);
        };
    }

    /// <summary>A grant to a25 proposed through node 1 and voted by a20 and a21 through node 2; after the kill it is queued and executed through the other two, paid once.</summary>
    private static async Task<Func<Task>> ProposeGrant(Cluster cluster)
    {
        var (dao, token) = (P + "dao", P + "VOTE");
        var treasury = "gov." + dao;
        await cluster.Nodes[0].Seed(token, P + "vote-mint", (P + "a20", "100"), (P + "a21", "50"));
        Assert.Equal(201, (await cluster.Nodes[0].PostUntilKnown("/v1/governors", new
        {
            id = dao,
            token,
            voting_delay_ms = 1_000,
            voting_period_ms = 4_000,
            proposal_threshold = "1",
            quorum_bps = 400,
            timelock_ms = 1_000,
            grace_ms = 60_000,
        })).Status);
        Assert.Equal(200, (await cluster.Nodes[0].PostUntilKnown("/v1/transfers", new { id = "fund-dao", from = P + "a23", to = treasury, asset = P + "USD", amount = "10000" })).Status);
        Assert.Equal(201, (await cluster.Nodes[1].PostUntilKnown($"/v1/governors/{dao}/proposals", new
        {
            id = "p1",
            proposer = P + "a20",
            operations = new[] { new { type = "transfer", id = "g1", from = treasury, to = P + "a25", asset = P + "USD", amount = "2500" } },
        })).Status);
        async Task Until(string state)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await Until503Ends(() => cluster.Nodes[0].Get($"/v1/governors/{dao}/proposals/p1"))).Body.GetProperty("state").GetString() != state)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the proposal never became {state}");
                await Task.Delay(100);
            }
        }
        await Until("active");
        Assert.Equal(200, (await cluster.Nodes[2].PostUntilKnown($"/v1/governors/{dao}/proposals/p1/votes", new { id = "v1", voter = P + "a20", support = "for" })).Status);
        Assert.Equal(200, (await cluster.Nodes[2].PostUntilKnown($"/v1/governors/{dao}/proposals/p1/votes", new { id = "v1", voter = P + "a21", support = "against" })).Status);
        return async () =>
        {
            await Until("succeeded");
            var queued = await cluster.Nodes[1].PostUntilKnown($"/v1/governors/{dao}/proposals/p1/queue", new { id = "q1", account = P + "a22" });
            Assert.Equal(("100", "50", "6"), (queued.Body.GetProperty("for").GetString(), queued.Body.GetProperty("against").GetString(), queued.Body.GetProperty("quorum").GetString()));
            var eta = DateTimeOffset.Parse(queued.Body.GetProperty("eta").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            while (DateTimeOffset.UtcNow <= eta.AddMilliseconds(50)) await Task.Delay(50);
            foreach (var (node, id) in new[] { (0, "x1"), (1, "x2") })
                Assert.Equal("executed", (await cluster.Nodes[node].PostUntilKnown($"/v1/governors/{dao}/proposals/p1/execute", new { id, account = P + "a22" })).Body.GetProperty("state").GetString());
            Assert.Equal(Funded(2_500), (await cluster.Nodes[0].Balance(P + "a25", P + "USD")).GetProperty("posted").GetString());
            Assert.Equal("7500", (await cluster.Nodes[1].Balance(treasury, P + "USD")).GetProperty("posted").GetString());
        };
    }

    /// <summary>
    /// A channel opened and funded through two gateways, paid off the ledger, closed by a26 through the node about to
    /// die and answered by a27 through another; after the kill settled through both survivors, paid once.
    /// </summary>
    private static async Task<Func<Task>> CloseChannel(Cluster cluster)
    {
        var ch = P + "ch";
        var a6 = new ChannelParty(new(ch), new(P + "a26"), new(P + "a27"), Enumerable.Repeat((byte)6, 32).ToArray());
        var a7 = new ChannelParty(new(ch), new(P + "a27"), new(P + "a26"), Enumerable.Repeat((byte)7, 32).ToArray());
        try
        {
            (a6.OtherKeyHex, a7.OtherKeyHex) = (a7.PublicKeyHex, a6.PublicKeyHex);
            Assert.Equal(201, (await cluster.Nodes[0].PostUntilKnown("/v1/channels", a6.OpenRequest(new(P + "USD"), a7.PublicKeyHex, 5_000))).Status);
            await cluster.Nodes[1].PostUntilKnown($"/v1/channels/{ch}/deposit", a6.DepositRequest("d1", new Amount(500)));
            await cluster.Nodes[2].PostUntilKnown($"/v1/channels/{ch}/deposit", a7.DepositRequest("d1", new Amount(300)));
            for (var i = 0; i < 50; i++) Assert.True(a7.Accept(a6.Pay(4)));
            Assert.True(a6.Accept(a7.Pay(30)));
            Assert.Equal("closing", (await cluster.Nodes[2].PostUntilKnown($"/v1/channels/{ch}/close", a6.CloseRequest("c1"))).Body.GetProperty("state").GetString());
            var updated = await cluster.Nodes[0].PostUntilKnown($"/v1/channels/{ch}/update", a7.UpdateRequest("u1"));
            var closesAt = DateTimeOffset.Parse(updated.Body.GetProperty("closes_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            return async () =>
            {
                // After the window: settled through both survivors, paid once (a26: 500 + 30 − 200, a27: 300 + 200 − 30).
                while (DateTimeOffset.UtcNow <= closesAt.AddMilliseconds(50)) await Task.Delay(50);
                foreach (var (node, id) in new[] { (1, "s1"), (0, "s2") })
                    Assert.Equal("settled", (await cluster.Nodes[node].PostUntilKnown($"/v1/channels/{ch}/settle", new { id, account = P + "a28" })).Body.GetProperty("state").GetString());
                Assert.Equal(Funded(-500 + 330), (await cluster.Nodes[0].Balance(P + "a26", P + "USD")).GetProperty("posted").GetString());
                Assert.Equal(Funded(-300 + 470), (await cluster.Nodes[1].Balance(P + "a27", P + "USD")).GetProperty("posted").GetString());
            };
        }
        finally
        {
            a6.Dispose();
            a7.Dispose();
        }
    }

    /// <summary>Asks again while the answer is 503 (shards of a killed node moving), for up to a minute.</summary>
    private static async Task<(int Status, System.Text.Json.JsonElement Body)> Until503Ends(Func<Task<(int Status, System.Text.Json.JsonElement Body)>> ask)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var answer = await ask();
            if (answer.Status != 503 || DateTime.UtcNow > deadline) return answer;
            await Task.Delay(200);
        }
    }

    /// <summary>Three hosts on one PostgreSQL, every node listing all three as seeds, and the accounts the load moves money between.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly ThrowawayPostgres _pg = ThrowawayPostgres.Start();
        private readonly int[] _clusterPorts = [.. Enumerable.Range(0, 3).Select(_ => Ports.Free())];
        // The nodes talk over mutual TLS, with one certificate for the cluster, as an operator would run them.
        private readonly string _certificate = Certificates.SelfSigned(Ports.TempDir("ledger-nl-tls"), "ledger-cluster");

        public HostProcess[] Nodes { get; } = [.. Enumerable.Range(0, 3).Select(_ => new HostProcess())];

        private string[] Args(int i) =>
        [
            "--Ledger:Journal=postgres", "--Ledger:ConnectionString=" + _pg.ConnectionString, $"--Ledger:Cluster:Port={_clusterPorts[i]}",
            "--Ledger:Cluster:Seeds=" + string.Join(",", _clusterPorts.Select(p => $"127.0.0.1:{p}")), "--Ledger:RequestTimeoutMs=3000",
            "--Ledger:Cluster:Tls:Certificate=" + _certificate, "--Ledger:Cluster:Tls:Password=" + Certificates.Password,
        ];

        public static async Task<Cluster> Start()
        {
            var c = new Cluster();
            try
            {
                // One at a time: the first forms the cluster (and creates the journal's tables), the others join it.
                for (var i = 0; i < 3; i++) await c.Nodes[i].Start(c.Args(i));
                await c.UntilMembers(3);
                Assert.StartsWith("akka.ssl.tcp://", (await c.Nodes[0].Get("/v1/cluster")).Body.GetProperty("self").GetString(), StringComparison.Ordinal);
                await c.Nodes[0].Seed(P + "USD", P + "bank", [.. Enumerable.Range(0, Accounts).Select(i => ($"{P}a{i}", Funding.ToString(System.Globalization.CultureInfo.InvariantCulture)))]);
                return c;
            }
            catch
            {
                // Nothing the test cannot dispose may outlive it: the hosts already up and PostgreSQL.
                await c.DisposeAsync();
                throw;
            }
        }

        /// <summary>Starts node <paramref name="i"/> again on its cluster address (a new data directory: all state is in PostgreSQL) and waits until it is back.</summary>
        public async Task Restart(int i)
        {
            var node = new HostProcess();
            try
            {
                await node.Start(Args(i));
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
            var old = Nodes[i];
            Nodes[i] = node;
            await old.DisposeAsync();
            await UntilMembers(3);
        }

        public Load Load(int clients) => new(this, clients);

        /// <summary>Each acknowledged transfer recorded once, committed; balances their replay; the audit zero; no client saw an error.</summary>
        public async Task Verify(Load load)
        {
            Assert.Empty(load.Errors);
            Assert.True(load.Acknowledged.Count > 50, $"only {load.Acknowledged.Count} transfers acknowledged");
            var expected = Enumerable.Range(0, Accounts).ToDictionary(i => i, _ => (long)Funding);
            foreach (var (id, (from, to, amount)) in load.Acknowledged)
            {
                var (status, tx) = await GetAsClient(Nodes[1], $"/v1/accounts/{P}a{from}/transactions/{id}");
                Assert.True(status == 200, $"{id}: {status} {tx}");
                Assert.Equal("committed", tx.GetProperty("status").GetString());
                expected[from] -= amount;
                expected[to] += amount;
            }
            for (var i = 0; i < Accounts; i++)
                Assert.Equal(expected[i].ToString(System.Globalization.CultureInfo.InvariantCulture), (await Nodes[0].Balance($"{P}a{i}", P + "USD")).GetProperty("posted").GetString());
            var (auditStatus, auditBody) = await Nodes[0].GetUntilKnown("/v1/audit/supply");
            Assert.True(auditStatus == 200, $"audit: {auditStatus} {auditBody}");
            var audit = auditBody.GetProperty("assets").GetProperty(P + "USD");
            Assert.Equal(("0", "0"), (audit.GetProperty("sum").GetString(), audit.GetProperty("in_flight").GetString()));
        }

        /// <summary>
        /// A read as the retrying client makes it: a 503 (no answer within the request timeout, as when a restarted
        /// account replays its journal to find an old transfer) is asked again, up to 120 times, a quarter second apart.
        /// </summary>
        private static async Task<(int Status, JsonElement Body)> GetAsClient(HostProcess node, string path)
        {
            for (var attempt = 0; ; attempt++)
            {
                var answer = await node.Get(path);
                if (answer.Status != 503 || attempt == 120) return answer;
                await Task.Delay(250);
            }
        }

        private async Task UntilMembers(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(180);
            while (true)
            {
                foreach (var node in Nodes)
                    try
                    {
                        var (status, body) = await node.Get("/v1/cluster");
                        if (status == 200 && body.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "up") == count) return;
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                    }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"not {count} members up within 180 s");
                await Task.Delay(500);
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var n in Nodes) await n.DisposeAsync();
            _pg.Dispose();
            Directory.Delete(Path.GetDirectoryName(_certificate)!, recursive: true);
        }
    }

    /// <summary>
    /// Clients, each transferring 1..9 between random accounts one request at a time; a request whose outcome it did
    /// not hear is asked again with the same id through the next gateway until it hears one.
    /// </summary>
#pragma warning disable CA1001 // The token source is disposed by Stop, which every test awaits.
    private sealed class Load
#pragma warning restore CA1001
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _clients;
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

        public ConcurrentDictionary<string, (int From, int To, int Amount)> Acknowledged { get; } = new();
        /// <summary>When (seconds into the load) a request had to be asked again.</summary>
        public ConcurrentBag<double> Retried { get; } = [];
        /// <summary>Answers that are neither an outcome nor "retry": there must be none.</summary>
        public ConcurrentBag<string> Errors { get; } = [];
        public double Elapsed => _clock.Elapsed.TotalSeconds;

        /// <summary>
        /// Lets the load run for <paramref name="atLeast"/> and until <paramref name="acknowledged"/> transfers in all
        /// are acknowledged, so that what follows comes under load however slowly a busy machine serves it.
        /// </summary>
        public async Task Run(TimeSpan atLeast, int acknowledged)
        {
            await Task.Delay(atLeast);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (Acknowledged.Count < acknowledged)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {Acknowledged.Count} transfers acknowledged; waited for {acknowledged}");
                await Task.Delay(50);
            }
        }

        public Load(Cluster cluster, int clients) =>
            _clients = [.. Enumerable.Range(0, clients).Select(c => Task.Run(() => Client(cluster, c)))];

        public async Task Stop()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_clients);
            _stop.Dispose();
        }

        private async Task Client(Cluster cluster, int client)
        {
            var random = new Random(client);
            var gateway = client;
            for (var n = 0; !_stop.IsCancellationRequested; n++)
            {
                // A steady load, not a flood: afterwards every acknowledged transfer is read back by GET, and one older
                // than its account's 1,024 resident records costs a replay of the account's journal (benchmarks.md).
                await Task.Delay(Pace);
                var (from, to, amount) = (random.Next(Accounts), random.Next(Accounts), 1 + random.Next(9));
                if (from == to) continue;
                var id = $"c{client}-{n}";
                for (var attempt = 0; ; attempt++)
                {
                    var outcome = await Transfer(cluster.Nodes[gateway % 3], id, from, to, amount);
                    if (outcome is { } committed)
                    {
                        if (committed) Acknowledged[id] = (from, to, amount);
                        break;
                    }
                    Retried.Add(Elapsed);
                    gateway++;
                    if (attempt > 120)
                    {
                        Errors.Add($"{id}: no outcome after {attempt} attempts");
                        break;
                    }
                    await Task.Delay(250);
                }
            }
        }

        /// <summary>true: committed; false: rejected; null: not known (503, timeout, gateway down) — ask again.</summary>
        private async Task<bool?> Transfer(HostProcess via, string id, int from, int to, int amount)
        {
            try
            {
                var (status, body) = await via.Post("/v1/transfers", new { id, from = $"{P}a{from}", to = $"{P}a{to}", asset = P + "USD", amount = amount.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                switch (status)
                {
                    case 200: return body.GetProperty("status").GetString() == "committed";
                    case 503: return null;
                    default:
                        Errors.Add($"{id}: {status} {body}");
                        return false;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ObjectDisposedException)
            {
                return null;
            }
        }
    }
}

/// <summary>
/// Tests that run several host processes and a database of their own: they take both cores, so they run alone,
/// never beside other tests (whose timeouts they would otherwise eat into on a 2-core machine).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultiProcess
{
    public const string Name = "multi-process";
}
