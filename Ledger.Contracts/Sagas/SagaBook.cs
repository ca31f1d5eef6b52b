using System.Buffers.Binary;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Sagas;

/// <summary>
/// What one saga coordinator knows, folded from its journal: every saga under way, the most recently finished ones
/// (a retry of the same request is answered from them), and for every saga it ever started the hash of its key and
/// the journal sequence number of its intent, so that a retry of an older one is recognised and read back from there.
/// </summary>
public sealed class SagaBook
{
    private readonly Dictionary<SagaKey, SagaState> _resident = [];
    /// <summary>The finished sagas still in memory, oldest first.</summary>
    private readonly Queue<SagaKey> _finished = new();
    /// <summary>Every saga's key hash → where its intent was written.</summary>
    private readonly Dictionary<ulong, long> _seen = [];
    /// <summary>Keys read back and found absent although their hash is in <see cref="_seen"/>.</summary>
    private readonly HashSet<SagaKey> _collisions = [];

    /// <summary>Sagas started and not finished.</summary>
    public IEnumerable<SagaState> Live => _resident.Values.Where(s => s.Phase is SagaPhase.Started or SagaPhase.Decided);

    /// <summary>Sagas ever started.</summary>
    public int Count => _seen.Count;

    public Known Find(SagaKey key, out SagaState? state)
    {
        if (_resident.TryGetValue(key, out state)) return Known.Resident;
        return _seen.ContainsKey(key.Hash) && !_collisions.Contains(key) ? Known.Evicted : Known.Absent;
    }

    /// <summary>Where a read finds <paramref name="key"/>'s events (0: from the start).</summary>
    public long ReadFrom(SagaKey key) => _seen.GetValueOrDefault(key.Hash);

    /// <summary>Folds one event, written (or replayed) at journal sequence number <paramref name="seq"/>.</summary>
    public void Apply(ISagaEvent e, long seq)
    {
        if (e is SagaStarted)
        {
            _resident[e.Key] = new SagaState { Key = e.Key };
            _seen.TryAdd(e.Key.Hash, seq);
            _collisions.Remove(e.Key);
        }
        if (!_resident.TryGetValue(e.Key, out var s)) return;
        SagaContract.Apply(s, e);
        if (e is SagaFinished) _finished.Enqueue(e.Key);
    }

    /// <summary>A finished saga read back from the journal is held in memory again, as the newest.</summary>
    public void ReadBack(SagaState s)
    {
        if (s.Phase != SagaPhase.Finished || !_resident.TryAdd(s.Key, s)) return;
        _finished.Enqueue(s.Key);
    }

    /// <summary>A key whose hash is known was read back and is not in the journal: it is free.</summary>
    public void Collided(SagaKey key) => _collisions.Add(key);

    /// <summary>The oldest finished sagas beyond <paramref name="keep"/> leave memory (call only once they are durable).</summary>
    public void Evict(int keep)
    {
        while (_finished.Count > keep) _resident.Remove(_finished.Dequeue());
    }

    public SagaBookSnapshot ToSnapshot()
    {
        var sagas = _resident.Values.Where(s => s.Phase != SagaPhase.Finished).Concat(_finished.Select(k => _resident[k])).ToArray();
        var seen = new byte[_seen.Count * 2 * sizeof(long)];
        var i = 0;
        foreach (var (hash, seq) in _seen)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(seen.AsSpan(i), hash);
            BinaryPrimitives.WriteInt64LittleEndian(seen.AsSpan(i + sizeof(long)), seq);
            i += 2 * sizeof(long);
        }
        return new SagaBookSnapshot(
            [.. sagas.Select(s => new SagaStarted(s.Ops, s.ExpiresAt, s.StartedAt, s.Key))],
            [.. sagas.Where(s => s.Phase >= SagaPhase.Decided).Select(s => new SagaDecided(s.Commit, s.FailedOp, s.Code, s.Fills, s.DecidedAt ?? 0, s.Key))],
            [.. sagas.Where(s => s.Phase == SagaPhase.Finished).Select(s => new SagaFinished(0, s.Key))],
            seen);
    }

    public static SagaBook Restore(SagaBookSnapshot snapshot)
    {
        var book = new SagaBook();
        for (var i = 0; i + 2 * sizeof(long) <= snapshot.Seen.Length; i += 2 * sizeof(long))
            book._seen[BinaryPrimitives.ReadUInt64LittleEndian(snapshot.Seen.AsSpan(i))] = BinaryPrimitives.ReadInt64LittleEndian(snapshot.Seen.AsSpan(i + sizeof(long)));
        foreach (var e in snapshot.Started) book._resident[e.Key] = new SagaState { Key = e.Key };
        foreach (var e in snapshot.Started.Concat<ISagaEvent>(snapshot.Decided).Concat(snapshot.Finished)) SagaContract.Apply(book._resident[e.Key], e);
        foreach (var e in snapshot.Finished) book._finished.Enqueue(e.Key);
        return book;
    }
}

/// <summary>
/// The persisted form of a <see cref="SagaBook"/>: the sagas in memory as the events that make them (finished ones
/// in the order they finished), and every key hash with where its intent was written, as little-endian 64-bit pairs.
/// </summary>
public sealed record SagaBookSnapshot(SagaStarted[] Started, SagaDecided[] Decided, SagaFinished[] Finished, byte[] Seen);
