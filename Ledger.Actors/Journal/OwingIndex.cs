using Ledger.Actors.Hosting;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ledger.Actors.Journal;

/// <summary>A write that may leave its entity owing a step: the journal marks the entity in the same transaction.</summary>
public interface IMarksOwing
{
    bool MarksOwing { get; }
}

/// <summary>
/// An entity's word to the journal that, from the write at <paramref name="SequenceNr"/> on, it owes another entity a
/// step (<paramref name="Owes"/>: a debit's credit, a call's answer), or no longer does (then every write up to
/// <paramref name="SequenceNr"/>). A mark rides on the write itself (<see cref="IMarksOwing"/>), or is sent to the journal
/// actor to ride on the entity's next write (<paramref name="WithNextWrite"/>); a clear is sent to the journal actor, in
/// order with the entity's writes.
/// </summary>
public sealed record OwingMark(string PersistenceId, long SequenceNr, bool Owes, bool WithNextWrite = false) : Akka.Actor.INoSerializationVerificationNeeded;

/// <summary>
/// The entities that owe another entity a step, as a table beside the journal's, kept by the appender in the same
/// transactions as the rows (<see cref="OwingMark"/>): after a crash they are the ones to start again so that what they
/// had in flight finishes without a client touching them, and only they — every account active when a node died would
/// be many times as many to read back. A mark carries the sequence number it was made at, and a clear removes only
/// marks up to its own, so a late clear from an earlier incarnation (on another node) never removes a newer mark.
/// </summary>
public static class OwingIndex
{
    public const string Table = "ledger_owing";

    public const string Create =
        $"CREATE TABLE IF NOT EXISTS {Table} (persistence_id VARCHAR(255) NOT NULL PRIMARY KEY, sequence_nr BIGINT NOT NULL)";

    /// <summary>SQLite's: one b-tree keyed by the id rather than a rowid table plus an index (half the work per change).</summary>
    public const string SqliteCreate = Create + " WITHOUT ROWID";

    public const string SqliteMark =
        $"INSERT INTO {Table} (persistence_id, sequence_nr) VALUES (?1, ?2) " +
        "ON CONFLICT (persistence_id) DO UPDATE SET sequence_nr = max(sequence_nr, excluded.sequence_nr)";

    public const string SqliteClear = $"DELETE FROM {Table} WHERE persistence_id = ?1 AND sequence_nr <= ?2";

    /// <summary>Every clear, then every mark (<see cref="Net"/>: at most one of each per entity).</summary>
    public const string PostgresClearAndMark =
        $"DELETE FROM {Table} o USING unnest(@cp::varchar[], @cs::bigint[]) AS c(p, s) WHERE o.persistence_id = c.p AND o.sequence_nr <= c.s; " +
        $"INSERT INTO {Table} (persistence_id, sequence_nr) SELECT * FROM unnest(@mp::varchar[], @ms::bigint[]) " +
        $"ON CONFLICT (persistence_id) DO UPDATE SET sequence_nr = GREATEST({Table}.sequence_nr, excluded.sequence_nr)";

    /// <summary>
    /// The changes of one transaction, per entity, as "clear up to <c>Clear</c>, then mark at <c>Mark</c>": the marks of an
    /// entity, folded in the order they reached the appender. A mark raises the pending mark; a clear removes a pending
    /// mark it covers and widens the clear — so a late clear of an earlier incarnation never cancels a newer mark.
    /// </summary>
    public static Dictionary<string, (long? Clear, long? Mark)>? Net(IReadOnlyList<JournalAppender.Write> writes)
    {
        Dictionary<string, (long? Clear, long? Mark)>? net = null;
        foreach (var w in writes)
        {
            if (w.Mark is not { } m) continue;
            net ??= new(StringComparer.Ordinal);
            var (clear, mark) = net.GetValueOrDefault(m.PersistenceId);
            net[m.PersistenceId] = m.Owes
                ? (clear, Math.Max(mark ?? long.MinValue, m.SequenceNr))
                : mark > m.SequenceNr ? (clear, mark) : (Math.Max(clear ?? long.MinValue, m.SequenceNr), null);
        }
        return net;
    }

    /// <summary>Every persistence id the index holds (none on the in-memory journal).</summary>
    public static async Task<List<string>> Read(LedgerNodeOptions o, CancellationToken ct)
    {
        var ids = new List<string>();
        if (o.Journal == "memory") return ids;
        await using System.Data.Common.DbConnection c = o.Journal == "postgres"
            ? new NpgsqlConnection(o.ConnectionString)
            : new SqliteConnection(LedgerNode.SqliteConnectionString(o));
        await c.OpenAsync(ct);
        await using (var create = c.CreateCommand())
        {
            create.CommandText = o.Journal == "postgres" ? Create : SqliteCreate;
            await create.ExecuteNonQueryAsync(ct);
        }
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT persistence_id FROM {Table}";
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }
}
