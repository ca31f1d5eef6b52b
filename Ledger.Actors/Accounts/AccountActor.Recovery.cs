using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Accounts;

/// <summary>After a crash: requests that read balances wait until what the journal shows in flight has been answered again.</summary>
public sealed partial class AccountActor
{
    /// <summary>
    /// After recovery, the transfers and calls the journal shows in flight, until each payee or venue has answered again.
    /// Their outcome may already have been answered to a client before the crash (the payer's record of it is deferred),
    /// so until they settle the account's balances may not be what that client was told.
    /// </summary>
    private HashSet<TxId>? _unsettled;
    /// <summary>Requests that read or spend this account's balances, held (in arrival order) while <see cref="_unsettled"/> is not empty.</summary>
    private List<(object Message, IActorRef Sender)>? _held;

    /// <summary>
    /// Whatever reads or spends the balances waits for a recovery's settling; what only adds to them or applies a decision
    /// taken elsewhere (a credit, a saga's outcome) does not, so two recovering accounts that owe each other never wait on
    /// each other. A saga's prepare waits too: it can only wait until that saga's locks expire.
    /// </summary>
    private static bool ReadsBalances(object m) => m is not (Deliver or ResolveSaga or ExpireTick);

    private void Hold(object message, IActorRef sender)
    {
        if (_held!.Count < _settings.RecoveryHoldMax) _held.Add((message, sender));
        else if (sender != ActorRefs.Nobody) sender.Tell(new JournalUnavailable(PersistenceId));
    }

    /// <summary>Once nothing recovered is in flight any more, the account is as its answers said: the held requests go on, in order.</summary>
    private void SettleRecovery()
    {
        if (_unsettled is null) return;
        _unsettled.RemoveWhere(id => !_state.Outgoing.TryGetValue(id, out var t) || t.Status != TransferStatus.InFlight);
        if (_unsettled.Count > 0) return;
        var held = _held!;
        _unsettled = null;
        _held = null;
        foreach (var (message, sender) in held) Queue(message, sender);
        if (!Writing) Flush();
    }
}
