using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using Akka.Remote.Transport.DotNetty;
using Akka.Serialization;
using Ledger.Actors.Journal;
using Ledger.Actors.Serialization;
using LinqToDB;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SqlJournalOptions = Akka.Persistence.Sql.Hosting.SqlJournalOptions;
using SqlSnapshotOptions = Akka.Persistence.Sql.Hosting.SqlSnapshotOptions;

namespace Ledger.Actors.Hosting;

/// <summary>Everything that makes one node: where its data lives, how it joins the cluster, which journal.</summary>
public sealed record LedgerNodeOptions
{
    public string SystemName { get; init; } = "ledger";
    public string DataDir { get; init; } = "data";
    /// <summary><c>sqlite</c> (embedded, default), <c>postgres</c>, or <c>memory</c> (nothing durable: benchmarks only).</summary>
    public string Journal { get; init; } = "sqlite";
    /// <summary>For <c>postgres</c>; for <c>sqlite</c> the database is <c>ledger.db</c> in <see cref="DataDir"/>.</summary>
    public string? ConnectionString { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0: any free port.</summary>
    public int Port { get; init; }
    /// <summary><c>host:port</c> of seed nodes; none: this node forms a cluster of its own.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];
    public IReadOnlyList<string> Roles { get; init; } = ["ledger", "gateway"];
    /// <summary>Fixed for the life of a cluster: never change it on a live one.</summary>
    public int Shards { get; init; } = 100;
    /// <summary>
    /// Node-to-node TLS: this node's certificate with its private key (PKCS#12, <c>.pfx</c>); null: plain TCP.
    /// With it, both ends of every connection present a certificate (mutual TLS) and each end accepts only a
    /// certificate in <see cref="TlsPeers"/>.
    /// </summary>
    public string? TlsCertificate { get; init; }
    public string? TlsPassword { get; init; }
    /// <summary>SHA-1 thumbprints of the certificates peers may present; empty: only this node's own (one certificate for the whole cluster).</summary>
    public IReadOnlyList<string> TlsPeers { get; init; } = [];
    /// <summary>Extra HOCON layered over everything else (tests, bench and verify use it).</summary>
    public string? ExtraHocon { get; init; }
}

/// <summary>
/// The node's Akka configuration as Akka.Hosting builder steps: <c>akka.hocon</c> (at the repository root, copied next
/// to the binaries) first, then the few settings that differ per node. The host, the in-process nodes of bench and
/// tests, and verify all go through <see cref="WithLedgerNode"/>.
/// </summary>
public static class LedgerNode
{
    public const string HoconFile = "akka.hocon";

    /// <summary>Registers the node's ActorSystem, started and stopped with the host; <paramref name="configure"/> adds the caller's steps.</summary>
    public static IServiceCollection AddLedgerNode(this IServiceCollection services, LedgerNodeOptions o,
        Action<AkkaConfigurationBuilder, IServiceProvider>? configure = null)
    {
        // Before anything opens the journal's database: the journal itself, and the host's JournalHealth probe.
        PrepareDataDir(o);
        return services.AddAkka<LedgerNodeService>(o.SystemName, (builder, provider) =>
        {
            builder.WithLedgerNode(o);
            configure?.Invoke(builder, provider);
        });
    }

    /// <summary>Every step, in the order that lets a later one override an earlier one.</summary>
    public static AkkaConfigurationBuilder WithLedgerNode(this AkkaConfigurationBuilder builder, LedgerNodeOptions o) => builder
        .WithLedgerHocon()
        .WithJsonTypeGuard()
        .WithLedgerRemoting(o)
        .WithLedgerClustering(o)
        .WithLedgerPersistence(o)
        .WithExtraHocon(o.ExtraHocon);

    /// <summary>akka.hocon: below every per-node setting, above every module's defaults (which are added as fallbacks).</summary>
    public static AkkaConfigurationBuilder WithLedgerHocon(this AkkaConfigurationBuilder builder) =>
        builder.AddHoconFile(Path.Combine(AppContext.BaseDirectory, HoconFile), HoconAddMode.Append);

