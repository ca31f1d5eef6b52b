using System.Data.Common;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Remote.Transport.DotNetty;
using Akka.Serialization;
using Ledger.Actors.Journal;
using Ledger.Actors.Serialization;
using LinqToDB;
using Microsoft.Data.Sqlite;

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
    /// <summary>Extra HOCON layered over akka.hocon (tests use it).</summary>
    public string? ExtraHocon { get; init; }
}

/// <summary>
/// Builds the node's ActorSystem from <c>akka.hocon</c> (at the repository root, copied next to the
/// binaries) plus the few settings that differ per node. Production and tests share this code path.
/// </summary>
public static class LedgerNode
{
    public const string HoconFile = "akka.hocon";

    public static Config BuildConfig(LedgerNodeOptions o)
    {
        var file = Path.Combine(AppContext.BaseDirectory, HoconFile);
        var baseConfig = ConfigurationFactory.ParseString(File.ReadAllText(file));
        // Over TLS, Akka.Remote's addresses say so: akka.ssl.tcp.
        var protocol = o.TlsCertificate is null ? "akka.tcp" : "akka.ssl.tcp";
        var seeds = o.Seeds.Select(s => $"\"{protocol}://{o.SystemName}@{s}\"");
        var journal = o.Journal switch
        {
            // Events are appended by LedgerJournal (one thread, one statement per transaction); on SQLite, reads never
            // take the write lock, and snapshots go to a database file of their own: SQLite has one writer per file, and
            // a large account's snapshot (megabytes) written into the journal's file held every append behind it.
            "sqlite" => Plugins(ProviderName.SQLiteMS, "sqlite", SqliteConnectionString(o), SqliteConnectionString(o, "snapshots.db"),
                "read-isolation-level = read-uncommitted"),
            "postgres" => Plugins(ProviderName.PostgreSQL15, "postgresql",
                o.ConnectionString ?? throw new ArgumentException("Ledger:ConnectionString is required for the postgres journal"), null, null),
            "memory" => """
                akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
                akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
                """,
            _ => throw new ArgumentException($"unknown journal '{o.Journal}' (sqlite, postgres or memory)"),
        };
        var node = $$"""
            akka.remote.dot-netty.tcp { hostname = "{{o.Host}}", port = {{o.Port}}, enable-ssl = {{(o.TlsCertificate is null ? "false" : "true")}} }
            akka.cluster.roles = [{{string.Join(", ", o.Roles.Select(r => $"\"{r}\""))}}]
            akka.cluster.seed-nodes = [{{string.Join(", ", seeds)}}]
            {{journal}}
            """;
        var config = ConfigurationFactory.ParseString(node);
        if (o.ExtraHocon is not null) config = ConfigurationFactory.ParseString(o.ExtraHocon).WithFallback(config);
        return config.WithFallback(baseConfig).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    /// <param name="snapshotConnectionString">The snapshot store's database, if not the journal's.</param>
    private static string Plugins(string provider, string mapping, string connectionString, string? snapshotConnectionString, string? journalExtra)
    {
        string Common(string connection) => $"provider-name = \"{provider}\", table-mapping = {mapping}, connection-string = \"{Escape(connection)}\"";
        var journal = $"class = \"{typeof(LedgerJournal).AssemblyQualifiedName}\"" + (journalExtra is null ? "" : ", " + journalExtra);
        return $$"""
            akka.persistence.journal.sql { {{Common(connectionString)}}, {{journal}} }
            akka.persistence.query.journal.sql { {{Common(connectionString)}} }
            akka.persistence.snapshot-store.sql { {{Common(snapshotConnectionString ?? connectionString)}}, class = "{{typeof(LedgerSnapshotStore).AssemblyQualifiedName}}" }
            """;
    }

    public static string SqliteConnectionString(LedgerNodeOptions o, string file = "ledger.db") =>
        new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(Path.Combine(o.DataDir, file)),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

    /// <summary>Creates the data directory and the journal's database, and the ActorSystem.</summary>
    public static ActorSystem Start(LedgerNodeOptions o)
    {
        var config = BuildConfig(o);
        var setup = BootstrapSetup.Create().WithConfig(config);
        // Akka's default JSON serializer may only name types JsonTypeGuard allows.
        var actorSetup = ActorSystemSetup.Create(setup, NewtonSoftJsonSerializerSetup.Create(s => s.SerializationBinder = new JsonTypeGuard()));
        if (o.Journal == "sqlite")
        {
            Directory.CreateDirectory(o.DataDir);
            var cs = SqliteConnectionString(o);
            EnableWal(cs);
        }
        if (o.TlsCertificate is not null) actorSetup = actorSetup.And(Tls(o));
        var system = ActorSystem.Create(o.SystemName, actorSetup);
        if (o.Seeds.Count == 0)
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            cluster.Join(cluster.SelfAddress);
        }
        return system;
    }

    /// <summary>Mutual TLS pinned to known certificates: a peer is accepted only if its certificate's thumbprint is listed.</summary>
    private static DotNettySslSetup Tls(LedgerNodeOptions o)
    {
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(o.TlsCertificate!, o.TlsPassword);
        if (!certificate.HasPrivateKey) throw new ArgumentException($"{o.TlsCertificate} holds no private key");
        string[] peers = o.TlsPeers.Count > 0 ? [.. o.TlsPeers] : [certificate.Thumbprint];
        return new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true, CertificateValidation.PinnedCertificate(peers));
    }

    /// <summary>WAL is a property of the database file: set once, it stays.</summary>
    private static void EnableWal(string connectionString)
    {
        using var c = new SqliteConnection(connectionString);
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL;";
        cmd.ExecuteNonQuery();
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
