using Akka.Actor;
using Akka.Cluster;
using Ledger.Actors.Hosting;
using Ledger.Actors.Sharding;

namespace Ledger.Tests.Support;

/// <summary>
/// Three ActorSystems in this process forming a real cluster over loopback TCP, sharing one journal in
/// <see cref="DataDir"/>. The third node never runs coordinated shutdown on terminate: terminating it is a crash.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    public string DataDir { get; } = Ports.TempDir("ledger-cluster");
    public List<(ActorSystem System, LedgerRegions Regions)> Nodes { get; } = [];

    /// <summary>Starts three nodes (each with <paramref name="regions"/> started on it) and waits until all are up.</summary>
    public static async Task<TestCluster> Start(Func<ActorSystem, LedgerRegions> regions)
    {
        var cluster = new TestCluster();
        var ports = Enumerable.Range(0, 3).Select(_ => Ports.Free()).ToArray();
        foreach (var port in ports)
        {
            var crashOnTerminate = port == ports[2] ? "akka.coordinated-shutdown.run-by-actor-system-terminate = off" : "";
            var system = LedgerNode.Start(new LedgerNodeOptions
            {
                DataDir = cluster.DataDir,
                Port = port,
                Seeds = [$"127.0.0.1:{ports[0]}"],
                Shards = 30,
                ExtraHocon = """
                    akka.loglevel = WARNING
                    akka.cluster.split-brain-resolver.stable-after = 2s
                    akka.cluster.failure-detector.acceptable-heartbeat-pause = 2s
                    akka.cluster.min-nr-of-members = 3

                    """ + crashOnTerminate,
            });
            cluster.Nodes.Add((system, regions(system)));
        }
        await Until(() => cluster.Nodes.All(n => Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == 3), "three members up");
        return cluster;
    }

    /// <summary>Stops the third node without leaving (like a killed process) and waits until the others have downed it.</summary>
    public async Task CrashThirdNode()
    {
        var crashed = Nodes[2];
        Nodes.RemoveAt(2);
        var address = Cluster.Get(crashed.System).SelfAddress;
        await crashed.System.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(Cluster.Get(Nodes[0].System).State.Members, m => m.Address == address);
        await Until(() => Cluster.Get(Nodes[0].System).State.Members.All(m => m.Address != address), "the crashed node is downed and removed", seconds: 60);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Nodes.Select(n => n.System.Terminate().WaitAsync(TimeSpan.FromSeconds(20))));
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Asks, retrying while shards move (a timeout there means "not yet", not "no").</summary>
    public static async Task<object> Ask(IActorRef region, object message, int attempts = 10)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await region.Ask<object>(message, AskTimeout);
            }
            catch (AskTimeoutException) when (attempt < attempts)
            {
            }
        }
    }

    public static async Task Until(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {seconds}s: {what}");
            await Task.Delay(100);
        }
    }
}