    /// <summary>Akka's default JSON serializer may only name types JsonTypeGuard allows.</summary>
    public static AkkaConfigurationBuilder WithJsonTypeGuard(this AkkaConfigurationBuilder builder) =>
        builder.AddSetup(NewtonSoftJsonSerializerSetup.Create(s => s.SerializationBinder = new JsonTypeGuard()));

    /// <summary>This node's address; with a certificate, mutual TLS pinned to known certificates.</summary>
    public static AkkaConfigurationBuilder WithLedgerRemoting(this AkkaConfigurationBuilder builder, LedgerNodeOptions o)
    {
        var remote = new RemoteOptions { HostName = o.Host, Port = o.Port, EnableSsl = o.TlsCertificate is not null };
        if (o.TlsCertificate is not null)
        {
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(o.TlsCertificate, o.TlsPassword);
            if (!certificate.HasPrivateKey) throw new ArgumentException($"{o.TlsCertificate} holds no private key");
            string[] peers = o.TlsPeers.Count > 0 ? [.. o.TlsPeers] : [certificate.Thumbprint];
            // A peer is accepted only if its certificate's thumbprint is listed, whatever authority signed it.
            remote.Ssl = new SslOptions
            {
                X509Certificate = certificate,
                SuppressValidation = false,
                RequireMutualAuthentication = true,
                CustomValidator = CertificateValidation.PinnedCertificate(peers),
            };
        }
        return builder.WithRemoting(remote);
    }

    /// <summary>Roles and seeds; the downing strategy and its timings are in akka.hocon.</summary>
    public static AkkaConfigurationBuilder WithLedgerClustering(this AkkaConfigurationBuilder builder, LedgerNodeOptions o)
    {
        // Over TLS, Akka.Remote's addresses say so: akka.ssl.tcp.
        var protocol = o.TlsCertificate is null ? "akka.tcp" : "akka.ssl.tcp";
        builder.WithClustering(new ClusterOptions
        {
            Roles = [.. o.Roles],
            SeedNodes = [.. o.Seeds.Select(s => $"{protocol}://{o.SystemName}@{s}")],
        });
        if (o.Seeds.Count > 0) return builder;
        // A node without seeds forms a cluster of its own; it joins itself because its port may be known only once bound.
        return builder.AddStartup((system, _) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            cluster.Join(cluster.SelfAddress);
        });
    }

    public static AkkaConfigurationBuilder WithLedgerPersistence(this AkkaConfigurationBuilder builder, LedgerNodeOptions o) => o.Journal switch
    {
        // Events are appended by LedgerJournal (one thread, one statement per transaction); on SQLite, reads never take
        // the write lock, and snapshots go to a database file of their own: SQLite has one writer per file, and a large
        // account's snapshot written into the journal's file held every append behind it.
        "sqlite" => builder.WithLedgerSql(ProviderName.SQLiteMS, DatabaseMapping.Sqlite, SqliteConnectionString(o),
            SqliteConnectionString(o, "snapshots.db"), readUncommitted: true),
        "postgres" => builder.WithLedgerSql(ProviderName.PostgreSQL15, DatabaseMapping.PostgreSql,
            o.ConnectionString ?? throw new ArgumentException("Ledger:ConnectionString is required for the postgres journal"), null, readUncommitted: false),
        "memory" => builder.WithInMemoryJournal().WithInMemorySnapshotStore(),
        _ => throw new ArgumentException($"unknown journal '{o.Journal}' (sqlite, postgres or memory)"),
    };

