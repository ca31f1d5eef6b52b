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

namespace Ledger.Actors.Journal;

/// <summary>
/// The node's journal: Akka.Persistence.Sql for the schema, queries and deletes; appending events goes through a
/// <see cref="JournalAppender"/> (SQLite or PostgreSQL), and recovery's reads through a <see cref="JournalReader"/>.
/// The plugin builds each multi-row INSERT as SQL text with every payload inlined, through linq2db; profiled under load, that — not the
/// database — capped the journal at ~25,000–33,000 rows/s on this machine. Rows written here are the plugin's rows,
/// column for column (same serializer, manifest and timestamp rules), so the plugin reads them back unchanged.
/// Only what Ledger uses is supported: the tag-table mode without tags, no writer-uuid or event-manifest columns.
/// <para>
/// Entities' writes are answered here too, not by <see cref="AsyncWriteJournal"/>, whose write path puts a circuit
/// breaker (a timer and a cancellation source per write), three async state machines and a resequencer (one more
/// actor, two more messages per write) between every entity and the appender: 3.3 KB of the 12.2 KB the transfers
/// bench allocated per transfer. Each <see cref="WriteMessages"/> becomes one <see cref="JournalAppender.Write"/>;
/// once its transaction commits, the entity hears what the base class would have told it, in the same order (the
/// batch's outcome, then each event's). A write not durable within the breaker's <c>call-timeout</c> fails as it
/// did through the breaker: the entity stops, and its next incarnation reads the journal once that write has ended.
/// </para>
/// </summary>
public sealed class LedgerJournal : SqlWriteJournal, IDisposable
{
    private readonly JournalAppender _appender;
    private readonly JournalReader _reader;
    private readonly string _defaultSerializer;
    /// <summary>The write in flight of each entity (at most one: an entity sends its next only once told the outcome).</summary>
    private readonly ConcurrentDictionary<string, EntityWrite> _writing = new();
    private readonly TimeSpan _callTimeout;
    private ICancelable? _overdueCheck;

    public LedgerJournal(Config journalConfig) : base(journalConfig)
    {
        var config = new JournalConfig(journalConfig.WithFallback(SqlPersistence.DefaultJournalConfiguration));
        var table = config.TableConfig.EventJournalTable;
        if (config.PluginConfig.TagMode != TagMode.TagTable || table.UseWriterUuidColumn || config.TableConfig.UseEventManifestColumn)
            throw new ConfigurationException("LedgerJournal writes the tag-table layout only (tag-write-mode = TagTable, no writer-uuid or event-manifest column)");
        _defaultSerializer = config.DefaultSerializer;
        _callTimeout = journalConfig.GetTimeSpan("circuit-breaker.call-timeout", TimeSpan.FromSeconds(10));
        _appender = JournalAppender.For(config);
        _reader = JournalReader.For(config);
    }

    protected override void PreStart()
    {
        base.PreStart();
        var every = _callTimeout < TimeSpan.FromSeconds(1) ? _callTimeout : TimeSpan.FromSeconds(1);
        _overdueCheck = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(every, every, Self, CheckOverdue.Instance, ActorRefs.NoSender);
    }

