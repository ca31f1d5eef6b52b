using System.Collections.Concurrent;
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
    /// <summary>One attempt of <see cref="Ask"/>; with its retries an answer has minutes to arrive.</summary>
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

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
            var options = new LedgerNodeOptions
            {
                DataDir = cluster.DataDir,
                Port = port,
                Seeds = [$"127.0.0.1:{ports[0]}"],
                Shards = 30,
                // Shorter than akka.hocon's 3 s and 7 s so that a crash is resolved sooner, but not so short that a node
                // starved of CPU for a few seconds (three ActorSystems, and other tests, on two cores) is taken for dead
                // and downed: a node is downed only after 5 s without heartbeats and 5 s more of stable membership.
                ExtraHocon = """
                    akka.loglevel = WARNING
                    akka.cluster.split-brain-resolver.stable-after = 5s
                    akka.cluster.failure-detector.acceptable-heartbeat-pause = 5s
                    akka.cluster.min-nr-of-members = 3

                    """ + crashOnTerminate,
            };
            var system = LedgerNode.Start(options);
            var started = regions(system);
            // As the host does: after a member is removed, what the owing index lists is started on the survivors.
            system.ActorOf(OwingResumer.Props(options, started.Accounts, started.Sagas), "owing-resumer");
            cluster.Nodes.Add((system, started));
        }
        await Until(() => cluster.Nodes.All(n => Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == 3), "three members up", seconds: 90);
        return cluster;
    }

    /// <summary>Stops the third node without leaving (like a killed process) and waits until the others have downed it.</summary>
    public async Task CrashThirdNode()
    {
        var crashed = Nodes[2];
        Nodes.RemoveAt(2);
        var address = Cluster.Get(crashed.System).SelfAddress;
        // What a survivor sees of the crashed node: it must become unreachable and be downed, never leave.
        var seen = new ConcurrentQueue<ClusterEvent.IMemberEvent>();
        var unreachable = 0;
        var watcher = Nodes[0].System.ActorOf(Props.Create(() => new MemberWatcher(address, seen, () => Interlocked.Exchange(ref unreachable, 1))));
        await crashed.System.Terminate().WaitAsync(TimeSpan.FromSeconds(60));
        await Until(() => Cluster.Get(Nodes[0].System).State.Members.All(m => m.Address != address), "the crashed node is downed and removed", seconds: 120);
        Nodes[0].System.Stop(watcher);
        Assert.Equal(1, Volatile.Read(ref unreachable));
        Assert.DoesNotContain(seen, e => e is ClusterEvent.MemberLeft or ClusterEvent.MemberExited);
        Assert.Contains(seen, e => e is ClusterEvent.MemberRemoved { PreviousStatus: MemberStatus.Down });
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Nodes.Select(n => n.System.Terminate().WaitAsync(TimeSpan.FromSeconds(60))));
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

    public static async Task Until(Func<bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {seconds}s: {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>Records the member events of one address, subscribed from the current state on (so none is missed).</summary>
    private sealed class MemberWatcher : ReceiveActor
    {
        public MemberWatcher(Address address, ConcurrentQueue<ClusterEvent.IMemberEvent> seen, Action unreachable)
        {
            Receive<ClusterEvent.CurrentClusterState>(state => { if (state.Unreachable.Any(m => m.Address == address)) unreachable(); });
            Receive<ClusterEvent.IMemberEvent>(e => { if (e.Member.Address == address) seen.Enqueue(e); });
            Receive<ClusterEvent.UnreachableMember>(e => { if (e.Member.Address == address) unreachable(); });
            Receive<ClusterEvent.ReachableMember>(_ => { });
        }

        protected override void PreStart() =>
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.UnreachableMember));

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