    /// <param name="snapshotConnectionString">The snapshot store's database, if not the journal's.</param>
    private static AkkaConfigurationBuilder WithLedgerSql(this AkkaConfigurationBuilder builder, string provider, DatabaseMapping mapping,
        string connectionString, string? snapshotConnectionString, bool readUncommitted)
    {
        var journal = new SqlJournalOptions(isDefaultPlugin: true)
        {
            ConnectionString = connectionString,
            ProviderName = provider,
            DatabaseOptions = new JournalDatabaseOptions(mapping),
            AutoInitialize = true,
        };
        var snapshots = new SqlSnapshotOptions(isDefaultPlugin: true)
        {
            ConnectionString = snapshotConnectionString ?? connectionString,
            ProviderName = provider,
            DatabaseOptions = new SnapshotDatabaseOptions(mapping),
            AutoInitialize = true,
        };
        // What the options cannot say: our subclasses of the plugin's journal and snapshot store, and a read isolation
        // for the journal alone (SqlJournalOptions.ReadIsolationLevel would set the query plugin's too).
        var ours = $"""
            akka.persistence.journal.sql.class = {typeof(LedgerJournal).AssemblyQualifiedName.ToHocon()}
            akka.persistence.snapshot-store.sql.class = {typeof(LedgerSnapshotStore).AssemblyQualifiedName.ToHocon()}
            {(readUncommitted ? "akka.persistence.journal.sql.read-isolation-level = read-uncommitted" : "")}
            # The change feed's live reads: new rows are looked for every 50 ms (the plugin's 1 s, twice over, made the
            # feed lag seconds); a gap in the ordering (a transaction not yet committed) is still waited for 10 s.
            akka.persistence.query.journal.sql.refresh-interval = 50ms
            akka.persistence.query.journal.sql.journal-sequence-retrieval.query-delay = 50ms
            akka.persistence.query.journal.sql.journal-sequence-retrieval.max-tries = 200
            """;
        return builder.WithSqlPersistence(journal, snapshots).AddHocon(ConfigurationFactory.ParseString(ours), HoconAddMode.Prepend);
    }

    /// <summary>Over every other step: tests' shorter timings, bench's quieter logs, verify's local provider.</summary>
    public static AkkaConfigurationBuilder WithExtraHocon(this AkkaConfigurationBuilder builder, string? hocon) =>
        string.IsNullOrWhiteSpace(hocon) ? builder : builder.AddHocon(ConfigurationFactory.ParseString(hocon), HoconAddMode.Prepend);

    /// <summary>
    /// The node's configuration alone, for an ActorSystem that is not a node (verify reads a journal offline); a
    /// node's Setups (TLS, the JSON guard) and start-up steps are not part of it.
    /// </summary>
    public static Config BuildConfig(LedgerNodeOptions o) =>
        new AkkaConfigurationBuilder(new ServiceCollection(), o.SystemName).WithLedgerNode(o).Configuration.Value;

    public static string SqliteConnectionString(LedgerNodeOptions o, string file = "ledger.db") =>
        new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(Path.Combine(o.DataDir, file)),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

    /// <summary>
    /// Starts a node outside a web host (bench, tests): the same builder, run by a generic host of its own that lives as
    /// long as the ActorSystem returned, which the caller owns.
    /// </summary>
    public static ActorSystem Start(LedgerNodeOptions o)
    {
        var host = new HostBuilder()
            .ConfigureServices(services => services.AddSingleton<IHostLifetime, OwnedBySystem>().AddLedgerNode(o))
            .Build();
        try
        {
            host.Start();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        var system = host.Services.GetRequiredService<ActorSystem>();
        system.WhenTerminated.ContinueWith(_ => host.Dispose(), TaskScheduler.Default);
        return system;
    }

    /// <summary>Creates the data directory, and the SQLite journal's database in WAL mode.</summary>
    private static void PrepareDataDir(LedgerNodeOptions o)
    {
        if (o.Journal != "sqlite") return;
        Directory.CreateDirectory(o.DataDir);
        // WAL is a property of the database file: set once, it stays.
        using var c = new SqliteConnection(SqliteConnectionString(o));
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL;";
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// Akka.Hosting's service, minus one thing: it stops the application when the ActorSystem terminates (a node the
    /// cluster downed would exit). A Ledger node's process outlives its ActorSystem, answering not-ready, until its
    /// operator restarts it, so the service is given no application lifetime to stop.
    /// </summary>
    private sealed class LedgerNodeService(AkkaConfigurationBuilder builder, IServiceProvider provider, ILogger<AkkaHostedService> logger)
        : AkkaHostedService(builder, provider, logger, applicationLifetime: null);

    /// <summary>A host whose life is its ActorSystem's: no console signal handling (Ctrl+C and SIGTERM stay the process's).</summary>
    private sealed class OwnedBySystem : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
