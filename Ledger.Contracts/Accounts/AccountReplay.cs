using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Accounts;

/// <summary>
/// Reads settled records back: folds an account's events, oldest first, through the same
/// <see cref="AccountContract.Apply"/> (evicting everything settled as it goes, so memory stays small) and
/// keeps only the records asked for, by key and by history position.
/// </summary>
public sealed class AccountReplay
{
    private readonly AccountState _state;
    private readonly HashSet<(AccountId From, TxId Id)> _wanted;
    private readonly Dictionary<(AccountId From, TxId Id), Transfer> _found = [];
    private readonly long _historyFrom;
    private readonly long _historyTo;
    private readonly List<Transfer> _history = [];

    /// <param name="keys">Records wanted by (payer, id); the payer is the account itself for its outgoing ones.</param>
    /// <param name="historyFrom">First history position wanted.</param>
    /// <param name="historyTo">One past the last history position wanted.</param>
    public AccountReplay(AccountId id, IEnumerable<(AccountId From, TxId Id)> keys, long historyFrom = 0, long historyTo = 0)
    {
        _state = new AccountState { Id = id, HistoryKeep = 1 };
        _wanted = [.. keys];
        _historyFrom = historyFrom;
        _historyTo = historyTo;
    }

    public void Apply(IAccountEvent e)
    {
        var position = _state.HistoryCount;
        AccountContract.Apply(_state, e);
        if (_state.HistoryCount > position && position >= _historyFrom && position < _historyTo) _history.Add(_state.RecentHistory[^1]);
        foreach (var key in Created(e))
            if (_wanted.Contains(key) && (key.From == _state.Id ? _state.Outgoing.GetValueOrDefault(key.Id) : _state.Incoming.GetValueOrDefault(key)) is { } t)
                _found[key] = t;
        _state.Evict(0, _state.SettledTotal);
    }

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

    public IReadOnlyCollection<Transfer> Found => _found.Values;

    public IEnumerable<(AccountId From, TxId Id)> NotFound => _wanted.Where(k => !_found.ContainsKey(k));

    /// <summary>The history entries asked for that exist, oldest first.</summary>
    public IReadOnlyList<Transfer> History => _history;
}
