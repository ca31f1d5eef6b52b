using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Accounts;

/// <summary>
/// The payer's side of a transfer or venue call: steps owed to payees and venues, sent and resent until answered; the
/// answers' records deferred to ride along with the next write; and the journal's index of accounts that owe a step.
/// </summary>
public sealed partial class AccountActor
{
    // Sized here, like the state's open records and the group commit's list, so that the arrays a transfer writes
    // into are made together and lie side by side in memory: a young-generation collection scans each 256-byte
    // stretch of old memory written with a new reference since the last one, and neighbours share stretches.
    /// <summary>
    /// Applied but not yet written: what a payee's acknowledgement decided (delivered, or compensated). These
    /// can always be derived again — the payee's side is durable and answers a redelivery the same way — so
    /// they need no write of their own and ride along with the next one.
    /// </summary>
    private readonly List<IAccountEvent> _deferred = new(4);
    private bool _writeDeferredSoon;
    /// <summary>Housekeeping ticks the deferred events have waited, and ticks in a row with nothing owed or deferred.</summary>
    private int _deferredTicks;
    private int _quietTicks;
    /// <summary>Transfers that still owe the payee a step, and pool calls not yet answered, with when they were last sent.</summary>
    private readonly Dictionary<TxId, long> _owed = new(4);
    /// <summary>
    /// Whether the journal's <see cref="OwingIndex"/> may list this account: marked before the first write that leaves it
    /// owing a step, cleared once nothing is owed. After a crash the listed accounts are started by the node itself.
    /// </summary>
    private bool _markedOwing;

    private void WriteDeferredIfDue()
    {
        if (!_writeDeferredSoon || Writing) return;
        _writeDeferredSoon = false;
        if (_deferred.Count > 0) Write([], []);
    }

    /// <summary>
    /// The payee made steps durable: the outcome is decided, so waiting clients hear it now; the payer's
    /// record of it is deferred to the next write.
    /// </summary>
    private void Acknowledged(DeliveryAck ack)
    {
        var now = Now;
        var urgent = false;
        foreach (var r in ack.Results)
        {
            var acknowledged = AccountContract.Acknowledge(_state, r, now);
            for (var i = 0; i < acknowledged.Count; i++)
            {
                AccountContract.Apply(_state, acknowledged[i]);
                _deferred.Add(acknowledged[i]);
            }
            if (_state.Outgoing.TryGetValue(r.Id, out var t))
            {
                if (!t.AwaitsDelivery) _owed.Remove(r.Id);
                // A confirmed reservation is written at once, so that after a restart it expires on its deadline
                // without waiting for a redelivery round trip.
                urgent |= t.IsPending;
            }
            Settle(r.Id);
        }
        if (urgent) _writeDeferredSoon = true;
        WriteDeferredIfDue();
        if (_deferred.Count > 0) EnsureHousekeeping();
        // A deadline that passed while the reservation was still unconfirmed is due now.
        if (_state.NextExpiry() <= now) Enqueue(ExpireTick.Instance, ActorRefs.Nobody);
        ClearOwingIfSettled();
        SettleRecovery();
    }

    /// <summary>
    /// The pool made its answer durable: the outcome is decided, so waiting clients hear it now, and the
    /// account's record of it rides along with the next write (a redelivery after a crash gets the same answer).
    /// </summary>
    private void VenueAnswered(VenueAnswer answer)
    {
        foreach (var e in AccountContract.Answered(_state, answer.Id, answer.Answer, Now))
        {
            AccountContract.Apply(_state, e);
            _deferred.Add(e);
        }
        _owed.Remove(answer.Id);
        Settle(answer.Id);
        if (_deferred.Count > 0) EnsureHousekeeping();
        ClearOwingIfSettled();
        SettleRecovery();
    }

    /// <summary>
    /// Cleared once nothing is owed and every deferred record that moves a balance (a refund, a venue's answer) is durable:
    /// until then a crash would leave the account's journal showing value still on its way. A deferred acknowledgement of
    /// a credit may stay: the payee has that value durably, and the payer reads its own record again on its next start.
    /// </summary>
    private void ClearOwingIfSettled()
    {
        if (!_markedOwing || _owed.Count > 0) return;
        foreach (var e in _deferred)
            if (e is not DeliveryAcknowledged) return;
        JournalRef.Tell(new OwingMark(PersistenceId, LastSequenceNr, false));
        _markedOwing = false;
    }

