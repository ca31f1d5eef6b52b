using System.Threading.Channels;
using Akka.Configuration;
using Akka.Persistence.Sql.Config;

namespace Ledger.Actors.Journal;

/// <summary>
/// Appends journal rows on one dedicated thread: everything queued while the previous transaction committed goes
/// into the next one (group commit, at most <see cref="MaxRowsPerTransaction"/> rows), and every caller learns the
/// outcome of the transaction that holds its rows. If a transaction fails, each of its writes is tried again in a
/// transaction of its own when the failure was a conflict, so one bad write (a sequence number already taken by
/// another incarnation of the entity) fails alone. After any failure the connection is opened afresh.
/// <para>
/// A write may name earlier writes it depends on (<see cref="Write.After"/>: its entity acted on messages released before
/// they were durable). Queued after them, it is committed in the same transaction or a later one, so it never commits
/// without them; if one of them failed, it fails too, without being tried.
/// </para>
/// </summary>
public abstract class JournalAppender : IDisposable
{
    /// <summary>Rows per transaction at most: one commit covers them all; more would only lengthen the wait of the first.</summary>
    public const int MaxRowsPerTransaction = 1_000;

    /// <summary>
    /// Failed rows remembered for the writes that depend on them. Failures are rare (a database outage, a second
    /// incarnation of an entity); past this many, every write that depends on any other fails until the node restarts.
    /// </summary>
    public const int FailedRowsKept = 1_000_000;

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

        /// <summary>Writes queued before this one that must have committed for this one to commit (null: none).</summary>
        public WriteRef[]? After { get; set; }

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
    /// <summary>Rows whose write failed (the appender's thread only), and whether more failed than are kept.</summary>
    private readonly HashSet<WriteRef> _failed = [];
    private bool _failedOverflow;

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

    /// <summary>
    /// Completes when the rows are durable, in order with every other append; faults if they could not be written, or if a
    /// write in <paramref name="after"/> failed.
    /// </summary>
    public Task Append(IEnumerable<Row> rows, WriteRef[]? after = null)
    {
        var write = new TaskWrite { After = after };
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
            if (_failed.Count > 0 || _failedOverflow) batch = WithoutOrphans(batch);
            if (batch.Count == 0) continue;
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
                Fail(batch, e);
            }
        }
        Close();
    }

    /// <summary>The writes whose every dependency committed; the others fail here, untried.</summary>
    private List<Write> WithoutOrphans(List<Write> batch)
    {
        var kept = new List<Write>(batch.Count);
        foreach (var w in batch)
            if (!FailedOrphan(w)) kept.Add(w);
        return kept;
    }

    /// <summary>Fails the write, untried, if a write it depends on failed; whether it did.</summary>
    private bool FailedOrphan(Write w)
    {
        if (w.After is not { } after || !(_failedOverflow || after.Any(_failed.Contains))) return false;
        Fail([w], new InvalidOperationException("a write this one depends on failed"));
        return true;
    }

    /// <summary>Tells the writes they failed, and remembers their rows for the writes that depend on them.</summary>
    private void Fail(List<Write> writes, Exception failure)
    {
        foreach (var w in writes)
            foreach (var row in w.Rows)
                if (_failed.Count < FailedRowsKept) _failed.Add(new WriteRef(row.PersistenceId, row.SequenceNr));
                else _failedOverflow = true;
        Complete(writes, failure);
    }

    /// <summary>Tells every write of a transaction its outcome, off this thread so that the next transaction starts at once.</summary>
    private static void Complete(List<Write> writes, Exception? failure) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s =>
        {
            foreach (var w in s.writes) w.Completed(s.failure);
        }, (writes, failure), preferLocal: false);

    private void WriteAlone(Write w)
    {
        if (FailedOrphan(w)) return;
        try
        {
            Commit([w]);
            Complete([w], null);
        }
        catch (Exception e)
        {
            Fail([w], e);
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
