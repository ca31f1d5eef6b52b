using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Ledger.Actors.Hosting;
using Ledger.Tests.Support;

namespace Ledger.Tests.MultiNode;

/// <summary>
/// What one node accepts from another. Node-to-node TLS (<see cref="LedgerNodeOptions.TlsCertificate"/>): nodes
/// holding the cluster's certificate form a cluster over mutual TLS; the cluster refuses a node with another
/// certificate, or with none. And a peer cannot make a node build a type that is not on the wire's allow-lists.
/// </summary>
public sealed class NodeToNodeSpecs : IDisposable
{
    private readonly string _dir = Ports.TempDir("ledger-tls");
    private readonly List<ActorSystem> _systems = [];

    private string Certificate(string name) => Certificates.SelfSigned(_dir, name);

    private static string Thumbprint(string certificate) => X509CertificateLoader.LoadPkcs12FromFile(certificate, Certificates.Password).Thumbprint;

    private ActorSystem Node(int port, int seed, string? certificate, IReadOnlyList<string>? peers = null)
    {
        var system = LedgerNode.Start(new LedgerNodeOptions
        {
            DataDir = _dir,
            Port = port,
            Seeds = port == seed ? [] : [$"127.0.0.1:{seed}"],
            TlsCertificate = certificate,
            TlsPassword = certificate is null ? null : Certificates.Password,
            TlsPeers = peers ?? [],
            // With Akka's defaults a refused node tried again about every 20 s; with a new join after 2 s and 1 s of gating
            // after a failed association, about every 2 s, so the seed's second refusal comes well inside the wait.
            ExtraHocon = "akka.loglevel = ERROR\nakka.cluster.seed-node-timeout = 1s\nakka.cluster.retry-unsuccessful-join-after = 2s\nakka.remote.retry-gate-closed-for = 1s",
        });
        _systems.Add(system);
        return system;
    }

    private static int Up(ActorSystem system) => Cluster.Get(system).State.Members.Count(m => m.Status == MemberStatus.Up);

    [Fact]
    public async Task Nodes_with_the_cluster_certificate_join_over_tls_and_the_cluster_refuses_a_node_without_it()
    {
        var clusterCert = Certificate("ledger-cluster");
        var (seedPort, memberPort, strangerPort, plainPort) = (Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free());
        var seed = Node(seedPort, seedPort, clusterCert);
        var member = Node(memberPort, seedPort, clusterCert);
        await TestCluster.Until(() => Up(seed) == 2 && Up(member) == 2, "the node with the cluster certificate joined", seconds: 90);
        var refusals = SeedErrors(seed);

        // The stranger trusts the cluster's certificate as well as its own, so only the seed's check can keep it out.
        var strangerCert = Certificate("someone-else");
        var stranger = Node(strangerPort, seedPort, strangerCert, peers: [Thumbprint(clusterCert), Thumbprint(strangerCert)]);
        var plain = Node(plainPort, seedPort, null);

        // The seed saw the stranger's certificate and refused it, and did so again when the stranger tried again.
        var strangers = Thumbprint(strangerCert);
        int Refused() => refusals.Count(e => e.Contains("Certificate pinning failed", StringComparison.Ordinal) && e.Contains(strangers, StringComparison.Ordinal));
        await TestCluster.Until(() => Refused() >= 2, "the seed refused the stranger's certificate twice", seconds: 90);
        Assert.Equal(2, Up(seed));
        Assert.Equal(2, Cluster.Get(seed).State.Members.Count);
        Assert.DoesNotContain(Cluster.Get(seed).State.Members, m => m.Address.Port == strangerPort || m.Address.Port == plainPort);
        Assert.Equal(0, Up(stranger));
        Assert.Equal(0, Up(plain));
        Assert.Equal(2, Up(member));
    }

    /// <summary>What the seed logs at error level from now on: its transport logs each certificate it refuses, with the thumbprint.</summary>
    private static ConcurrentQueue<string> SeedErrors(ActorSystem seed)
    {
        var errors = new ConcurrentQueue<string>();
        var listener = seed.ActorOf(Props.Create(() => new ErrorCollector(errors)));
        seed.EventStream.Subscribe(listener, typeof(Error));
        return errors;
    }

    [Fact]
    public async Task A_peer_cannot_make_a_node_build_a_type_off_the_allow_list_through_the_default_json_serializer()
    {
        var (portA, portB) = (Ports.Free(), Ports.Free());
        var a = Node(portA, portA, null);
        var b = Node(portB, portA, null);
        var arrived = new ConcurrentQueue<object>();
        b.ActorOf(Props.Create(() => new Collector(arrived)), "collector");
        var collector = a.ActorSelection($"akka.tcp://ledger@127.0.0.1:{portB}/user/collector");

        // Neither type is bound to our serializers: both cross as Akka's default JSON, with their type named in it.
        collector.Tell(new Outsiders.Gadget("rm -rf /"));
        collector.Tell(new List<string> { "allowed" });
        await TestCluster.Until(() => arrived.Any(m => m is List<string>), "the allowed message arrived");
        Assert.DoesNotContain(arrived, m => m is Outsiders.Gadget);

        // The same from raw bytes, naming a framework type that does things when built.
        var json = b.Serialization.FindSerializerForType(typeof(object));
        var hostile = System.Text.Encoding.UTF8.GetBytes("""{"$type":"System.Diagnostics.Process, System.Diagnostics.Process","StartInfo":{"FileName":"sh"}}""");
        var refused = Assert.ThrowsAny<Exception>(() => json.FromBinary<object>(hostile));
        Assert.Contains("not allowed on the wire", refused.InnerException?.Message ?? refused.Message, StringComparison.Ordinal);
    }

    private sealed class Collector : ReceiveActor
    {
        public Collector(ConcurrentQueue<object> arrived) => ReceiveAny(arrived.Enqueue);
    }

    private sealed class ErrorCollector : ReceiveActor
    {
        public ErrorCollector(ConcurrentQueue<string> errors) => Receive<Error>(e => errors.Enqueue(e.Message?.ToString() ?? ""));
    }

    public void Dispose()
    {
        Task.WhenAll(_systems.Select(s => s.Terminate())).Wait(TimeSpan.FromSeconds(60));
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
