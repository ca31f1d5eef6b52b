using System.Data.Common;
using Akka.Persistence.Sql.Config;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ledger.Actors.Journal;

/// <summary>
/// Reads an entity's rows back for its recovery with one plain query (and its highest sequence number with another),
/// on a pooled connection of the journal's database, off the journal actor's thread. The plugin's own path builds
/// each query through linq2db and runs each replay as an Akka stream, too slow when, after a crash, hundreds of
/// accounts and their payees read back at once (docs/benchmarks.md, "After a crash").
/// </summary>
public sealed class JournalReader(Func<DbConnection> connect, Action<DbConnection> clearPool, string table, JournalTableColumnNames c)
{
    private readonly string _replay =
        $"SELECT \"{c.SequenceNumber}\", \"{c.Message}\", \"{c.Manifest}\", \"{c.Identifier}\", \"{c.Created}\" FROM {table} " +
        $"WHERE \"{c.PersistenceId}\" = @pid AND \"{c.SequenceNumber}\" >= @from AND \"{c.SequenceNumber}\" <= @to AND \"{c.Deleted}\" = @deleted " +
        $"ORDER BY \"{c.SequenceNumber}\" LIMIT @max";

    private readonly string _firstOfOwing =
        $"SELECT j.\"{c.SequenceNumber}\", j.\"{c.Message}\", j.\"{c.Manifest}\", j.\"{c.Identifier}\", j.\"{c.Created}\" " +
        $"FROM {table} j JOIN {OwingIndex.Table} o ON o.persistence_id = j.\"{c.PersistenceId}\" " +
        $"WHERE substr(o.persistence_id, 1, @length) = @prefix AND j.\"{c.SequenceNumber}\" = 1";

    private readonly string _ids = $"SELECT DISTINCT \"{c.PersistenceId}\" FROM {table}";

    private readonly string _highest =
        $"SELECT max(\"{c.SequenceNumber}\") FROM {table} WHERE \"{c.PersistenceId}\" = @pid AND \"{c.SequenceNumber}\" >= @from";

    /// <summary>The reader for the plugin's configured database and event table.</summary>
    public static JournalReader For(JournalConfig config)
    {
        var table = config.TableConfig.EventJournalTable;
        var (cs, schema) = (config.ConnectionString, config.TableConfig.SchemaName);
        return config.ProviderName.Contains("SQLite", StringComparison.OrdinalIgnoreCase)
            ? new JournalReader(() => new SqliteConnection(cs), c => SqliteConnection.ClearPool((SqliteConnection)c), $"\"{table.Name}\"", table.ColumnNames)
            : new JournalReader(() => new NpgsqlConnection(cs), c => NpgsqlConnection.ClearPool((NpgsqlConnection)c),
                (schema is null ? "" : $"\"{schema}\".") + $"\"{table.Name}\"", table.ColumnNames);
    }

    /// <summary>
    /// A stored payload as the plugin reads it back: by its serializer id and manifest, or — for rows written without an
    /// id — by the type the manifest names.
    /// </summary>
    public static object Deserialize(Akka.Serialization.Serialization serialization, byte[] bytes, int? serializerId, string manifest, string defaultSerializer)
    {
        if (serializerId is { } id) return serialization.Deserialize(bytes, id, manifest);
        var type = Type.GetType(manifest, throwOnError: true)!;
        return serialization.FindSerializerForType(type, defaultSerializer).FromBinary(bytes, type);
    }

    public readonly record struct Row(long SequenceNr, byte[] Payload, string Manifest, int? SerializerId, long Timestamp);

    /// <summary>The entity's rows not deleted from <paramref name="from"/> to <paramref name="to"/>, at most <paramref name="max"/>, in order.</summary>
    public Task Replay(string persistenceId, long from, long to, long max, Action<Row> each, CancellationToken ct) => Run(async connection =>
    {
        await using var command = Command(connection, _replay, persistenceId, from);
        Add(command, "to", to);
        Add(command, "deleted", false);
        Add(command, "max", Math.Min(max, int.MaxValue));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            each(Read(reader));
        return 0L;
    }, ct);

    /// <summary>The entity's highest sequence number from <paramref name="from"/> on (deleted rows count), or 0.</summary>
    public Task<long> HighestSequenceNr(string persistenceId, long from, CancellationToken ct) => Run(async connection =>
    {
        await using var command = Command(connection, _highest, persistenceId, from);
        return await command.ExecuteScalarAsync(ct) is { } v and not DBNull ? Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) : 0L;
    }, ct);

    /// <summary>Every entity with a row in the journal (the offline audit reads them all).</summary>
    public Task PersistenceIds(Action<string> each, CancellationToken ct) => Run(async connection =>
    {
        await using var command = connection.CreateCommand();
        command.CommandText = _ids;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            each(reader.GetString(0));
        return 0L;
    }, ct);

    /// <summary>The first row of every entity the owing index lists whose persistence id starts with <paramref name="prefix"/>.</summary>
    public Task FirstRowsOfOwing(string prefix, Action<Row> each, CancellationToken ct) => Run(async connection =>
    {
        await using var command = connection.CreateCommand();
        command.CommandText = _firstOfOwing;
        Add(command, "prefix", prefix);
        Add(command, "length", prefix.Length);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            each(Read(reader));
        return 0L;
    }, ct);

    /// <summary>On a pooled connection, off the caller's thread; a failure empties the pool, whose other connections died with the database.</summary>
    private Task<long> Run(Func<DbConnection, Task<long>> read, CancellationToken ct) => Task.Run(async () =>
    {
        await using var connection = connect();
        try
        {
            await connection.OpenAsync(ct);
            return await read(connection);
        }
        catch (DbException)
        {
            clearPool(connection);
            throw;
        }
    }, ct);

    /// <summary>A row of the columns both reads select, in the same order.</summary>
    private static Row Read(DbDataReader reader) =>
        new(reader.GetInt64(0), (byte[])reader.GetValue(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.GetInt64(4));

    private static DbCommand Command(DbConnection connection, string sql, string persistenceId, long from)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        Add(command, "pid", persistenceId);
        Add(command, "from", from);
        return command;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }
}
