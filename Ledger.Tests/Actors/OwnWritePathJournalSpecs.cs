using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.TestKit;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Sdk;

namespace Ledger.Tests.Actors;

/// <summary>
/// What <see cref="OwnWritePathJournal"/> takes from Akka.Persistence's insides, pinned so that an Akka upgrade which
/// changes it fails here, by name, rather than in production. Each scenario runs a real persistent actor against
/// <see cref="LedgerJournal"/> (SQLite in a temporary directory) and against Akka's own write path (the TestKit's
/// journal, an <c>AsyncWriteJournal</c>), and both must tell the actor exactly the same thing, in the same order, from
/// the same senders, as written out here. If Akka's side changes, the transcript of Akka's path says what it tells now;
/// if Akka's persistent actor changes what it relies on, ours goes wrong beside it.
/// </summary>
public sealed class OwnWritePathJournalSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Ours = "akka.persistence.journal.sql", Akkas = "akka.persistence.journal.test";
    private readonly string _dataDir;

    public OwnWritePathJournalSpecs() : this(Ports.TempDir("ledger-own-write-path"))
    {
    }

    private OwnWritePathJournalSpecs(string dataDir) : base(Configure(dataDir), "own-write-path")
    {
        _dataDir = dataDir;
    }

    /// <summary>The node's own configuration and SQLite database (WAL, as a node sets it), on a local provider, plus the TestKit's journal.</summary>
    private static Config Configure(string dataDir)
    {
        var options = new LedgerNodeOptions
        {
            DataDir = dataDir,
            ExtraHocon = $$"""
                akka.actor.provider = local
                akka.loglevel = WARNING
                {{Akkas}} {
                  class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
                  plugin-dispatcher = "akka.actor.default-dispatcher"
                }
                """,
        };
        using var db = new SqliteConnection(LedgerNode.SqliteConnectionString(options));
        db.Open();
        using var wal = db.CreateCommand();
        wal.CommandText = "PRAGMA journal_mode=WAL;";
        wal.ExecuteNonQuery();
        return LedgerNode.BuildConfig(options);
    }

    [Fact]
    public async Task Writes_in_flight_together_are_answered_as_AsyncWriteJournal_answers_them()
    {
        string[] first =
        [
            "Start from probe",
            "Second from self",
            // The actor sends its next write only once told the outcome of the one in flight.
            "Third from self: 2 envelopes wait behind the write in flight",
            "WriteMessagesSuccessful from journal",
            "WriteMessageSuccess a@1 from probe", "ran a@1",
            "WriteMessageSuccess b@2 from probe", "ran b@2",
            "WriteMessageSuccess c@3 from probe", "ran c@3",
            "LoopMessageSuccess d from probe", "ran d",
            "WriteMessagesSuccessful from journal",
            "WriteMessageSuccess e@4 from self", "ran e@4",
            "WriteMessageSuccess f@5 from self", "ran f@5",
            "LoopMessageSuccess g from self", "ran g",
        ];
        string[] then =
        [
            "Stashing from probe",
            "WriteMessagesSuccessful from journal",
            "WriteMessageSuccess h@6 from probe", "ran h@6",
            "WriteMessageSuccess i@7 from probe", "ran i@7",
            "WriteMessageSuccess j@8 from probe", "ran j@8",
        ];
        foreach (var journal in new[] { Akkas, Ours })
        {
            var writer = Writer("overlapping", journal);
            writer.Tell(new Start(), TestActor);
            AssertTranscript(journal, first);
            writer.Tell(new Stashing(), TestActor);
            AssertTranscript(journal, then);
            if (journal != Ours) continue;
            // The list handed over with the second write was the one the actor had been adding to while the first was in
            // flight; once answered it holds nothing, and the actor has gone on with another.
            const string released = "the list handed over holds 0 envelopes, capacity 0; the actor's list is another";
            var report = "";
            for (var until = DateTime.UtcNow + Wait; DateTime.UtcNow < until; await Task.Delay(50))
                if ((report = await writer.Ask<string>(new Report(), Wait)) == released) break;
            if (report != released)
                throw new XunitException($"OwnWritePathJournal.Release did not let go of the batch list Eventsourced handed over: {report}. " +
                    "Akka.Persistence no longer hands over its own List<IPersistentEnvelope> as WriteMessages.Messages, or keeps using it.");
        }
    }

    [Fact]
    public async Task Rejected_events_are_answered_as_AsyncWriteJournal_answers_them()
    {
        await TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(Akkas)).OnWrite.RejectIf(p => p.Payload is Unserializable);
        string[] expected =
        [
            "Rejecting from probe",
            "WriteMessagesSuccessful from journal",
            "WriteMessageSuccess k@1 from probe", "ran k@1",
            "WriteMessageRejected bad@2 from probe", "rejected bad@2",
            // Two events persisted together are rejected together.
            "WriteMessageRejected l@3 from probe", "rejected l@3",
            "WriteMessageRejected bad@4 from probe", "rejected bad@4",
            "LoopMessageSuccess m from probe", "ran m",
        ];
        foreach (var journal in new[] { Akkas, Ours })
        {
            Writer("rejecting", journal).Tell(new Rejecting(), TestActor);
            AssertTranscript(journal, expected);
        }
    }

    [Fact]
    public async Task A_failed_write_is_answered_as_AsyncWriteJournal_answers_it()
    {
        string[] warm = ["Warm from probe", "WriteMessagesSuccessful from journal", "WriteMessageSuccess w@1 from probe", "ran w@1"];
        // The batch's failure counts its atomic writes (not the deferred handler); the first event's failure stops the actor.
        string[] failing = ["Failing from probe", "WriteMessagesFailed of 2 from journal", "WriteMessageFailure n@2 from probe", "failed n@2", "terminated"];
        foreach (var journal in new[] { Akkas, Ours })
        {
            var writer = Writer("failing", journal);
            Watch(writer);
            writer.Tell(new Warm(), TestActor);
            AssertTranscript(journal, warm);
            if (journal == Ours)
            {
                // Another writer took sequence number 3: the transaction holding n@2 and o@3 fails.
                using var appender = JournalAppender.For(new JournalConfig(Sys.Settings.Config.GetConfig(Ours).WithFallback(SqlPersistence.DefaultJournalConfiguration)));
                await appender.Append([new JournalAppender.Row("failing-" + journal, 3, 1, [1], "", 4)]);
            }
            else
            {
                await TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(Akkas)).OnWrite.Fail();
            }
            writer.Tell(new Failing(), TestActor);
            AssertTranscript(journal, failing);
        }
    }

    [Fact]
    public void The_members_of_Akka_Persistence_that_the_own_write_path_relies_on_are_still_there()
    {
        AssertField(typeof(Eventsourced), "_journalBatch", typeof(List<IPersistentEnvelope>),
            "the batch list a persistent actor hands over as WriteMessages.Messages; OwnWritePathJournal.Release empties a " +
            "List<IPersistentEnvelope> once answered, which is safe only while the actor starts a new list with each write");
        AssertField(typeof(Eventsourced), "_isWriteInProgress", typeof(bool),
            "a persistent actor's one write in flight; LedgerJournal keeps one write per entity and answers without a resequencer because of it");
        var write = new AtomicWrite(new Persistent("e", 1, "pid"));
        Assert.True(write.Payload is IImmutableList<IPersistentRepresentation>,
            $"AtomicWrite.Payload is now {write.Payload.GetType()}, not IImmutableList<IPersistentRepresentation>: OwnWritePathJournal.Events casts it");
    }

    private static void AssertField(Type owner, string name, Type type, string why)
    {
        var field = owner.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic);
        if (field?.FieldType != type)
            throw new XunitException($"{owner.FullName}.{name} is {(field is null ? "gone" : "now a " + field.FieldType)}, not a {type} " +
                $"(Akka.Persistence {owner.Assembly.GetName().Version}). It is {why}. Re-read Eventsourced and AsyncWriteJournal " +
                "against OwnWritePathJournal's summary before taking this upgrade.");
    }

    /// <summary>The next lines the actor reports (and its end, if watched), exactly these and no more.</summary>
    private void AssertTranscript(string journal, string[] expected)
    {
        static string? Line(object? m) => m switch { string s => s, Terminated => "terminated", null => null, _ => m.ToString() };
        var seen = new List<string>();
        while (seen.Count < expected.Length && Line(ReceiveOne(Wait)) is { } line) seen.Add(line);
        if (seen.Count == expected.Length && Line(ReceiveOne(TimeSpan.FromMilliseconds(200))) is { } extra) seen.Add(extra);
        if (seen.SequenceEqual(expected)) return;
        var path = journal == Ours ? "LedgerJournal (OwnWritePathJournal)" : "Akka's own write path (TestJournal, an AsyncWriteJournal)";
        throw new XunitException($"{path} told the persistent actor something else than expected.\nExpected:\n  {string.Join("\n  ", expected)}\n" +
            $"Told:\n  {string.Join("\n  ", seen)}\nIf Akka's path changed, OwnWritePathJournal.Answer must change with it (and this transcript).");
    }

    private IActorRef Writer(string name, string journal) =>
        Sys.ActorOf(Props.Create(() => new ScriptedWriter($"{name}-{journal}", journal, TestActor)));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private sealed record Start;

    private sealed record Second;

    private sealed record Third;

    private sealed record Stashing;

    private sealed record Rejecting;

    private sealed record Warm;

    private sealed record Failing;

    private sealed record Report;

    /// <summary>An event no journal can serialize (the TestKit's journal is told to reject it).</summary>
    private sealed class Unserializable
    {
        public string Value => throw new InvalidOperationException(nameof(Unserializable) + " cannot be serialized");

        public override string ToString() => "bad";
    }

    /// <summary>
    /// Persists by script and reports to <paramref name="observer"/>, as one line each, every message it gets once
    /// recovered (the journal's answers, with who sent them) and every handler and callback that runs.
    /// </summary>
    private sealed class ScriptedWriter : UntypedPersistentActor
    {
        private static readonly FieldInfo JournalBatch = typeof(Eventsourced).GetField("_journalBatch", BindingFlags.Instance | BindingFlags.NonPublic)!;
        private readonly string _persistenceId;
        private readonly IActorRef _observer;
        private bool _recovered;
        private List<IPersistentEnvelope>? _waiting;

        public ScriptedWriter(string persistenceId, string journal, IActorRef observer)
        {
            _persistenceId = persistenceId;
            _observer = observer;
            JournalPluginId = journal;
        }

        public override string PersistenceId => _persistenceId;

        protected override bool AroundReceive(Receive receive, object message)
        {
            if (_recovered && message is not (Start or Second or Third or Stashing or Rejecting or Warm or Failing or Report)
                && message.GetType().Name != "RecoveryTick")
                _observer.Tell($"{Describe(message)} from {Who(Sender)}");
            return base.AroundReceive(receive, message);
        }

        private static string Describe(object message) => message switch
        {
            WriteMessagesSuccessful => "WriteMessagesSuccessful",
            WriteMessagesFailed f => $"WriteMessagesFailed of {f.WriteCount}",
            WriteMessageSuccess s => $"WriteMessageSuccess {s.Persistent.Payload}@{s.Persistent.SequenceNr}",
            WriteMessageRejected r => $"WriteMessageRejected {r.Persistent.Payload}@{r.Persistent.SequenceNr}",
            WriteMessageFailure f => $"WriteMessageFailure {f.Persistent.Payload}@{f.Persistent.SequenceNr}",
            LoopMessageSuccess l => $"LoopMessageSuccess {l.Message}",
            _ => $"{message.GetType().FullName} (new to this spec)",
        };

        private string Who(IActorRef sender) =>
            sender.Equals(Journal) ? "journal" : sender.Equals(_observer) ? "probe" : sender.Equals(Self) ? "self" : sender.ToString() ?? "nobody";

        protected override void OnRecover(object message)
        {
            if (message is RecoveryCompleted) _recovered = true;
        }

        protected override void OnCommand(object message)
        {
            var line = $"{message.GetType().Name} from {Who(Sender)}";
            switch (message)
            {
                case Start:
                    _observer.Tell(line);
                    PersistAsync("a", Ran);
                    PersistAllAsync(["b", "c"], Ran);
                    DeferAsync("d", Deferred);
                    // Both are in the mailbox before the write above is even sent, so before any of its answers.
                    Self.Tell(new Second());
                    Self.Tell(new Third());
                    break;
                case Second:
                    _observer.Tell(line);
                    PersistAllAsync(["e", "f"], Ran);
                    DeferAsync("g", Deferred);
                    break;
                case Third:
                    _waiting = (List<IPersistentEnvelope>)JournalBatch.GetValue(this)!;
                    _observer.Tell($"{line}: {_waiting.Count} envelopes wait behind the write in flight");
                    break;
                case Stashing:
                    _observer.Tell(line);
                    Persist("h", Ran);
                    PersistAll(["i", "j"], Ran);
                    break;
                case Rejecting:
                    _observer.Tell(line);
                    PersistAsync<object>("k", Ran);
                    PersistAsync<object>(new Unserializable(), Ran);
                    PersistAllAsync<object>(["l", new Unserializable()], Ran);
                    DeferAsync("m", Deferred);
                    break;
                case Warm:
                    _observer.Tell(line);
                    PersistAsync("w", Ran);
                    break;
                case Failing:
                    _observer.Tell(line);
                    PersistAsync("n", Ran);
                    PersistAsync("o", Ran);
                    DeferAsync("p", Deferred);
                    break;
                case Report:
                    var now = (List<IPersistentEnvelope>)JournalBatch.GetValue(this)!;
                    Sender.Tell($"the list handed over holds {_waiting?.Count} envelopes, capacity {_waiting?.Capacity}; " +
                        $"the actor's list is {(ReferenceEquals(now, _waiting) ? "the same" : "another")}");
                    break;
            }
        }

        private void Ran(object e) => _observer.Tell($"ran {e}@{LastSequenceNr}");

        private void Deferred(string e) => _observer.Tell($"ran {e}");

        protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr) => _observer.Tell($"rejected {@event}@{sequenceNr}");

        protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
        {
            _observer.Tell($"failed {@event}@{sequenceNr}");
            base.OnPersistFailure(cause, @event, sequenceNr);
        }
    }
}