    /// <summary>Entities' writes and the overdue check are handled here; everything else by the plugin (see the class summary).</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        switch (message)
        {
            case WriteMessages write:
                Append(write);
                return true;
            case OwingMark mark:
                _appender.Append(mark);
                return true;
            case CheckOverdue:
                var late = Environment.TickCount64 - (long)_callTimeout.TotalMilliseconds;
                foreach (var w in _writing.Values)
                    if (w.QueuedAt < late) w.Answer(new TimeoutException($"journal write for {w.PersistenceId} not durable within {_callTimeout}"));
                return true;
            default:
                return base.AroundReceive(receive, message);
        }
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken) =>
        throw new NotSupportedException("LedgerJournal answers WriteMessages itself");

    private void Append(WriteMessages message)
    {
        var now = DateTime.UtcNow.Ticks;
        var write = new EntityWrite(message, Self, _writing);
        foreach (var envelope in message.Messages)
        {
            if (envelope is not AtomicWrite atomic) continue;
            try
            {
                write.PersistenceId ??= atomic.PersistenceId;
                AddRows(atomic, now, write.Rows);
                foreach (var p in (IImmutableList<IPersistentRepresentation>)atomic.Payload)
                    if (p.Payload is IMarksOwing { MarksOwing: true }) write.Mark = new OwingMark(p.PersistenceId, p.SequenceNr, true);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A write that cannot be serialized is rejected alone (the entity hears OnPersistRejected).
                write.Reject(atomic, e);
            }
        }
        if (write.Rows.Count == 0)
        {
            write.Completed(null);
            return;
        }
        write.QueuedAt = Environment.TickCount64;
        _writing[write.PersistenceId!] = write;
        _appender.Append(write);
    }

    /// <summary>The rows of one atomic write, all or none: if any event cannot be written, none of its rows is added.</summary>
    private void AddRows(AtomicWrite write, long now, List<JournalAppender.Row> rows)
    {
        var first = rows.Count;
        try
        {
            foreach (var persistent in (IImmutableList<IPersistentRepresentation>)write.Payload)
            {
                var e = AdaptToJournal(persistent);
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
                rows.Add(new JournalAppender.Row(e.PersistenceId, e.SequenceNr, e.Timestamp == 0 ? now : e.Timestamp, bytes, manifest, serializer.Identifier));
            }
        }
        catch
        {
            rows.RemoveRange(first, rows.Count - first);
            throw;
        }
    }

    /// <summary>One entity's <see cref="WriteMessages"/>: its rows, and the replies owed once they are durable (or not).</summary>
    private sealed class EntityWrite(WriteMessages message, IActorRef journal, ConcurrentDictionary<string, EntityWrite> writing) : JournalAppender.Write
    {
        private Dictionary<AtomicWrite, Exception>? _rejected;
        private int _answered;
        /// <summary>Null while running; <see cref="Ended"/> once ended; or what a recovery waiting on it awaits (made only then: rare).</summary>
        private object? _end;
        private static readonly object Ended = new();

        public string? PersistenceId { get; set; }
        public long QueuedAt { get; set; }

        public void Reject(AtomicWrite write, Exception cause) => (_rejected ??= new(ReferenceEqualityComparer.Instance))[write] = cause;

        /// <summary>The transaction ended: the entity hears it (unless told of a timeout already), and a recovery waiting on it goes on.</summary>
        public override void Completed(Exception? failure)
        {
            if (PersistenceId is not null) writing.TryRemove(KeyValuePair.Create(PersistenceId, this));
            Answer(failure);
            (Interlocked.Exchange(ref _end, Ended) as TaskCompletionSource)?.SetResult();
        }

        /// <summary>Completes once the transaction holding this write has ended, however it ended.</summary>
        public Task Finished
        {
            get
            {
                var waited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return Interlocked.CompareExchange(ref _end, waited, null) switch
                {
                    null => waited.Task,
                    TaskCompletionSource other => other.Task,
                    _ => Task.CompletedTask,
                };
            }
        }

        /// <summary>Tells the entity the outcome, once: the batch's first, then each event's, in order.</summary>
        public void Answer(Exception? failure)
        {
            if (Interlocked.Exchange(ref _answered, 1) != 0) return;
            var actor = message.PersistentActor;
            var instance = message.ActorInstanceId;
            if (failure is null) actor.Tell(WriteMessagesSuccessful.Instance, journal);
            else actor.Tell(new WriteMessagesFailed(failure, message.Messages.Count(m => m is AtomicWrite)), journal);
            foreach (var envelope in message.Messages)
            {
                if (envelope is not AtomicWrite atomic)
                {
                    actor.Tell(new LoopMessageSuccess(envelope.Payload, instance), envelope.Sender);
                    continue;
                }
                var rejected = _rejected?.GetValueOrDefault(atomic);
                foreach (var p in (IImmutableList<IPersistentRepresentation>)atomic.Payload)
                    actor.Tell(failure is not null ? new WriteMessageFailure(p, failure, instance)
                        : rejected is not null ? new WriteMessageRejected(p, rejected, instance)
                        : new WriteMessageSuccess(p, instance), p.Sender);
            }
            // Akka.Persistence hands its batch list over with the write and starts a new one for the next. A list made
            // just after one write that outlives a young collection before the next is old when that write's events
            // are added to it in a young array; once the list is dropped, the dead old list still keeps the array and
            // every event and envelope in it alive through each young collection until the next gen-1 one (a heap dump
            // under the bench: 7,300 such lists, most of what dead objects held alive). Nothing reads the list now.
            if (message.Messages is List<IPersistentEnvelope> batch)
            {
                batch.Clear();
                batch.Capacity = 0;
            }
        }
    }

    private sealed class CheckOverdue
    {
        public static readonly CheckOverdue Instance = new();
    }

    /// <summary>A recovering entity reads its highest sequence number only after its own writes in flight have finished.</summary>
    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        if (_writing.TryGetValue(persistenceId, out var inFlight)) await inFlight.Finished.ConfigureAwait(false);
        return await _reader.HighestSequenceNr(persistenceId, fromSequenceNr, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Recovery reads the rows itself (<see cref="JournalReader"/>) and rebuilds what the plugin would hand over.</summary>
    public override Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        var serialization = context.System.Serialization;
        return _reader.Replay(persistenceId, fromSequenceNr, toSequenceNr, max, row =>
        {
            var payload = JournalReader.Deserialize(serialization, row.Payload, row.SerializerId, row.Manifest, _defaultSerializer);
            recoveryCallback(new Persistent(payload, row.SequenceNr, persistenceId, row.Manifest, false, ActorRefs.NoSender, null, row.Timestamp));
        }, CancellationToken.None);
    }

    protected override void PostStop()
    {
        _overdueCheck?.Cancel();
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

    /// <summary>
    /// Rows that succeed or fail together, and what to do once their transaction has committed or failed
    /// (<see cref="Completed"/>, called once, on a pool thread: never on the appender's own).
    /// </summary>
    public abstract class Write
    {
        /// <summary>
        /// Sized for one row, the usual write of an entity (one event, or a group commit's events in one row): a list's
        /// first size of four was most of what a write allocated.
        /// </summary>
        public List<Row> Rows { get; } = new(1);

        /// <summary>An entity's change to the <see cref="OwingIndex"/>, made in the same transaction as the rows.</summary>
        public OwingMark? Mark { get; set; }

        public abstract void Completed(Exception? failure);
    }

    /// <summary>A mark alone: nobody waits for it (a lost clear only starts an entity once more after a crash).</summary>
    private sealed class MarkWrite : Write
    {
        public override void Completed(Exception? failure)
        {
        }
    }

    public void Append(OwingMark mark) => Append(new MarkWrite { Mark = mark });

    private sealed class TaskWrite : Write
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Completed(Exception? failure)
        {
            if (failure is null) Done.SetResult();
            else Done.SetException(failure);
        }
    }

    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;

    protected JournalAppender()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "ledger-appender" };
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
    public Task Append(IEnumerable<Row> rows)
    {
        var write = new TaskWrite();
        write.Rows.AddRange(rows);
        Append(write);
        return write.Done.Task;
    }

    /// <summary>Queues the write; it is told its outcome once durable, in order with every other append.</summary>
    public void Append(Write write)
    {
        if (!_queue.Writer.TryWrite(write)) Complete([write], new ObjectDisposedException(GetType().Name));
    }

    /// <summary>The columns every appender writes, in the order of <see cref="Row"/>'s values (deleted after created).</summary>
    protected static string Columns(JournalTableColumnNames c) =>
        $"(\"{c.Created}\", \"{c.Deleted}\", \"{c.PersistenceId}\", \"{c.SequenceNumber}\", \"{c.Message}\", \"{c.Manifest}\", \"{c.Identifier}\")";

    /// <summary>Writes the rows in one transaction, committed and durable on return; throws if it was not.</summary>
    protected abstract void WriteTransaction(IReadOnlyList<Write> writes);

    /// <summary>
    /// Whether the failure is one row colliding with a stored one (so the other writes of the transaction may be
    /// fine); any other failure (the database is down, the disk is full) fails the whole transaction at once.
    /// </summary>
    protected abstract bool IsConflict(Exception e);

    /// <summary>Closes the connection; the next <see cref="WriteTransaction"/> opens a new one.</summary>
    protected abstract void Close();

    private void Run()
    {
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            var batch = new List<Write>();
            var rows = 0;
            while (rows < MaxRowsPerTransaction && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
                rows += next.Rows.Count;
            }
            try
            {
                Commit(batch);
                Complete(batch, null);
            }
            catch (Exception e) when (batch.Count > 1 && IsConflict(e))
            {
                foreach (var w in batch) WriteAlone(w);
            }
            catch (Exception e)
            {
                Complete(batch, e);
            }
        }
        Close();
    }

    /// <summary>Tells every write of a transaction its outcome, off this thread so that the next transaction starts at once.</summary>
    private static void Complete(List<Write> writes, Exception? failure) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s =>
        {
            foreach (var w in s.writes) w.Completed(s.failure);
        }, (writes, failure), preferLocal: false);

    private void WriteAlone(Write w)
    {
        try
        {
            Commit([w]);
            Complete([w], null);
        }
        catch (Exception e)
        {
            Complete([w], e);
        }
    }

    private void Commit(List<Write> batch)
    {
        try
        {
            WriteTransaction(batch);
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
        Stopped();
        GC.SuppressFinalize(this);
    }

    /// <summary>Once the last transaction is written: stops whatever else the appender runs.</summary>
    protected virtual void Stopped()
    {
    }
}

/// <summary>
/// SQLite: one prepared INSERT, executed per row inside the transaction (in-process, so no round trips). Rows are bound
/// through SQLitePCL directly: Microsoft.Data.Sqlite's parameters allocate a binder per value and execution (4 % of all
/// the node allocated in the transfers bench), on the thread every write waits for.
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
            // start again. The size was chosen when this checkpoint copied the whole WAL (transfers bench, 60 s: 1,000
            // pages, the default, 13,700/s; 10,000, 15,500/s; 40,000, 18,000/s); with the checkpointer doing most of
            // the copying, 10,000 and 160,000 pages were no better (docs/benchmarks.md, sixth session).
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
    /// every write for 30 ms at the start of a transfers bench and 140 ms at its end (the database grows, and with it
    /// the pages each checkpoint copies); with it, 20–40 ms throughout.
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
