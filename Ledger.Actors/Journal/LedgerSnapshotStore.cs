using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Snapshot;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ledger.Actors.Journal;

/// <summary>
/// Akka.Persistence.Sql's snapshot store, but a recovery's "latest snapshot" is one plain query on a pooled connection,
/// as <see cref="JournalReader"/> reads events: through the plugin's linq2db layer it was one of the three queries that
/// made a read-back slow (docs/benchmarks.md, "After a crash").
/// Saves, deletes and selections by sequence number or time stay the plugin's.
/// </summary>
public sealed class LedgerSnapshotStore : SqlSnapshotStore
{
    private readonly Func<System.Data.Common.DbConnection> _connect;
    private readonly string _latest;
    private readonly Akka.Serialization.Serialization _serialization;
    private readonly string _defaultSerializer;

    public LedgerSnapshotStore(Config snapshotConfig) : base(snapshotConfig)
    {
        _serialization = Context.System.Serialization;
        var config = new SnapshotConfig(snapshotConfig.WithFallback(SqlPersistence.DefaultSnapshotConfiguration));
        _defaultSerializer = config.DefaultSerializer;
        var table = config.TableConfig.SnapshotTable;
        var c = table.ColumnNames;
        var cs = config.ConnectionString;
        var sqlite = config.ProviderName.Contains("SQLite", StringComparison.OrdinalIgnoreCase);
        _connect = sqlite ? () => new SqliteConnection(cs) : () => new NpgsqlConnection(cs);
        var name = (sqlite || config.TableConfig.SchemaName is null ? "" : $"\"{config.TableConfig.SchemaName}\".") + $"\"{table.Name}\"";
        _latest = $"SELECT \"{c.SequenceNumber}\", \"{c.Created}\", \"{c.Snapshot}\", \"{c.Manifest}\", \"{c.SerializerId}\" FROM {name} " +
            $"WHERE \"{c.PersistenceId}\" = @pid ORDER BY \"{c.SequenceNumber}\" DESC LIMIT 1";
    }

    protected override Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken) =>
        criteria.MaxSequenceNr == long.MaxValue && criteria.MaxTimeStamp == DateTime.MaxValue && criteria.MinSequenceNr == 0
        && criteria.MinTimestamp is null or { Ticks: 0 }
            ? Task.Run(() => Latest(persistenceId, cancellationToken), cancellationToken)
            : base.LoadAsync(persistenceId, criteria, cancellationToken);

    private async Task<SelectedSnapshot?> Latest(string persistenceId, CancellationToken ct)
    {
        await using var connection = _connect();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = _latest;
        var p = command.CreateParameter();
        p.ParameterName = "pid";
        p.Value = persistenceId;
        command.Parameters.Add(p);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        var created = reader.GetValue(1) switch
        {
            long ticks => new DateTime(ticks),
            DateTime at => at,
            var other => throw new InvalidOperationException($"snapshot created column holds {other.GetType().Name}"),
        };
        var (bytes, manifest) = ((byte[])reader.GetValue(2), reader.GetString(3));
        // Read off the store's thread: only what was captured at construction is used here.
        var snapshot = JournalReader.Deserialize(_serialization, bytes, reader.IsDBNull(4) ? null : reader.GetInt32(4), manifest, _defaultSerializer);
        return new SelectedSnapshot(new SnapshotMetadata(persistenceId, reader.GetInt64(0), created), snapshot);
    }
}
