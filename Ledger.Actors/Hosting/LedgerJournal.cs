using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Journal;
using Akka.Serialization;
using Akka.Util;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using SQLitePCL;

namespace Ledger.Actors.Hosting;

/// <summary>
/// The node's journal: Akka.Persistence.Sql for everything (schema, recovery, queries, deletes) except appending
/// events, which goes through a <see cref="JournalAppender"/> (SQLite or PostgreSQL). The plugin builds each
/// multi-row INSERT as SQL text with every payload inlined, through linq2db; profiled under load, that — not the
/// database — capped the journal at ~25,000–33,000 rows/s on this machine. Rows written here are the plugin's rows,
/// column for column (same serializer, manifest and timestamp rules), so the plugin reads them back unchanged.
/// Only what Ledger uses is supported: the tag-table mode without tags, no writer-uuid or event-manifest columns.
/// </summary>
public sealed class LedgerJournal : SqlWriteJournal, IDisposable
{
    private readonly JournalAppender _appender;
    private readonly string _defaultSerializer;
    private readonly ConcurrentDictionary<string, Task> _writing = new();

    public LedgerJournal(Config journalConfig) : base(journalConfig)
    {
        var config = new JournalConfig(journalConfig.WithFallback(SqlPersistence.DefaultJournalConfiguration));
        var table = config.TableConfig.EventJournalTable;
        if (config.PluginConfig.TagMode != TagMode.TagTable || table.UseWriterUuidColumn || config.TableConfig.UseEventManifestColumn)
            throw new ConfigurationException("LedgerJournal writes the tag-table layout only (tag-write-mode = TagTable, no writer-uuid or event-manifest column)");
        _defaultSerializer = config.DefaultSerializer;
        _appender = JournalAppender.For(config);
    }

    protected override async Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages as IReadOnlyList<AtomicWrite> ?? [.. messages];
        var now = DateTime.UtcNow.Ticks;
        var rows = new List<JournalAppender.Row>(writes.Count);
        Exception[]? rejected = null;
        for (var i = 0; i < writes.Count; i++)
        {
            try
            {
                rows.AddRange(Rows(writes[i], now));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A write that cannot be serialized is rejected alone (the entity hears OnPersistRejected).
                (rejected ??= new Exception[writes.Count])[i] = e;
            }
        }
        if (rows.Count > 0)
        {
            var persistenceId = writes[0].PersistenceId;
            var written = _appender.Append(rows);
            _writing[persistenceId] = written;
            _ = written.ContinueWith(t => _writing.TryRemove(KeyValuePair.Create(persistenceId, t)), TaskScheduler.Default);
            await written.ConfigureAwait(false);
        }
        return rejected is null ? null! : [.. rejected];
    }

    private JournalAppender.Row[] Rows(AtomicWrite write, long now)
    {
        var events = (IImmutableList<IPersistentRepresentation>)write.Payload;
        var rows = new JournalAppender.Row[events.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var e = events[i];
            if (e.Payload is Tagged) throw new NotSupportedException("LedgerJournal does not write tagged events");
            var serializer = Context.System.Serialization.FindSerializerForType(e.Payload.GetType(), _defaultSerializer);
            var manifest = serializer switch
            {
                SerializerWithStringManifest named => named.Manifest(e.Payload),
                { IncludeManifest: true } => e.Payload.GetType().TypeQualifiedName(),
                _ => string.Empty,
            };
            // As the plugin does: actor references inside a payload serialize with this node's address.
            var bytes = Akka.Serialization.Serialization.WithTransport((ExtendedActorSystem)Context.System, (serializer, e.Payload), static s => s.serializer.ToBinary(s.Payload));
            rows[i] = new JournalAppender.Row(e.PersistenceId, e.SequenceNr, e.Timestamp == 0 ? now : e.Timestamp, bytes, manifest, serializer.Identifier);
        }
        return rows;
    }

    /// <summary>A recovering entity reads its highest sequence number only after its own writes in flight have finished.</summary>
    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        if (_writing.TryGetValue(persistenceId, out var inFlight)) await Task.WhenAny(inFlight).ConfigureAwait(false);
        return await base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken).ConfigureAwait(false);
    }

    protected override void PostStop()
    {
        _appender.Dispose();
        base.PostStop();
    }

    public void Dispose() => _appender.Dispose();
}

