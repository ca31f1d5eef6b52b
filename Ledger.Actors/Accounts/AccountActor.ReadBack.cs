using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Accounts;

/// <summary>Records that left memory, read back from the journal: for repeated requests and for older pages of the transaction list.</summary>
public sealed partial class AccountActor
{
    /// <summary>Decisions waiting for a settled record to be read back from the journal, by the record's key.</summary>
    private readonly Dictionary<(AccountId From, TxId Id), List<Action<long, List<IAccountEvent>, List<Action>>>> _parked = [];
    private readonly HashSet<(AccountId From, TxId Id)> _reading = [];

    /// <summary>Decides again, once the record it names is back in memory.</summary>
    private void Park((AccountId From, TxId Id) key, Action<long, List<IAccountEvent>, List<Action>> retry)
    {
        if (!_parked.TryGetValue(key, out var list)) _parked[key] = list = [];
        list.Add(retry);
    }

    /// <summary>Starts one journal read for every parked key not yet being read.</summary>
    private void ReadBackParked()
    {
        if (_parked.Count == 0) return;
        var keys = _parked.Keys.Where(_reading.Add).ToArray();
        if (keys.Length == 0) return;
        var from = _state.ReadFrom(keys.Select(k => AccountState.KeyHash(k.From, k.Id)));
        var replay = new AccountReplay(_id, keys);
        Context.ActorOf(EntityReader.Props(JournalRef, PersistenceId, from, new AccountFold(replay), Self,
            () => new ReadBackDone([.. replay.Found], [.. replay.NotFound]), new ReadBackFailed(keys)));
    }

    /// <summary>
    /// One page of the transaction list, newest first, from memory when it holds the page, else read back from
    /// the journal (records still open are taken from memory: they may have changed since they were written).
    /// The read starts where the page's oldest evicted record was made; positions older than the account's list of
    /// history hashes (a snapshot written before it) are found by counting from the start of the journal.
    /// </summary>
    private void ListPage(ListTransactions list, IActorRef sender)
    {
        var end = Math.Clamp(list.Before ?? _state.HistoryCount, 0, _state.HistoryCount);
        var start = Math.Max(0, end - list.Limit);
        // Records in memory are answered as they are now (as views: the reader's answer runs on the reader, which must
        // not touch this actor's state); the rest are read back from the journal.
        var items = new TransferView?[end - start];
        var hashes = new ulong[items.Length];
        Dictionary<ulong, TransferView>? resident = null;
        for (var i = 0; i < items.Length; i++)
        {
            if (_state.HistoryAt(start + i) is { } held)
            {
                items[i] = TransferView.Of(held);
                continue;
            }
            resident ??= ResidentViews();
            if (_state.HistoryKeyAt(start + i) is not { } hash)
            {
                var positions = new AccountReplay(_id, [], null, start, end);
                Context.ActorOf(EntityReader.Props(JournalRef, PersistenceId, 0, new AccountFold(positions), sender,
                    () => Page([.. positions.Positions.Select(t => resident.GetValueOrDefault(AccountState.KeyHash(t.From, t.Id)) ?? TransferView.Of(t))], start),
                    new Rejected(Codes.Unavailable)));
                return;
            }
            hashes[i] = hash;
            items[i] = resident.GetValueOrDefault(hash);
        }
        var wanted = hashes.Where((_, i) => items[i] is null).ToArray();
        if (wanted.Length == 0) sender.Tell(Page(items!, start));
        else
        {
            var replay = new AccountReplay(_id, [], wanted);
            Context.ActorOf(EntityReader.Props(JournalRef, PersistenceId, _state.ReadFrom(wanted), new AccountFold(replay), sender,
                () => Page([.. items.Select((v, i) => v ?? (replay.HistoryEntry(hashes[i]) is { } t ? TransferView.Of(t) : null)).OfType<TransferView>()], start),
                new Rejected(Codes.Unavailable)));
        }
    }

    private Dictionary<ulong, TransferView> ResidentViews()
    {
        var views = new Dictionary<ulong, TransferView>();
        foreach (var t in _state.Outgoing.Values.Concat(_state.Incoming.Values)) views[AccountState.KeyHash(t.From, t.Id)] = TransferView.Of(t);
        return views;
    }

    private static TransactionPage Page(IReadOnlyList<TransferView> oldestFirst, long start) =>
        new([.. oldestFirst.Reverse()], start > 0 ? (int)start : null);

    private sealed class ReadBackTick : INoSerializationVerificationNeeded
    {
        public static readonly ReadBackTick Instance = new();
    }
}
