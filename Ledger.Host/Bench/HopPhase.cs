using System.Diagnostics;
using Akka.Actor;
using Ledger.Actors.Hosting;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Bench;

/// <summary>
/// <c>--workload hop</c>: what one hop between nodes costs. Two nodes in this process (loopback TCP, the production
/// serializers); an echo actor on the second answers a ledger message with a ledger message. Measured: one request
/// at a time to an actor on the same node and on the other (round-trip latency), and <c>--in-flight</c> requests at
/// once to the other node (messages per second a connection carries).
/// </summary>
public static class HopPhase
{
    private const int Sequential = 20_000;

    public static async Task<int> Run(BenchOptions o)
    {
        var a = LedgerNode.Start(new LedgerNodeOptions { SystemName = "hop", Journal = "memory", DataDir = Path.GetTempPath(), ExtraHocon = "akka.loglevel = WARNING" });
        var b = LedgerNode.Start(new LedgerNodeOptions { SystemName = "hop", Journal = "memory", DataDir = Path.GetTempPath(), ExtraHocon = "akka.loglevel = WARNING" });
        try
        {
            var local = a.ActorOf(Props.Create(() => new Echo()), "echo");
            b.ActorOf(Props.Create(() => new Echo()), "echo");
            var address = Akka.Cluster.Cluster.Get(b).SelfAddress;
            var remote = await a.ActorSelection(new RootActorPath(address) / "user" / "echo").ResolveOne(TimeSpan.FromSeconds(10));
            var request = new GetAccount(new AccountId("acct-1"));

            async Task<double> RoundTripMicros(IActorRef to)
            {
                for (var i = 0; i < 1_000; i++) await to.Ask<AccountView>(request, TimeSpan.FromSeconds(5));
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < Sequential; i++) await to.Ask<AccountView>(request, TimeSpan.FromSeconds(5));
                return clock.Elapsed.TotalMicroseconds / Sequential;
            }
            var sameNode = await RoundTripMicros(local);
            var otherNode = await RoundTripMicros(remote);
            var load = await LoadRunner.Run("hop", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async _ =>
            {
                await remote.Ask<AccountView>(request, TimeSpan.FromSeconds(30));
                return OpResult.One;
            });
            Console.WriteLine($"hop: round trip {sameNode:F1} µs on the same node, {otherNode:F1} µs to the other node (one at a time); " +
                $"{load.Tps:N0} round trips/s to the other node with {o.InFlight:N0} in flight (p50 {load.P50Ms:F2} ms, p99 {load.P99Ms:F2} ms)");
            if (o.Json is not null)
                await File.WriteAllTextAsync(o.Json, System.Text.Json.JsonSerializer.Serialize(new
                {
                    workload = "hop",
                    same_node_round_trip_us = Math.Round(sameNode, 1),
                    other_node_round_trip_us = Math.Round(otherNode, 1),
                    other_node_round_trips_per_s = Math.Round(load.Tps),
                    in_flight = o.InFlight,
                    latency_ms = new { p50 = Math.Round(load.P50Ms, 2), p99 = Math.Round(load.P99Ms, 2) },
                    machine = new MachineInfo(Environment.ProcessorCount, Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9, 1)),
                    date = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                }));
            return load.Committed > 0 ? 0 : 1;
        }
        finally
        {
            await Task.WhenAll(a.Terminate(), b.Terminate());
        }
    }

    private sealed class Echo : ReceiveActor
    {
        private static readonly AccountView Answer = new(new AccountId("acct-1"), "bench", [], false);

        public Echo() => Receive<GetAccount>(_ => Sender.Tell(Answer));
    }
}