/// <summary>
/// Appends journal rows on one dedicated thread: everything queued while the previous transaction committed goes
/// into the next one (group commit, at most <see cref="MaxRowsPerTransaction"/> rows), and every caller learns the
/// outcome of the transaction that holds its rows. If a transaction fails, each of its writes is tried again in a
/// transaction of its own when the failure was a conflict, so one bad write (a sequence number already taken by
/// another incarnation of the entity) fails alone. After any failure the connection is opened afresh.
/// </summary>
public abstract class JournalAppender : IDisposable
{
    /// <summary>Rows per transaction at most: one commit covers them all; more would only lengthen the wait of the first.</summary>
    public const int MaxRowsPerTransaction = 1_000;

    public readonly record struct Row(string PersistenceId, long SequenceNr, long Timestamp, byte[] Payload, string Manifest, int SerializerId);

    private sealed record Pending(IReadOnlyList<Row> Rows, TaskCompletionSource Done);

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;

    protected JournalAppender()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "ledger-journal-appender" };
        _thread.Start();
    }

    /// <summary>The appender for the plugin's configured database and event table.</summary>
    public static JournalAppender For(JournalConfig config)
    {
        var table = config.TableConfig.EventJournalTable;
        return config.ProviderName.Contains("SQLite", StringComparison.OrdinalIgnoreCase)
            ? new SqliteAppender(config.ConnectionString, table.Name, table.ColumnNames)
            : config.ProviderName.Contains("PostgreSQL", StringComparison.OrdinalIgnoreCase)
                ? new PostgresAppender(config.ConnectionString, config.TableConfig.SchemaName, table.Name, table.ColumnNames)
                : throw new ConfigurationException($"LedgerJournal appends to SQLite or PostgreSQL, not {config.ProviderName}");
    }

    /// <summary>Completes when the rows are durable, in order with every other append; faults if they could not be written.</summary>
    public Task Append(IReadOnlyList<Row> rows)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Pending(rows, done))) done.SetException(new ObjectDisposedException(GetType().Name));
        return done.Task;
    }

    /// <summary>The columns every appender writes, in the order of <see cref="Row"/>'s values (deleted after created).</summary>
    protected static string Columns(JournalTableColumnNames c) =>
        $"(\"{c.Created}\", \"{c.Deleted}\", \"{c.PersistenceId}\", \"{c.SequenceNumber}\", \"{c.Message}\", \"{c.Manifest}\", \"{c.Identifier}\")";

    /// <summary>Writes the rows in one transaction, committed and durable on return; throws if it was not.</summary>
    protected abstract void WriteTransaction(IEnumerable<Row> rows);

    /// <summary>
    /// Whether the failure is one row colliding with a stored one (so the other writes of the transaction may be
    /// fine); any other failure (the database is down, the disk is full) fails the whole transaction at once.
    /// </summary>
    protected abstract bool IsConflict(Exception e);

    /// <summary>Closes the connection; the next <see cref="WriteTransaction"/> opens a new one.</summary>
    protected abstract void Close();

    private void Run()
    {
        var batch = new List<Pending>();
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            var rows = 0;
            while (rows < MaxRowsPerTransaction && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
                rows += next.Rows.Count;
            }
            try
            {
                Write(batch);
                foreach (var p in batch) p.Done.TrySetResult();
            }
            catch (Exception e) when (batch.Count > 1 && IsConflict(e))
            {
                foreach (var p in batch) WriteAlone(p);
            }
            catch (Exception e)
            {
                foreach (var p in batch) p.Done.TrySetException(e);
            }
        }
        Close();
    }

    private void WriteAlone(Pending p)
    {
        try
        {
            Write([p]);
            p.Done.TrySetResult();
        }
        catch (Exception e)
        {
            p.Done.TrySetException(e);
        }
    }

    private void Write(List<Pending> batch)
    {
        try
        {
            WriteTransaction(batch.SelectMany(p => p.Rows));
        }
        catch
        {
            Close();
            throw;
        }
    }

    /// <summary>Stops taking rows; what is queued is still written, then the connection closes.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _thread.Join(TimeSpan.FromSeconds(10));
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// SQLite: one prepared INSERT, executed per row inside the transaction (in-process, so no round trips). Rows are bound
/// through SQLitePCL directly: Microsoft.Data.Sqlite's parameters allocate a binder per value and execution (4 % of all
/// the node allocated in the transfers bench), on the thread every write waits for.
/// </summary>
public sealed class SqliteAppender(string connectionString, string table, JournalTableColumnNames c) : JournalAppender
{
    /// <summary>WAL size, in 4 KiB pages (160 MiB), at which the appender checkpoints it into the database file.</summary>
    public const int WalPagesBeforeCheckpoint = 40_000;

