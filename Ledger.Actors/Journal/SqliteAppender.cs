using System.Text;
using Akka.Persistence.Sql.Config;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Ledger.Actors.Journal;

/// <summary>
/// SQLite: one prepared INSERT, executed per row inside the transaction (in-process, so no round trips). Rows are bound
/// through SQLitePCL directly: Microsoft.Data.Sqlite's parameters allocate a binder per value and execution, on the
/// thread every write waits for.
/// </summary>
public sealed class SqliteAppender(string connectionString, string table, JournalTableColumnNames c) : JournalAppender
{
    /// <summary>
    /// WAL size, in 4 KiB pages (160 MiB), at which the appender checkpoints what the checkpointer has not copied yet,
    /// so that its next transaction starts the WAL again from its beginning.
    /// </summary>
    public const int WalPagesBeforeCheckpoint = 40_000;

    /// <summary>How often the checkpointer copies the WAL into the database while it is less than half full.</summary>
    public static readonly TimeSpan CheckpointEvery = TimeSpan.FromMilliseconds(100);

    private readonly ManualResetEventSlim _stop = new();
    private Thread? _checkpointer;

    private readonly string _insert = $"INSERT INTO \"{table}\" {Columns(c)} VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6)";
    private SqliteConnection? _connection;
    private sqlite3_stmt? _statement, _mark, _clear;
    /// <summary>UTF-8 of the text values; SQLite copies what is bound, so one buffer serves them all.</summary>
    private byte[] _utf8 = new byte[256];

    protected override void WriteTransaction(IReadOnlyList<Write> writes)
    {
        var insert = Statement();
        using var tx = _connection!.BeginTransaction();
        foreach (var write in writes)
            foreach (var row in write.Rows)
            {
                raw.sqlite3_bind_int64(insert, 1, row.Timestamp);
                raw.sqlite3_bind_text(insert, 2, Utf8(row.PersistenceId));
                raw.sqlite3_bind_int64(insert, 3, row.SequenceNr);
                raw.sqlite3_bind_blob(insert, 4, row.Payload);
                raw.sqlite3_bind_text(insert, 5, Utf8(row.Manifest));
                raw.sqlite3_bind_int64(insert, 6, row.SerializerId);
                Step(insert);
            }
        if (OwingIndex.Net(writes) is { } marks)
            foreach (var (pid, (clear, mark)) in marks)
            {
                if (clear is { } c) Step(_clear!, pid, c);
                if (mark is { } m) Step(_mark!, pid, m);
            }
        tx.Commit();
    }

    private void Step(sqlite3_stmt statement, string persistenceId, long sequenceNr)
    {
        raw.sqlite3_bind_text(statement, 1, Utf8(persistenceId));
        raw.sqlite3_bind_int64(statement, 2, sequenceNr);
        Step(statement);
    }

    private void Step(sqlite3_stmt statement)
    {
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE) throw Failure(rc);
    }

    private ReadOnlySpan<byte> Utf8(string text)
    {
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (most > _utf8.Length) _utf8 = new byte[most];
        return _utf8.AsSpan(0, Encoding.UTF8.GetBytes(text, _utf8));
    }

    /// <summary>As Microsoft.Data.Sqlite reports it, so <see cref="IsConflict"/> reads it alike.</summary>
    private SqliteException Failure(int rc) =>
        new(raw.sqlite3_errmsg(_connection!.Handle).utf8_to_string(), rc & 0xFF, raw.sqlite3_extended_errcode(_connection.Handle));

    private sqlite3_stmt Statement()
    {
        if (_statement is not null) return _statement;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        using (var pragma = _connection.CreateCommand())
        {
            // Durable on commit: the WAL is fsynced before a write is acknowledged. Once it holds
            // WalPagesBeforeCheckpoint pages, the appender checkpoints it here after a commit, which lets the WAL
            // start again; the size is measured in docs/benchmarks.md ("The journal's own append path").
            pragma.CommandText = $"PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = {WalPagesBeforeCheckpoint}; {OwingIndex.SqliteCreate};";
            pragma.ExecuteNonQuery();
        }
        if (_checkpointer is null)
        {
            _checkpointer = new Thread(CheckpointContinually) { IsBackground = true, Name = "ledger-checkpointer" };
            _checkpointer.Start();
        }
        _mark = Prepare(OwingIndex.SqliteMark);
        _clear = Prepare(OwingIndex.SqliteClear);
        return _statement = Prepare(_insert);
    }

    private sqlite3_stmt Prepare(string sql)
    {
        var rc = raw.sqlite3_prepare_v2(_connection!.Handle, sql, out var statement);
        if (rc == raw.SQLITE_OK) return statement;
        statement.Dispose();
        throw Failure(rc);
    }

    protected override bool IsConflict(Exception e) => e is SqliteException { SqliteErrorCode: 19 }; // SQLITE_CONSTRAINT

    /// <summary>
    /// Copies the WAL into the database beside the appender (a passive checkpoint, on a connection of its own, which
    /// never holds the appender up): every <see cref="CheckpointEvery"/>, and back to back once the WAL is half of
    /// <see cref="WalPagesBeforeCheckpoint"/>. The appender's own checkpoint at that size then finds little left to copy
    /// and restarts the WAL (which only the writer can). Without this the appender copied the whole WAL itself, holding
    /// every write up the longer the more the database grew.
    /// </summary>
    private void CheckpointContinually()
    {
        using var connection = new SqliteConnection(connectionString);
        using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA synchronous = FULL; PRAGMA wal_checkpoint(PASSIVE);";
        long walPages = 0;
        while (!_stop.Wait(walPages >= WalPagesBeforeCheckpoint / 2 ? TimeSpan.FromMilliseconds(1) : CheckpointEvery))
        {
            try
            {
                if (connection.State != System.Data.ConnectionState.Open) connection.Open();
                using var result = checkpoint.ExecuteReader();
                walPages = result.Read() ? result.GetInt64(1) : 0;
            }
            catch (SqliteException)
            {
                // The appender's own checkpoint still runs; try again on the next round.
                connection.Close();
                walPages = 0;
            }
        }
    }

    protected override void Stopped()
    {
        _stop.Set();
        _checkpointer?.Join(TimeSpan.FromSeconds(10));
    }

    protected override void Close()
    {
        _mark?.Dispose();
        _clear?.Dispose();
        _mark = _clear = null;
        _statement?.Dispose();
        _statement = null;
        _connection?.Dispose();
        _connection = null;
    }
}
