using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Ledger.Tests.MultiNode;
using Ledger.Tests.Support;

namespace Ledger.Tests.Gateway;

/// <summary>
/// Crash consistency in rounds: clients transfer, reserve and post through the real host (embedded SQLite, as
/// shipped) while it is killed with SIGKILL at a random moment, again and again, and started on the same data. A
/// client asks again, with the same id, whatever it did not hear the outcome of. Afterwards every acknowledged
/// transaction is there once, balances are exactly the replay of what was acknowledged, no reservation is left
/// held, the audit is zero, and the offline verifier passes on the journal.
/// </summary>
[Collection(MultiProcess.Name)]
public sealed class CrashRoundsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Accounts = 12;
    private const int Rounds = 4;
    private const long Funding = 1_000_000;
    private const string Asset = "CR";

    private static string Account(int i) => "cr-a" + i.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Rounds_of_kill_minus_9_under_load_lose_nothing_double_nothing_and_leave_no_reservation_held()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed} (the kill moments)");
        var random = new Random(seed);
        var hosts = new List<HostProcess> { new() };
        try
        {
            var dataDir = hosts[0].DataDir;
            await hosts[0].Start();
            await hosts[0].Seed(Asset, "cr-bank", [.. Enumerable.Range(0, Accounts).Select(i => (Account(i), Funding.ToString(CultureInfo.InvariantCulture)))]);
            var load = new Load(hosts[0], clients: 3);
            for (var round = 0; round < Rounds; round++)
            {
                await load.Run(TimeSpan.FromMilliseconds(random.Next(1_000, 4_000)));
                hosts[^1].Kill();
                hosts.Add(new HostProcess(dataDir));
                await hosts[^1].Start();
                load.Target = hosts[^1];
            }
            await load.Run(TimeSpan.FromSeconds(1));
            await load.Stop();
            output.WriteLine($"{load.Acknowledged.Count} acknowledged, {load.AskedAgain} requests asked again after {Rounds} kills");

            var host = hosts[^1];
            Assert.True(load.Errors.IsEmpty, string.Join("\n", load.Errors.Take(10)));
            Assert.True(load.Acknowledged.Count > 100, $"only {load.Acknowledged.Count} acknowledged");
            var expected = Enumerable.Range(0, Accounts).ToDictionary(i => i, _ => Funding);
            foreach (var (id, (from, to, amount)) in load.Acknowledged)
            {
                var (status, tx) = await host.Get($"/v1/accounts/{Account(from)}/transactions/{id}");
                Assert.Equal((200, "committed"), (status, tx.GetProperty("status").GetString()));
                expected[from] -= amount;
                expected[to] += amount;
            }
            // Reservations nobody posted expire (after 1.5 s) even across crashes: wait for every one to be released.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            for (var i = 0; i < Accounts; i++)
            {
                JsonElement balance;
                while ((balance = await host.Balance(Account(i), Asset)).GetProperty("pending_out").GetString() != "0"
                       || balance.GetProperty("pending_in").GetString() != "0")
                {
                    Assert.True(DateTime.UtcNow < deadline, $"{Account(i)} still holds a reservation: {balance}");
                    await Task.Delay(250);
                }
                Assert.Equal(expected[i].ToString(CultureInfo.InvariantCulture), balance.GetProperty("posted").GetString());
            }
            var audit = (await host.Get("/v1/audit/supply")).Body.GetProperty("assets").GetProperty(Asset);
            Assert.Equal(("0", "0"), (audit.GetProperty("sum").GetString(), audit.GetProperty("in_flight").GetString()));

            await host.Stop();
            var (exit, report) = await HostProcess.Verify(dataDir);
            Assert.True(exit == 0, report);
        }
        finally
        {
            foreach (var h in hosts) await h.DisposeAsync();
        }
    }

    /// <summary>
    /// Clients, one request at a time: two in three plain transfers, the rest reservations (timeout 1.5 s) of which
    /// half are posted and half left to expire. What a client did not hear the outcome of (the node died, or 503) it
    /// asks again with the same id, of whichever node is up, until it hears one.
    /// </summary>
