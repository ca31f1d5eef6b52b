using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Serialization;
using Akka.Util;

namespace Ledger.Actors.Journal;

/// <summary>
/// The node's journal: Akka.Persistence.Sql for the schema, queries and deletes; appending events goes through a
/// <see cref="JournalAppender"/> (SQLite or PostgreSQL), and recovery's reads through a <see cref="JournalReader"/>.
/// The plugin builds each multi-row INSERT as SQL text with every payload inlined, through linq2db, and under load that,
/// not the database, capped the journal (docs/benchmarks.md, "The journal's own append path"). Rows written here are the
/// plugin's rows, column for column (same serializer, manifest and timestamp rules), so the plugin reads them back
/// unchanged. Only what Ledger uses is supported: the tag-table mode without tags, no writer-uuid or event-manifest columns.
/// <para>
/// Entities' writes are answered here too (<see cref="OwnWritePathJournal"/>: why, and what of Akka's that ties us to).
/// Each <see cref="WriteMessages"/> becomes one appender write; once its transaction commits, the entity hears what the
/// base class would have told it. A write not durable within the breaker's <c>call-timeout</c> fails as it did through
/// the breaker: the entity stops, and its next incarnation reads the journal once that write has ended.
/// </para>
/// <para>
/// A write may come <see cref="Staged"/>: its payload is stored alone, it commits only if the writes it names did, and the
/// messages it releases are told (as <see cref="Released"/>) right after it is handed to the appender, before it is durable
/// (early lock release, docs/architecture.md).
/// </para>
/// </summary>
public sealed class LedgerJournal : OwnWritePathJournal, IDisposable
{
    private readonly JournalAppender _appender;
    private readonly JournalReader _reader;
    private readonly string _defaultSerializer;
    /// <summary>The write in flight of each entity (at most one: an entity sends its next only once told the outcome).</summary>
    private readonly ConcurrentDictionary<string, EntityWrite> _writing = new();
    private readonly TimeSpan _callTimeout;
    /// <summary>Marks waiting for their entity's next write, to be listed in its transaction.</summary>
    private readonly Dictionary<string, OwingMark> _riding = new(StringComparer.Ordinal);
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

    /// <summary>An entity's change of its owing mark, in order with its writes, and the overdue check.</summary>
    protected override bool ReceiveOwn(object message)
    {
        switch (message)
        {
            case OwingMark { WithNextWrite: true } mark:
                _riding[mark.PersistenceId] = mark;
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
                return false;
        }
    }

    protected override void Write(WriteMessages message)
    {
        var now = DateTime.UtcNow.Ticks;
        var write = new EntityWrite(message, Self, _writing);
        List<(Staged Staged, WriteRef Row)>? released = null;
        foreach (var envelope in message.Messages)
        {
            if (envelope is not AtomicWrite atomic) continue;
            try
            {
                write.PersistenceId ??= atomic.PersistenceId;
                AddRows(atomic, now, write.Rows);
                foreach (var p in Events(atomic))
                {
                    var staged = p.Payload as Staged;
                    if ((staged?.Payload ?? p.Payload) is IMarksOwing { MarksOwing: true }) write.Mark = new OwingMark(p.PersistenceId, p.SequenceNr, true);
                    if (staged is null) continue;
                    if (staged.After.Length > 0) write.After = write.After is null ? staged.After : [.. write.After, .. staged.After];
                    if (staged.Release.Length > 0) (released ??= []).Add((staged, new WriteRef(p.PersistenceId, p.SequenceNr)));
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A write that cannot be serialized is rejected alone (the entity hears OnPersistRejected).
                write.Reject(atomic, e);
            }
        }
        // A mark sent to ride with this write is listed with its rows, or not at all if none is written.
        if (_riding.Count > 0 && write.PersistenceId is { } pid && _riding.Remove(pid, out var riding) && write.Rows.Count > 0 && !(write.Mark?.SequenceNr >= riding.SequenceNr))
            write.Mark = riding;
        if (write.Rows.Count == 0)
        {
            write.Completed(null);
            return;
        }
        write.QueuedAt = Environment.TickCount64;
        _writing[write.PersistenceId!] = write;
        _appender.Append(write);
        // Queued now: whatever the receivers write next is queued after this write, and commits only if it does.
        foreach (var (staged, row) in released ?? [])
            foreach (var (to, early, sender) in staged.Release) to.Tell(new Released([row], early), sender);
    }

    /// <summary>The rows of one atomic write, all or none: if any event cannot be written, none of its rows is added.</summary>
    private void AddRows(AtomicWrite write, long now, List<JournalAppender.Row> rows)
    {
        var first = rows.Count;
        try
        {
            foreach (var persistent in Events(write))
            {
                var e = AdaptToJournal(persistent);
                var payload = e.Payload is Staged staged ? staged.Payload : e.Payload;
                if (payload is Tagged) throw new NotSupportedException("LedgerJournal does not write tagged events");
                var serializer = Context.System.Serialization.FindSerializerForType(payload.GetType(), _defaultSerializer);
                var manifest = serializer switch
                {
                    SerializerWithStringManifest named => named.Manifest(payload),
                    { IncludeManifest: true } => payload.GetType().TypeQualifiedName(),
                    _ => string.Empty,
                };
                // As the plugin does: actor references inside a payload serialize with this node's address.
                var bytes = Akka.Serialization.Serialization.WithTransport((ExtendedActorSystem)Context.System, (serializer, payload), static s => s.serializer.ToBinary(s.payload));
                rows.Add(new JournalAppender.Row(e.PersistenceId, e.SequenceNr, e.Timestamp == 0 ? now : e.Timestamp, bytes, manifest, serializer.Identifier));
            }
        }
        catch
        {
            rows.RemoveRange(first, rows.Count - first);
            throw;
        }
    }

    /// <summary>The node's journal section if the node's journal is a <see cref="LedgerJournal"/> (specs run others), else null.</summary>
    public static Config? Section(ActorSystem system)
    {
        var config = system.Settings.Config;
        var plugin = config.GetString("akka.persistence.journal.plugin", "");
        var section = plugin.Length > 0 ? config.GetConfig(plugin) : null;
        return section?.GetString("class", "")?.Contains(nameof(LedgerJournal), StringComparison.Ordinal) == true ? section : null;
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
