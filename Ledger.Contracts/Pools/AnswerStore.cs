using System.Buffers.Binary;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Pools;

/// <summary>
/// The answers a venue (a pool, a market, a farm) gave, by (account, id), so that a call delivered twice is answered
/// the same way and executed once. Only the newest answers stay in memory (<see cref="Evict"/>); for every answer ever
/// given the store keeps a 64-bit hash of its key and the journal sequence number it was written at, so an older key
/// is recognised and its answer read back from that point of the journal, not from the start.
/// <para>
/// The answers of one write share its sequence number, so positions are kept as runs over the hashes in the order they
/// were given: a snapshot of a hot venue then costs 8 bytes per answer ever given, not 16. Finding where a key was
/// written scans that order, which only a call older than the resident answers asks for.
/// </para>
/// </summary>
public sealed class AnswerStore
{
    private readonly Dictionary<(AccountId Account, TxId Id), CallAnswer> _resident = [];
    private readonly Queue<(AccountId Account, TxId Id)> _order = new();
    /// <summary>Every key's hash.</summary>
    private readonly HashSet<ulong> _seen = [];
    /// <summary>The hashes of <see cref="_seen"/> in the order their answers were given.</summary>
    private readonly List<ulong> _seenOrder = [];
    /// <summary>Where the answers were written: run i covers <see cref="_seenOrder"/>[previous End, End) (0: unknown, read from the start).</summary>
    private readonly List<(long Seq, int End)> _runs = [];
    /// <summary>Keys read back and found absent although their hash is in <see cref="_seen"/>.</summary>
    private readonly HashSet<(AccountId Account, TxId Id)> _collisions = [];

    /// <summary>Where answers remembered now are written: the entity's next journal sequence number (or the row being replayed).</summary>
    public long JournalSeq { get; set; }

    /// <summary>Answers ever given (held or not).</summary>
    public int Count => _seen.Count;

    public Known Find(AccountId account, TxId id, out CallAnswer? answer)
    {
        if (_resident.TryGetValue((account, id), out answer)) return Known.Resident;
        return _seen.Contains(AccountState.KeyHash(account, id)) && !_collisions.Contains((account, id)) ? Known.Evicted : Known.Absent;
    }

    /// <summary>The answer if it is in memory.</summary>
    public bool TryGetValue((AccountId Account, TxId Id) key, out CallAnswer answer) => _resident.TryGetValue(key, out answer!);

    public CallAnswer? GetValueOrDefault((AccountId Account, TxId Id) key) => _resident.GetValueOrDefault(key);

    public void Remember(AccountId account, TxId id, CallAnswer answer)
    {
        if (_resident.TryAdd((account, id), answer)) _order.Enqueue((account, id));
        var hash = AccountState.KeyHash(account, id);
        if (_seen.Add(hash)) Seen(hash, JournalSeq);
        if (_collisions.Count > 0) _collisions.Remove((account, id));
    }

    private void Seen(ulong hash, long seq)
    {
        _seenOrder.Add(hash);
        if (_runs.Count > 0 && _runs[^1].Seq == seq) _runs[^1] = (seq, _seenOrder.Count);
        else _runs.Add((seq, _seenOrder.Count));
    }

    /// <summary>A key whose hash is known was read back and is not in the journal: it is free.</summary>
    public void Collided(AccountId account, TxId id) => _collisions.Add((account, id));

    /// <summary>The oldest answers beyond <paramref name="keep"/> leave memory (call only once they are durable).</summary>
    public void Evict(int keep)
    {
        while (_order.Count > keep) _resident.Remove(_order.Dequeue());
    }

    /// <summary>The journal sequence number from which a read finds every one of <paramref name="keys"/>.</summary>
    public long ReadFrom(IEnumerable<(AccountId Account, TxId Id)> keys)
    {
        var wanted = keys.Select(k => AccountState.KeyHash(k.Account, k.Id)).ToHashSet();
        if (!wanted.IsSubsetOf(_seen)) return 0;
        var from = long.MaxValue;
        for (int i = 0, run = 0; i < _seenOrder.Count && wanted.Count > 0; i++)
        {
            while (_runs[run].End <= i) run++;
            if (wanted.Remove(_seenOrder[i])) from = Math.Min(from, _runs[run].Seq);
        }
        return from == long.MaxValue ? 0 : from;
    }

    /// <summary>
    /// The answers in memory (oldest first); every key's hash in the order given, as little-endian 64-bit integers; and
    /// the runs of sequence numbers over them, as pairs of little-endian 64-bit sequence number and 32-bit run length.
    /// </summary>
    public (PoolAnswerEntry[] Answers, byte[] Seen, byte[] SeenRuns) ToSnapshot()
    {
        var answers = _order.Select(k => new PoolAnswerEntry(k.Account, k.Id, _resident[k].Out, _resident[k].Code, _resident[k].Fingerprint, _resident[k].Fill)).ToArray();
        var seen = new byte[_seenOrder.Count * sizeof(ulong)];
        for (var i = 0; i < _seenOrder.Count; i++) BinaryPrimitives.WriteUInt64LittleEndian(seen.AsSpan(i * sizeof(ulong)), _seenOrder[i]);
        var runs = new byte[_runs.Count * RunBytes];
        var start = 0;
        for (var i = 0; i < _runs.Count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(runs.AsSpan(i * RunBytes), _runs[i].Seq);
            BinaryPrimitives.WriteInt32LittleEndian(runs.AsSpan(i * RunBytes + sizeof(long)), _runs[i].End - start);
            start = _runs[i].End;
        }
        return (answers, seen, runs);
    }

    private const int RunBytes = sizeof(long) + sizeof(int);

    /// <summary>
    /// Fills an empty store from a snapshot. Older snapshots carry one sequence number per hash (<paramref name="seenAt"/>)
    /// or none at all; keys without one are read from the start of the journal.
    /// </summary>
    public void Restore(PoolAnswerEntry[] answers, byte[]? seen, byte[]? seenRuns, byte[]? seenAt = null)
    {
        var count = seen is null ? 0 : seen.Length / sizeof(ulong);
        var seqs = new long[count];
        if (seenRuns is not null)
        {
            for (int r = 0, i = 0; r < seenRuns.Length / RunBytes; r++)
            {
                var seq = BinaryPrimitives.ReadInt64LittleEndian(seenRuns.AsSpan(r * RunBytes));
                var length = BinaryPrimitives.ReadInt32LittleEndian(seenRuns.AsSpan(r * RunBytes + sizeof(long)));
                for (var end = Math.Min(count, i + length); i < end; i++) seqs[i] = seq;
            }
        }
        else if (seenAt is not null && seenAt.Length == count * sizeof(long))
        {
            for (var i = 0; i < count; i++) seqs[i] = BinaryPrimitives.ReadInt64LittleEndian(seenAt.AsSpan(i * sizeof(long)));
        }
        for (var i = 0; i < count; i++)
        {
            var hash = BinaryPrimitives.ReadUInt64LittleEndian(seen.AsSpan(i * sizeof(ulong)));
            if (_seen.Add(hash)) Seen(hash, seqs[i]);
        }
        var journalSeq = JournalSeq;
        JournalSeq = 0;
        foreach (var a in answers) Remember(a.Account, a.Id, new CallAnswer(a.Out, a.Code, a.Fingerprint, a.Fill));
        JournalSeq = journalSeq;
    }
}