#pragma warning disable CA1001 // The token source is disposed by Stop, which the test awaits.
    private sealed class Load
#pragma warning restore CA1001
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _clients;
        private volatile HostProcess _target;
        private int _askedAgain;

        public Load(HostProcess target, int clients)
        {
            _target = target;
            _clients = [.. Enumerable.Range(0, clients).Select(c => Task.Run(() => Client(c)))];
        }

        public HostProcess Target { set => _target = value; }

        /// <summary>
        /// Lets the load run for <paramref name="atLeast"/> and until the node up now has acknowledged a few more
        /// transactions, so that every kill comes under load however slowly a busy machine serves it.
        /// </summary>
        public async Task Run(TimeSpan atLeast)
        {
            var from = Acknowledged.Count;
            await Task.Delay(atLeast);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (Acknowledged.Count < from + PerPhase)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {Acknowledged.Count - from} acknowledged in two minutes");
                await Task.Delay(50);
            }
        }

        /// <summary>What each stretch of load between kills acknowledges at least (five stretches: more than 100 in all).</summary>
        private const int PerPhase = 25;
        public int AskedAgain => _askedAgain;
        public ConcurrentDictionary<string, (int From, int To, long Amount)> Acknowledged { get; } = new();
        /// <summary>Answers that are neither an outcome nor "retry": there must be none.</summary>
        public ConcurrentBag<string> Errors { get; } = [];

        public async Task Stop()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_clients);
            _stop.Dispose();
        }

        private async Task Client(int client)
        {
            var random = new Random(client);
            for (var n = 0; !_stop.IsCancellationRequested; n++)
            {
                // A steady load, not a flood: every acknowledged transaction is read back by GET afterwards (see NodeLossTests).
                await Task.Delay(10);
                var (from, to, amount) = (random.Next(Accounts), random.Next(Accounts), 1 + random.Next(9));
                if (from == to) continue;
                var id = $"c{client}-{n}";
                var kind = random.Next(6);
                var transfer = new
                {
                    id,
                    from = Account(from),
                    to = Account(to),
                    asset = Asset,
                    amount = amount.ToString(CultureInfo.InvariantCulture),
                    pending = kind >= 4,
                    timeout_ms = kind >= 4 ? 1_500 : (int?)null,
                };
                var (status, body) = await UntilKnown(h => h.Post("/v1/transfers", transfer));
                var outcome = status == 200 ? body.GetProperty("status").GetString() : null;
                if (outcome == "committed")
                {
                    Acknowledged[id] = (from, to, amount);
                    continue;
                }
                // Asked again after the node died, a reservation may already have expired: that is its outcome.
                if (outcome == "expired" && transfer.pending) continue;
                if (outcome != "pending")
                {
                    Errors.Add($"{id}: {status} {body}");
                    continue;
                }
                if (kind == 5) continue; // left to expire
                (status, body) = await UntilKnown(h => h.Post($"/v1/transfers/{id}/post", new { from = Account(from) }));
                if (status == 200 && body.GetProperty("status").GetString() == "committed") Acknowledged[id] = (from, to, amount);
                // A node down for longer than the reservation's timeout: the reservation expired, which is an outcome.
                else if (!(status == 422 && body.GetProperty("code").GetString() == "pending_expired")) Errors.Add($"{id} post: {status} {body}");
            }
        }

        private async Task<(int Status, JsonElement Body)> UntilKnown(Func<HostProcess, Task<(int Status, JsonElement Body)>> request)
        {
            // Until a node answers: a restart on a loaded machine may take a minute or two (HostProcess.Start).
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    var answer = await request(_target);
                    if (answer.Status != 503) return answer;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
                Interlocked.Increment(ref _askedAgain);
                await Task.Delay(100);
            }
            throw new TimeoutException("no outcome in three minutes");
        }
    }
}