    private void SendOwed(bool force)
    {
        if (_owed.Count == 0) return;
        var now = Environment.TickCount64;
        var due = _settings.RedeliverAfter.Ticks / TimeSpan.TicksPerMillisecond;
        // Fresh each round rather than kept: a long-lived list holding this round's items would be one more old object
        // pointing at young ones, which every young collection must scan.
        List<(AccountId Payee, DeliveryItem Item)>? deliveries = null;
        List<(IActorRef To, object Message, TxId Id)>? calls = null;
        foreach (var (id, sentAt) in _owed)
        {
            if (!force && sentAt != long.MinValue && now - sentAt < due) continue;
            var t = _state.Outgoing[id];
            if (t.Call is { } call)
            {
                (calls ??= []).Add((_peers.Pools, new ExecutePoolCall(call.Pool, _id, id, call), id));
                continue;
            }
            if (t.Venue is { } venue)
            {
                (calls ??= []).Add(venue switch
                {
                    MarketCall m => (_peers.Markets, new ExecuteMarketCall(m.Market, _id, id, m), id),
                    FarmCall f => (_peers.Farms, (object)new ExecuteFarmCall(f.Farm, _id, id, f), id),
                    _ => throw new InvalidOperationException($"unknown venue call {venue.GetType().Name}"),
                });
                continue;
            }
            (deliveries ??= new(1)).Add((t.To, AccountContract.Owed(t)));
        }
        if (calls is not null)
            foreach (var (to, message, id) in calls)
            {
                _owed[id] = now;
                to.Tell(message, Self);
            }
        if (deliveries is not null) SendDeliveries(deliveries, now);
        EnsureHousekeeping();
    }

    /// <summary>One message per payee, in the order each was first owed; most rounds owe one step to one payee.</summary>
    private void SendDeliveries(List<(AccountId Payee, DeliveryItem Item)> deliveries, long now)
    {
        foreach (var (_, item) in deliveries) _owed[item.Id] = now;
        if (deliveries.Count == 1) _peers.Accounts.Tell(new Deliver(deliveries[0].Payee, _id, [deliveries[0].Item]), Self);
        else
            foreach (var toPayee in deliveries.GroupBy(d => d.Payee))
                _peers.Accounts.Tell(new Deliver(toPayee.Key, _id, [.. toPayee.Select(d => d.Item)]), Self);
    }

    /// <summary>
    /// Redelivery and the lone write of deferred acknowledgements run on one repeating tick (every
    /// <see cref="AccountSettings.RedeliverAfter"/>), started when something is owed or deferred and stopped after two
    /// ticks with neither. A one-off timer armed per transfer instead made a scheduler registration that lived a
    /// second or two — long enough to be copied by every young-generation collection (a quarter of what they copied).
    /// </summary>
    private void EnsureHousekeeping()
    {
        if (Timers.IsTimerActive(HousekeepingTick.Instance)) return;
        _quietTicks = 0;
        Timers.StartPeriodicTimer(HousekeepingTick.Instance, HousekeepingTick.Instance, _settings.RedeliverAfter);
    }

    private void Housekeeping()
    {
        SendOwed(force: false);
        if (_deferred.Count > 0 && ++_deferredTicks * _settings.RedeliverAfter >= _settings.DeferredFlushAfter)
        {
            _writeDeferredSoon = true;
            WriteDeferredIfDue();
        }
        if (_owed.Count > 0 || _deferred.Count > 0) _quietTicks = 0;
        else if (++_quietTicks >= 2) Timers.Cancel(HousekeepingTick.Instance);
    }

    /// <summary>
    /// Keeps the expiry timer on the earliest deadline, and the waker armed while any deadline exists: the
    /// timer fires while this actor lives, the waker restarts it after a crash or a restart of the cluster.
    private sealed class HousekeepingTick : INoSerializationVerificationNeeded
    {
        public static readonly HousekeepingTick Instance = new();
    }
}
