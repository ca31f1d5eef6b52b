using Akka.Persistence.Sql.Config;
using Npgsql;
using NpgsqlTypes;

namespace Ledger.Actors.Journal;

/// <summary>PostgreSQL: each transaction is one binary COPY (one round trip for all its rows).</summary>
public sealed class PostgresAppender(string connectionString, string? schema, string table, JournalTableColumnNames c) : JournalAppender
{
    private readonly string _copy =
        $"COPY {(schema is null ? "" : $"\"{schema}\".")}\"{table}\" {Columns(c)} FROM STDIN (FORMAT BINARY)";
    private NpgsqlConnection? _connection;

    protected override void WriteTransaction(IReadOnlyList<Write> writes)
    {
        if (_connection is null)
        {
            _connection = new NpgsqlConnection(connectionString);
            _connection.Open();
            using var create = new NpgsqlCommand(OwingIndex.Create, _connection);
            create.ExecuteNonQuery();
        }
        using var tx = _connection.BeginTransaction();
        using (var copy = _connection.BeginBinaryImport(_copy))
        {
            foreach (var row in writes.SelectMany(w => w.Rows))
            {
                copy.StartRow();
                copy.Write(row.Timestamp, NpgsqlDbType.Bigint);
                copy.Write(false, NpgsqlDbType.Boolean);
                copy.Write(row.PersistenceId, NpgsqlDbType.Varchar);
                copy.Write(row.SequenceNr, NpgsqlDbType.Bigint);
                copy.Write(row.Payload, NpgsqlDbType.Bytea);
                copy.Write(row.Manifest, NpgsqlDbType.Varchar);
                copy.Write(row.SerializerId, NpgsqlDbType.Integer);
            }
            copy.Complete();
        }
        if (OwingIndex.Net(writes) is { } marks)
        {
            using var command = new NpgsqlCommand(OwingIndex.PostgresClearAndMark, _connection, tx);
            var (clears, owes) = (marks.Where(m => m.Value.Clear is not null).ToList(), marks.Where(m => m.Value.Mark is not null).ToList());
            command.Parameters.AddWithValue("cp", clears.Select(m => m.Key).ToArray());
            command.Parameters.AddWithValue("cs", clears.Select(m => m.Value.Clear!.Value).ToArray());
            command.Parameters.AddWithValue("mp", owes.Select(m => m.Key).ToArray());
            command.Parameters.AddWithValue("ms", owes.Select(m => m.Value.Mark!.Value).ToArray());
            command.ExecuteNonQuery();
        }
        tx.Commit();
    }

    protected override bool IsConflict(Exception e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    protected override void Close()
    {
        _connection?.Dispose();
        _connection = null;
    }
}
