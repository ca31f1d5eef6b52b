using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Accounts;

/// <summary>
/// Reads settled records back: folds an account's events, oldest first, through the same
/// <see cref="AccountContract.Apply"/> (evicting everything settled as it goes, so memory stays small) and keeps only
/// the records asked for — by key, by history hash (<see cref="AccountState.HistoryKeys"/>), or, for history older
/// than the account's list of hashes, by position.
/// <para>
/// The fold may start part-way through the journal, at the sequence number the wanted records were made at
/// (<see cref="AccountState.Seen"/>, <see cref="AccountState.ReadFrom"/>): it then starts from an empty open account
/// and passes over events about records made before it started. That cannot change a wanted record: an event changes
/// only the record it names (and balances, which a read-back does not report), and every wanted record is made, and
/// so named, only after the start. Positions are counted only by a fold from the start of the journal.
/// </para>
/// </summary>
public sealed class AccountReplay
{
    private readonly AccountState _state;
    private readonly HashSet<(AccountId From, TxId Id)> _wanted;
    private readonly Dictionary<(AccountId From, TxId Id), Transfer> _found = [];
    private readonly HashSet<ulong> _wantedHistory;
    private readonly Dictionary<ulong, Transfer> _history = [];
    private readonly long _positionFrom;
    private readonly long _positionTo;
    private readonly List<Transfer> _positions = [];

    /// <param name="keys">Records wanted by (payer, id); the payer is the account itself for its outgoing ones.</param>
    /// <param name="history">History entries wanted by record hash.</param>
    /// <param name="positionFrom">First history position wanted (only for a fold from the start of the journal).</param>
    /// <param name="positionTo">One past the last history position wanted.</param>
    public AccountReplay(AccountId id, IEnumerable<(AccountId From, TxId Id)> keys, IEnumerable<ulong>? history = null,
        long positionFrom = 0, long positionTo = 0)
    {
        // Large enough that an event's history entries are all still listed after it; the list is cleared per event.
        _state = new AccountState { Id = id, Exists = true, HistoryKeep = 1 << 20 };
        _wanted = [.. keys];
        _wantedHistory = [.. history ?? []];
        _positionFrom = positionFrom;
        _positionTo = positionTo;
    }

    public void Apply(IAccountEvent e)
    {
        if (NamesUnknownRecord(e)) return;
        var position = _state.HistoryCount;
        AccountContract.Apply(_state, e);
        foreach (var t in _state.RecentHistory)
        {
            if (position >= _positionFrom && position < _positionTo) _positions.Add(t);
            position++;
            var hash = AccountState.KeyHash(t.From, t.Id);
            if (_wantedHistory.Contains(hash)) _history[hash] = t;
        }
        _state.RecentHistory.Clear();
        _state.HistoryKeys.Clear();
        _state.HistoryKeysFrom = _state.HistoryCount;
        foreach (var key in Created(e))
            if (_wanted.Contains(key) && (key.From == _state.Id ? _state.Outgoing.GetValueOrDefault(key.Id) : _state.Incoming.GetValueOrDefault(key)) is { } t)
                _found[key] = t;
        _state.Evict(0, _state.SettledTotal);
    }

    /// <summary>An event about a record this fold has not seen made (made before it started): it changes no wanted record.</summary>
    private bool NamesUnknownRecord(IAccountEvent e) => e switch
    {
        DeliveryAcknowledged a => !_state.Outgoing.ContainsKey(a.Id),
        TransferCompensated c => !_state.Outgoing.ContainsKey(c.Id),
        PendingPosted p => !_state.Outgoing.ContainsKey(p.Id),
        PendingVoided v => !_state.Outgoing.ContainsKey(v.Id),
        PendingExpired x => !_state.Outgoing.ContainsKey(x.Id),
        PoolCallAnswered a => !_state.Outgoing.ContainsKey(a.Id),
        PendingResolved r => !_state.Incoming.ContainsKey((r.From, r.Id)),
        _ => false,
    };

    /// <summary>The keys of the records an event may create.</summary>
    private IEnumerable<(AccountId From, TxId Id)> Created(IAccountEvent e) => e switch
    {
        TransferRejected r => [(_state.Id, r.Id)],
        TransferDebited d => [(_state.Id, d.Id)],
        TransferCredited c => [(c.From, c.Id)],
        CreditRefused r => [(r.From, r.Id)],
        PoolCallRejected r => [(_state.Id, r.Id)],
        PoolCallSent c => [(_state.Id, c.Id)],
        VenueCallRejected r => [(_state.Id, r.Id)],
        VenueCallSent c => [(_state.Id, c.Id)],
        SagaHeld h => h.Ops.Select(o => (o.Op.Account, o.Op.Id)),
        SagaApplied a => a.Ops.Select(o => (o.Op.Account, o.Op.Id)),
        _ => [],
    };

    /// <summary>
    /// Everything asked for by key or hash is found and settled, so the rest of the journal cannot change it: the read
    /// may stop. (Never for positions, nor for a key that turns out absent: those read to the end.)
    /// </summary>
    public bool Done => _positionTo <= _positionFrom && _found.Count == _wanted.Count && _history.Count == _wantedHistory.Count
        && _found.Values.All(t => t.IsSettled) && _history.Values.All(t => t.IsSettled);

    public IReadOnlyCollection<Transfer> Found => _found.Values;

    public IEnumerable<(AccountId From, TxId Id)> NotFound => _wanted.Where(k => !_found.ContainsKey(k));

    /// <summary>The history entry with this record hash, if it was asked for and found.</summary>
    public Transfer? HistoryEntry(ulong hash) => _history.GetValueOrDefault(hash);

    /// <summary>The history entries asked for by position that exist, oldest first.</summary>
    public IReadOnlyList<Transfer> Positions => _positions;
}
