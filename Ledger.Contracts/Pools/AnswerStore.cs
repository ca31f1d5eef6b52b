using System.Buffers.Binary;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Pools;

/// <summary>
/// The answers a venue (a pool, a market, a farm) gave, by (account, id), so that a call delivered twice is answered
/// the same way and executed once. Only the newest answers stay in memory (<see cref="Evict"/>); for every answer ever
/// given the store keeps a 64-bit hash of its key and the journal sequence number it was written at, so an older key
/// is recognised and its answer read back from that point of the journal, not from the start.
/// </summary>
public sealed class AnswerStore
{
    private readonly Dictionary<(AccountId Account, TxId Id), CallAnswer> _resident = [];
    private readonly Queue<(AccountId Account, TxId Id)> _order = new();
    /// <summary>Every key's hash, with the journal sequence number its answer was written at (0: unknown, read from the start).</summary>
    private readonly Dictionary<ulong, long> _seen = [];
    /// <summary>Keys read back and found absent although their hash is in <see cref="_seen"/>.</summary>
    private readonly HashSet<(AccountId Account, TxId Id)> _collisions = [];

    /// <summary>Where answers remembered now are written: the entity's next journal sequence number (or the row being replayed).</summary>
    public long JournalSeq { get; set; }

    /// <summary>Answers ever given (held or not).</summary>
    public int Count => _seen.Count;

    public Known Find(AccountId account, TxId id, out CallAnswer? answer)
    {
        if (_resident.TryGetValue((account, id), out answer)) return Known.Resident;
        return _seen.ContainsKey(AccountState.KeyHash(account, id)) && !_collisions.Contains((account, id)) ? Known.Evicted : Known.Absent;
    }

    /// <summary>The answer if it is in memory.</summary>
    public bool TryGetValue((AccountId Account, TxId Id) key, out CallAnswer answer) => _resident.TryGetValue(key, out answer!);

    public CallAnswer? GetValueOrDefault((AccountId Account, TxId Id) key) => _resident.GetValueOrDefault(key);

    public void Remember(AccountId account, TxId id, CallAnswer answer)
    {
        if (_resident.TryAdd((account, id), answer)) _order.Enqueue((account, id));
        _seen.TryAdd(AccountState.KeyHash(account, id), JournalSeq);
        if (_collisions.Count > 0) _collisions.Remove((account, id));
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
        var from = long.MaxValue;
        foreach (var (account, id) in keys) from = Math.Min(from, _seen.GetValueOrDefault(AccountState.KeyHash(account, id)));
        return from == long.MaxValue ? 0 : from;
    }

    /// <summary>The answers in memory (oldest first), and every key's hash and sequence number as two little-endian arrays.</summary>
    public (PoolAnswerEntry[] Answers, byte[] Seen, byte[] SeenAt) ToSnapshot()
    {
        var answers = _order.Select(k => new PoolAnswerEntry(k.Account, k.Id, _resident[k].Out, _resident[k].Code)).ToArray();
        var seen = new byte[_seen.Count * sizeof(ulong)];
        var at = new byte[_seen.Count * sizeof(long)];
        var i = 0;
        foreach (var (hash, seq) in _seen)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(seen.AsSpan(i * sizeof(ulong)), hash);
            BinaryPrimitives.WriteInt64LittleEndian(at.AsSpan(i * sizeof(long)), seq);
            i++;
        }
        return (answers, seen, at);
    }

    /// <summary>Fills an empty store from a snapshot; one written before sequence numbers were kept reads those keys from the start.</summary>
    public void Restore(PoolAnswerEntry[] answers, byte[]? seen, byte[]? seenAt)
    {
        for (var i = 0; seen is not null && i < seen.Length / sizeof(ulong); i++)
        {
            var at = seenAt is not null && seenAt.Length == seen.Length ? BinaryPrimitives.ReadInt64LittleEndian(seenAt.AsSpan(i * sizeof(long))) : 0;
            _seen.TryAdd(BinaryPrimitives.ReadUInt64LittleEndian(seen.AsSpan(i * sizeof(ulong))), at);
        }
        var journalSeq = JournalSeq;
        JournalSeq = 0;
        foreach (var a in answers) Remember(a.Account, a.Id, new CallAnswer(a.Out, a.Code));
        JournalSeq = journalSeq;
    }
}