    private readonly string _insert = $"INSERT INTO \"{table}\" {Columns(c)} VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6)";
    private SqliteConnection? _connection;
    private sqlite3_stmt? _statement;
    /// <summary>UTF-8 of the text values; SQLite copies what is bound, so one buffer serves them all.</summary>
    private byte[] _utf8 = new byte[256];

    protected override void WriteTransaction(IEnumerable<Row> rows)
    {
        var insert = Statement();
        using var tx = _connection!.BeginTransaction();
        foreach (var row in rows)
        {
            raw.sqlite3_bind_int64(insert, 1, row.Timestamp);
            raw.sqlite3_bind_text(insert, 2, Utf8(row.PersistenceId));
            raw.sqlite3_bind_int64(insert, 3, row.SequenceNr);
            raw.sqlite3_bind_blob(insert, 4, row.Payload);
            raw.sqlite3_bind_text(insert, 5, Utf8(row.Manifest));
            raw.sqlite3_bind_int64(insert, 6, row.SerializerId);
            var rc = raw.sqlite3_step(insert);
            raw.sqlite3_reset(insert);
            if (rc != raw.SQLITE_DONE) throw Failure(rc);
        }
        tx.Commit();
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
            // Durable on commit: the WAL is fsynced before a write is acknowledged. The WAL is copied into the
            // database (a checkpoint, run here after a commit) once it holds WalPagesBeforeCheckpoint pages: each
            // commit rewrites the same hot index pages, and a checkpoint copies each page once however often it
            // was rewritten, so a larger WAL means less copying per row (transfers bench, 60 s: 1,000 pages, the
            // default, 13,700/s; 10,000, 15,500/s; 40,000, 18,000/s).
            pragma.CommandText = $"PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = {WalPagesBeforeCheckpoint};";
            pragma.ExecuteNonQuery();
        }
        var rc = raw.sqlite3_prepare_v2(_connection.Handle, _insert, out var statement);
        if (rc != raw.SQLITE_OK)
        {
            statement.Dispose();
            throw Failure(rc);
        }
        return _statement = statement;
    }

    protected override bool IsConflict(Exception e) => e is SqliteException { SqliteErrorCode: 19 }; // SQLITE_CONSTRAINT

    protected override void Close()
    {
        _statement?.Dispose();
        _statement = null;
        _connection?.Dispose();
        _connection = null;
    }
}

/// <summary>PostgreSQL: each transaction is one binary COPY (one round trip for all its rows).</summary>
public sealed class PostgresAppender(string connectionString, string? schema, string table, JournalTableColumnNames c) : JournalAppender
{
    private readonly string _copy =
        $"COPY {(schema is null ? "" : $"\"{schema}\".")}\"{table}\" {Columns(c)} FROM STDIN (FORMAT BINARY)";
    private NpgsqlConnection? _connection;

    protected override void WriteTransaction(IEnumerable<Row> rows)
    {
        if (_connection is null)
        {
            _connection = new NpgsqlConnection(connectionString);
            _connection.Open();
        }
        using var tx = _connection.BeginTransaction();
        using (var copy = _connection.BeginBinaryImport(_copy))
        {
            foreach (var row in rows)
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
        tx.Commit();
    }

    protected override bool IsConflict(Exception e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    protected override void Close()
    {
        _connection?.Dispose();
        _connection = null;
    }
}
