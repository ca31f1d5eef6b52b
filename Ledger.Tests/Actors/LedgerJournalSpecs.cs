using System.Data.Common;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Sagas;
using Ledger.Contracts.Sagas;
using Ledger.Host.Bench;
using Ledger.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ledger.Tests.Actors;

/// <summary>
/// The journal's own append path (<see cref="LedgerJournal"/>), on each database: what it appends,
/// Akka.Persistence.Sql reads back in order, however many entities write at once; a write that collides with a row
/// already there fails alone while the writes beside it land.
/// </summary>
public abstract class LedgerJournalSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    protected string DataDir { get; } = Ports.TempDir("ledger-journal");
    private ActorSystem _system = null!;

    protected abstract LedgerNodeOptions Options();

    protected abstract DbConnection OpenDatabase();

    /// <summary>Holds the event table's write lock until disposed: appends wait behind it.</summary>
    protected abstract IDisposable LockEventTable();

    public virtual Task InitializeAsync()
    {
        _system = Start();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        await _system.Terminate().WaitAsync(Wait);
        Directory.Delete(DataDir, recursive: true);
    }

    private ActorSystem Start() => LedgerNode.Start(Options() with
    {
        Port = Ports.Free(),
        ExtraHocon = $"akka.loglevel = WARNING\nakka.persistence.journal.sql.circuit-breaker.call-timeout = {CallTimeout.TotalSeconds}s",
    });

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Events_written_by_many_entities_at_once_replay_in_order_after_a_restart()
    {
        const int entities = 50, events = 40;
        var writers = Enumerable.Range(0, entities).Select(i => _system.ActorOf(Props.Create(() => new Recorder($"recorder-{i}")))).ToArray();
        // Every entity has a write in flight most of the time: the appender groups them into shared transactions.
        await Task.WhenAll(writers.Select(async (w, i) =>
        {
            for (var n = 0; n < events; n++) Assert.Equal(n + 1L, await w.Ask<long>($"{i}:{n}", Wait));
        }));

        await _system.Terminate().WaitAsync(Wait);
        _system = Start();

        for (var i = 0; i < entities; i++)
        {
            var again = _system.ActorOf(Props.Create(() => new Recorder($"recorder-{i}")));
            var seen = await again.Ask<string[]>(Recorder.Read.Instance, Wait);
            Assert.Equal(Enumerable.Range(0, events).Select(n => $"{i}:{n}"), seen);
        }
        await using var db = OpenDatabase();
        Assert.Equal(entities * events, Count(db, "SELECT count(*) FROM event_journal WHERE persistence_id LIKE 'recorder-%'"));
        var columns = Config().TableConfig.EventJournalTable.ColumnNames;
        Assert.Equal(0, Count(db, $"SELECT count(*) FROM event_journal WHERE persistence_id LIKE 'recorder-%' AND ({columns.Identifier} IS NULL OR {columns.Created} = 0)"));
    }

    /// <summary>The plugin creates the tables as the journal starts; one persisted event means it has.</summary>
    protected async Task TablesCreated() =>
        Assert.Equal(1L, await _system.ActorOf(Props.Create(() => new Recorder("first"))).Ask<long>("first", Wait));

    [Fact]
    public async Task The_owing_index_keeps_each_entitys_newest_mark_and_a_clear_removes_only_marks_up_to_its_own()
    {
        await TablesCreated();
        using var appender = JournalAppender.For(Config());
        appender.Append(new OwingMark("a", 5, true));
        appender.Append(new OwingMark("b", 3, true));
        // A late clear from an earlier incarnation (its last write was 2) leaves the newer mark.
        appender.Append(new OwingMark("b", 2, false));
        appender.Append(new OwingMark("c", 1, true));
        appender.Append(new OwingMark("c", 4, false));
        appender.Append(new OwingMark("d", 7, true));
        appender.Append(new OwingMark("d", 6, true));
        // Appends are durable in order: once this row is, so is every mark before it.
        await appender.Append([new JournalAppender.Row("z", 1, 1, [1], "", 4)]);
        Assert.Equal(["a", "b", "d"], (await OwingIndex.Read(Options(), CancellationToken.None)).Order(StringComparer.Ordinal));
        await using var db = OpenDatabase();
        Assert.Equal(7, Count(db, $"SELECT sequence_nr FROM {OwingIndex.Table} WHERE persistence_id = 'd'"));
    }

    [Fact]
    public async Task A_write_that_collides_with_a_stored_row_fails_and_the_writes_beside_it_land()
    {
        await TablesCreated();
        using var appender = JournalAppender.For(Config());
        static JournalAppender.Row Row(string pid, long seq) => new(pid, seq, 1, [1, 2, 3], "m", 4);

        await appender.Append([Row("x", 1)]);
        var before = appender.Append([Row("x", 2)]);
        var collides = appender.Append([Row("x", 1)]);
        var after = appender.Append([Row("y", 1), Row("y", 2)]);

        await before;
        await Assert.ThrowsAnyAsync<DbException>(() => collides);
        await after;
        await using var db = OpenDatabase();
        Assert.Equal(2, Count(db, "SELECT count(*) FROM event_journal WHERE persistence_id = 'x'"));
        Assert.Equal(2, Count(db, "SELECT count(*) FROM event_journal WHERE persistence_id = 'y'"));
    }

    [Fact]
    public async Task A_write_whose_dependency_failed_fails_untried_and_one_whose_dependency_committed_lands()
    {
        await TablesCreated();
        using var appender = JournalAppender.For(Config());
        static JournalAppender.Row Row(string pid, long seq) => new(pid, seq, 1, [1, 2, 3], "m", 4);
        await appender.Append([Row("x", 1)]);

        Task first, collides, orphan, kept;
        using (LockEventTable())
        {
            // The first write waits for the table; the others queue behind it and share a transaction, which the collision
            // fails: each is then tried alone, in order, and the orphan is failed without being tried.
            first = appender.Append([Row("w", 1)]);
            collides = appender.Append([Row("x", 1)]);
            orphan = appender.Append([Row("d", 1)], [new WriteRef("x", 1)]);
            kept = appender.Append([Row("k", 1)], [new WriteRef("w", 1)]);
        }
        await first;
        await Assert.ThrowsAnyAsync<DbException>(() => collides);
        await Assert.ThrowsAsync<InvalidOperationException>(() => orphan);
        await kept;
        // Queued later, in a transaction of its own: the failure is remembered.
        await Assert.ThrowsAsync<InvalidOperationException>(() => appender.Append([Row("e", 1)], [new WriteRef("x", 1)]));

        await using var db = OpenDatabase();
        Assert.Equal((1L, 0L, 1L), (Count(db, "SELECT count(*) FROM event_journal WHERE persistence_id = 'x'"),
            Count(db, "SELECT count(*) FROM event_journal WHERE persistence_id IN ('d', 'e')"),
            Count(db, "SELECT count(*) FROM event_journal WHERE persistence_id = 'k'")));
    }

    [Fact]
    public async Task A_staged_write_stores_its_payload_and_releases_its_messages_once_queued_before_it_is_durable()
    {
        await TablesCreated();
        var probe = new Akka.TestKit.Xunit2.TestKit(_system);
        var journal = Akka.Persistence.Persistence.Instance.Apply(_system).JournalFor(null);
        var staged = new Staged("stored", [], [(probe.TestActor, "early", probe.TestActor)]);
        using (LockEventTable())
        {
            journal.Tell(new WriteMessages(new List<IPersistentEnvelope> { new AtomicWrite(new Persistent(staged, 1, "staged", sender: probe.TestActor, writerGuid: "w")) },
                probe.TestActor, 1));
            // The table is locked, so nothing is durable yet: the message comes first, naming the write it was released by.
            var released = probe.ExpectMsg<Released>(Wait);
            Assert.Equal("early", released.Message);
            Assert.Equal([new WriteRef("staged", 1)], released.After);
        }
        probe.ExpectMsg<WriteMessagesSuccessful>(Wait);
        probe.ExpectMsg<WriteMessageSuccess>(Wait);
        // What is stored is the payload alone, as if it had been persisted bare.
        Assert.Equal(["stored"], await _system.ActorOf(Props.Create(() => new Recorder("staged"))).Ask<string[]>(Recorder.Read.Instance, Wait));
    }

    [Fact]
    public async Task An_entity_hears_rejections_failures_and_deferred_handlers_as_from_the_plugin()
    {
        var probe = new Akka.TestKit.Xunit2.TestKit(_system);
        var recorder = _system.ActorOf(Props.Create(() => new Recorder("told", probe.TestActor)));
        // Three events in one write (one that cannot be serialized between two that can) and a deferred handler behind it:
        // the unserializable event is rejected alone, the others land, and every handler runs in order.
        recorder.Tell(new Recorder.Batch("a", new Unserializable(), "b"));
        probe.ExpectMsg("a@1", Wait);
        probe.ExpectMsg("rejected at 2", Wait);
        probe.ExpectMsg("b@3", Wait);
        probe.ExpectMsg("deferred", Wait);
        Assert.Equal(["a", "b"], await recorder.Ask<string[]>(Recorder.Read.Instance, Wait));

        // Two events persisted together are all or nothing: one that cannot be written rejects both, and no row lands.
        recorder.Tell(new Recorder.Together("c", new Unserializable()));
        probe.ExpectMsg("rejected at 4", Wait);
        probe.ExpectMsg("rejected at 5", Wait);
        await using (var db = OpenDatabase())
            Assert.Equal(2, Count(db, "SELECT count(*) FROM event_journal WHERE persistence_id = 'told'"));

        // A write that collides with a row already there (another writer took the sequence number) fails the entity.
        using var appender = JournalAppender.For(Config());
        await appender.Append([new JournalAppender.Row("told", 6, 1, [1], "", 4)]);
        probe.Watch(recorder);
        recorder.Tell("d");
        probe.ExpectMsg<string>(m => m.StartsWith("failed at 6", StringComparison.Ordinal), Wait);
        probe.ExpectTerminated(recorder, Wait);
    }

    [Fact]
    public async Task A_write_not_durable_within_the_call_timeout_fails_the_entity_and_its_next_incarnation_finds_it()
    {
        var probe = new Akka.TestKit.Xunit2.TestKit(_system);
        var recorder = _system.ActorOf(Props.Create(() => new Recorder("stalled", probe.TestActor)));
        Assert.Empty(await recorder.Ask<string[]>(Recorder.Read.Instance, Wait));
        probe.Watch(recorder);
        using (LockEventTable())
        {
            recorder.Tell("late");
            // The message names the call-timeout that failed it, so the configured 2 s is what applied, however long the
            // failure then takes to reach the probe on a loaded machine.
            probe.ExpectMsg<string>(m => m.StartsWith($"failed at 1: journal write for stalled not durable within {CallTimeout}", StringComparison.Ordinal), Wait);
            probe.ExpectTerminated(recorder, Wait);
        }
        // The write was still queued: once the lock is gone it lands, and the next incarnation waits for it before it reads.
        var again = _system.ActorOf(Props.Create(() => new Recorder("stalled", probe.TestActor)));
        Assert.Equal(["late"], await again.Ask<string[]>(Recorder.Read.Instance, Wait));
    }

    [Fact]
    public async Task The_batch_list_an_entity_hands_over_holds_nothing_once_the_entity_is_answered()
    {
        await TablesCreated();
        var probe = new Akka.TestKit.Xunit2.TestKit(_system);
        Persistent Event(string payload, long seq) => new(payload, seq, "handed-over", sender: probe.TestActor, writerGuid: "w");
        // What Akka.Persistence sends: the list it has been adding to, which it then replaces with a new one.
        var batch = new List<IPersistentEnvelope> { new AtomicWrite(Event("one", 1)), new AtomicWrite(Event("two", 2)) };
        Akka.Persistence.Persistence.Instance.Apply(_system).JournalFor(null).Tell(new WriteMessages(batch, probe.TestActor, 1));

        probe.ExpectMsg<WriteMessagesSuccessful>(Wait);
        Assert.Equal("one", probe.ExpectMsg<WriteMessageSuccess>(Wait).Persistent.Payload);
        Assert.Equal("two", probe.ExpectMsg<WriteMessageSuccess>(Wait).Persistent.Payload);
        // Emptied and its array let go (just after the last answer is sent): a dead list that a young collection still
        // scans no longer keeps the events alive.
        await TestCluster.Until(() => batch.Capacity == 0, "the handed-over list emptied");
        Assert.Empty(batch);
        await using var db = OpenDatabase();
        Assert.Equal(2, Count(db, "SELECT count(*) FROM event_journal WHERE persistence_id = 'handed-over'"));
    }

    protected JournalConfig Config() =>
        new(_system.Settings.Config.GetConfig("akka.persistence.journal.sql").WithFallback(SqlPersistence.DefaultJournalConfiguration));

    private static long Count(DbConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Rows written by hand come before any entity has recovered: first the journal's tables are made (a recovery waits for that).</summary>
    private async Task TablesMade() => Assert.Equal(1L, await _system.ActorOf(Props.Create(() => new Recorder("first"))).Ask<long>("first", Wait));

    [Fact]
    public async Task A_mark_sent_to_ride_with_the_next_write_is_listed_with_that_write_and_not_before()
    {
        await TablesMade();
        var journal = Akka.Persistence.Persistence.Instance.Apply(_system).JournalFor(null);
        journal.Tell(new OwingMark("saga-a/1", 1, true, WithNextWrite: true));
        // A mark on its own, sent after it, is listed once written: the riding one, had it been written alone, would be too.
        journal.Tell(new OwingMark("sentinel", 1, true));
        var deadline = DateTime.UtcNow + Wait;
        while (!(await OwingIndex.Read(Options(), CancellationToken.None)).Contains("sentinel") && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(["sentinel"], await OwingIndex.Read(Options(), CancellationToken.None));
        await JournalRows.Append(_system, "saga-a/1", 1, "intent", listOwing: false);
        Assert.Equal(["saga-a/1", "sentinel"], (await OwingIndex.Read(Options(), CancellationToken.None)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_saga_census_counts_the_listed_sagas_whose_intent_names_an_account()
    {
        static SagaStarted Paying(string from, string to) =>
            new([new TransferOp(new("t"), new(from), new(to), new("USD"), 1), new TransferOp(new("u"), new(from), new("zoe"), new("USD"), 1)], long.MaxValue, 0);
        await TablesMade();
        await JournalRows.Append(_system, "saga-alice/1", 1, Paying("alice", "bob"), listOwing: true);
        await JournalRows.Append(_system, "saga-carol/1", 1, Paying("carol", "bob"), listOwing: true);
        // Finished: written, no longer listed. And a listed entity that is not a saga.
        await JournalRows.Append(_system, "saga-dave/1", 1, Paying("dave", "erin"), listOwing: false);
        await JournalRows.Append(_system, "sagaless-erin", 1, Paying("erin", "erin"), listOwing: true);

        var census = _system.ActorOf(SagaCensus.Props(_system));
        async Task<int?> Naming(string account) => (await census.Ask<SagasNamed>(new SagasNaming(new(account)), Wait)).Count;
        // Appended with its row, each mark is in the index once the write is acknowledged.
        Assert.Equal([2, 1, 1, 0, 0, 2], [await Naming("bob"), await Naming("alice"), await Naming("carol"), await Naming("dave"),
            await Naming("erin"), await Naming("zoe")]);
    }

    /// <summary>
    /// Persists every string it is sent and answers with its sequence number; <see cref="Read"/> answers what it holds;
    /// a <see cref="Batch"/>'s events are persisted in one write, each on its own, and then a deferred handler runs. What the journal tells it
    /// (rejections, failures) goes to <paramref name="observer"/>.
    /// </summary>
    private sealed class Recorder(string persistenceId, IActorRef? observer = null) : UntypedPersistentActor
    {
        private readonly List<string> _seen = [];

        public override string PersistenceId => persistenceId;

        protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr) => observer?.Tell($"rejected at {sequenceNr}");

        protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
        {
            observer?.Tell($"failed at {sequenceNr}: {cause.Message}");
            base.OnPersistFailure(cause, @event, sequenceNr);
        }

        protected override void OnRecover(object message)
        {
            if (message is string s) _seen.Add(s);
        }

        protected override void OnCommand(object message)
        {
            switch (message)
            {
                case string s:
                    Persist(s, e =>
                    {
                        _seen.Add(e);
                        Sender.Tell(LastSequenceNr);
                    });
                    break;
                case Read:
                    Sender.Tell(_seen.ToArray());
                    break;
                case Batch batch:
                    // Three persists in one command: one write of three events, each its own (not all-or-nothing).
                    Persist(batch.First, Recorded);
                    Persist(batch.Middle, Recorded);
                    Persist(batch.Last, Recorded);
                    DeferAsync("deferred", d => observer?.Tell(d));
                    break;
                case Together together:
                    PersistAll([together.First, together.Second], Recorded);
                    break;
            }
        }

        private void Recorded(object e)
        {
            _seen.Add((string)e);
            observer?.Tell($"{e}@{LastSequenceNr}");
        }

        public sealed record Batch(object First, object Middle, object Last);

        /// <summary>Two events persisted as one atomic write.</summary>
        public sealed record Together(object First, object Second);

        public sealed class Read
        {
            public static readonly Read Instance = new();
        }
    }

    /// <summary>An event the journal cannot serialize.</summary>
    private sealed class Unserializable
    {
        public string Value => throw new InvalidOperationException(GetType().Name + " cannot be serialized");
    }
}

public sealed class SqliteJournalSpecs : LedgerJournalSpecs
{
    [Fact]
    public async Task Appended_rows_reach_the_database_file_long_before_the_wal_is_full()
    {
        await TablesCreated();
        var file = new FileInfo(Path.Combine(DataDir, "ledger.db"));
        var before = file.Length;
        using var appender = JournalAppender.For(Config());
        // ~2 MB of rows: some 500 pages, far below the WAL size at which the appender checkpoints by itself.
        await appender.Append(Enumerable.Range(1, 2_000).Select(i => new JournalAppender.Row("filler", i, 1, new byte[1_000], "", 4)));
        // Only a checkpoint copies pages from the WAL into the database file: the checkpointer's, within a round or two.
        await TestCluster.Until(() =>
        {
            file.Refresh();
            return file.Length > before + 1_000_000;
        }, "the rows in the database file");
    }

    protected override LedgerNodeOptions Options() => new() { DataDir = DataDir, SystemName = "sqlite-journal" };

    protected override DbConnection OpenDatabase()
    {
        var db = new SqliteConnection($"Data Source={Path.Combine(DataDir, "ledger.db")};Pooling=false");
        db.Open();
        return db;
    }

    protected override IDisposable LockEventTable()
    {
        var db = (SqliteConnection)OpenDatabase();
        using var begin = db.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE";
        begin.ExecuteNonQuery();
        return db;
    }

    public override async Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        await base.DisposeAsync();
    }
}

public sealed class PostgresJournalSpecs : LedgerJournalSpecs
{
    private readonly ThrowawayPostgres _pg = ThrowawayPostgres.Start();

    protected override LedgerNodeOptions Options() =>
        new() { DataDir = DataDir, SystemName = "postgres-journal", Journal = "postgres", ConnectionString = _pg.ConnectionString };

    protected override DbConnection OpenDatabase()
    {
        var db = new NpgsqlConnection(_pg.ConnectionString);
        db.Open();
        return db;
    }

    protected override IDisposable LockEventTable()
    {
        var db = (NpgsqlConnection)OpenDatabase();
        db.BeginTransaction(); // ends, and unlocks, when the connection is disposed
        using var lockTable = db.CreateCommand();
        lockTable.CommandText = "LOCK TABLE event_journal IN EXCLUSIVE MODE";
        lockTable.ExecuteNonQuery();
        return db;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _pg.Dispose();
    }
}
