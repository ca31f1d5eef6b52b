using Akka.Configuration;
using Akka.Hosting;
using Ledger.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Ledger.Tests.Support;

public static class SpecConfig
{
    /// <summary>Every spec's snapshot directory lives under this one, removed when the test process exits.</summary>
    private static readonly string Root = CreateRoot();

    private static string CreateRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), $"ledger-snapshots-{Environment.ProcessId}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return root;
    }

    /// <summary>
    /// akka.hocon (read by the node's own builder step) with a local provider and an in-memory (counting) journal; every
    /// message is serialized as if it crossed the network, so nothing can rely on passing object references.
    /// </summary>
    public static Config Local() => ConfigurationFactory.ParseString("""
        akka.actor.provider = local
        akka.actor.serialize-messages = on
        akka.persistence.journal.plugin = "akka.persistence.journal.counting"
        akka.persistence.journal.counting {
          class = "Ledger.Tests.Support.CountingJournal, Ledger.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.local"
        akka.persistence.snapshot-store.local.dir = "{{SNAPDIR}}"
        akka.loglevel = WARNING
        # Every ExpectMsg, ExpectTerminated or AwaitCondition without a timeout of its own waits this long (TestKit's
        # defaults are 3 s and 5 s): enough for a 2-core machine running the whole suite. Nothing waits longer than it
        # takes for what it waits on to arrive, so this only costs time in a test that fails anyway.
        akka.test.single-expect-default = 30s
        akka.test.default-timeout = 30s
        """.Replace("{{SNAPDIR}}", Path.Combine(Root, Guid.NewGuid().ToString("N")).Replace('\\', '/'), StringComparison.Ordinal))
        .WithFallback(new AkkaConfigurationBuilder(new ServiceCollection(), "spec").WithLedgerHocon().Configuration.Value);
}
