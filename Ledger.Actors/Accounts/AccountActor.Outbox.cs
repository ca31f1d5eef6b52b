using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Accounts;

/// <summary>
/// The payer's side of a transfer or venue call, in messages and timers: the steps <see cref="Outbox"/> says are due,
/// sent and resent until answered; the deferred records written with the next write or on their own; and the journal's
/// index of accounts that owe a step.
/// </summary>
public sealed partial class AccountActor
{
    /// <summary>What is owed and what is deferred: the protocol itself, pure, in <see cref="Outbox"/>.</summary>
    private readonly Outbox _outbox = new();
    /// <summary>Housekeeping ticks the deferred events have waited, and ticks in a row with nothing owed or deferred.</summary>
    private int _deferredTicks;
    private int _quietTicks;
    /// <summary>
    /// Whether the journal's <see cref="OwingIndex"/> may list this account: marked before the first write that leaves it
    /// owing a step, cleared once nothing is owed. After a crash the listed accounts are started by the node itself.
    /// </summary>
    private bool _markedOwing;

    private void WriteDeferredIfDue()
    {
        if (!_outbox.WriteSoon || Writing) return;
        if (_outbox.Deferred.Count > 0) Write([], []);
    }

    /// <summary>
    /// The payee made steps durable: the outcome is decided, so waiting clients hear it now; the payer's
    /// record of it is deferred to the next write.
    /// </summary>
    private void Acknowledged(DeliveryAck ack)
    {
        var now = Now;
        foreach (var r in ack.Results)
        {
            _outbox.Acknowledged(_state, r, now);
            Settle(r.Id);
        }
        WriteDeferredIfDue();
        if (_outbox.Deferred.Count > 0) EnsureHousekeeping();
        // A deadline that passed while the reservation was still unconfirmed is due now.
        if (_state.NextExpiry() <= now) Enqueue(ExpireTick.Instance, ActorRefs.Nobody);
        ClearOwingIfSettled();
        SettleRecovery();
    }

    /// <summary>
    /// The venue made its answer durable: the outcome is decided, so waiting clients hear it now, and the
    /// account's record of it rides along with the next write (a redelivery after a crash gets the same answer).
    /// </summary>
    private void VenueAnswered(VenueAnswer answer)
    {
        _outbox.Answered(_state, answer.Id, answer.Answer, Now);
        Settle(answer.Id);
        if (_outbox.Deferred.Count > 0) EnsureHousekeeping();
        ClearOwingIfSettled();
        SettleRecovery();
    }

    /// <summary>Clears the journal's owing mark once the outbox is settled (see <see cref="Outbox.Settled"/>).</summary>
    private void ClearOwingIfSettled()
    {
        if (!_markedOwing || !_outbox.Settled) return;
        JournalRef.Tell(new OwingMark(PersistenceId, LastSequenceNr, false));
        _markedOwing = false;
    }

    private void SendOwed(bool force)
    {
        if (_outbox.Owed == 0) return;
        if (_outbox.Due(_state, Environment.TickCount64, _settings.RedeliverAfter.Ticks / TimeSpan.TicksPerMillisecond, force) is { } due)
        {
            var deliveries = 0;
            foreach (var t in due)
            {
                if (t.Call is { } call) _peers.Pools.Tell(new ExecutePoolCall(call.Pool, _id, t.Id, call), Self);
                else if (t.Venue is MarketCall m) _peers.Markets.Tell(new ExecuteMarketCall(m.Market, _id, t.Id, m), Self);
                else if (t.Venue is FarmCall f) _peers.Farms.Tell(new ExecuteFarmCall(f.Farm, _id, t.Id, f), Self);
                else if (t.Venue is OptionCall o) _peers.Options.Tell(new ExecuteOptionCall(o.Series, _id, t.Id, o), Self);
                else if (t.Venue is PerpCall pc) _peers.Perps.Tell(new ExecutePerpCall(pc.Perp, _id, t.Id, pc), Self);
                else if (t.Venue is ChannelCall ch) _peers.Channels.Tell(new ExecuteChannelCall(ch.Channel, _id, t.Id, ch), Self);
                else if (t.Venue is { } venue) throw new InvalidOperationException($"unknown venue call {venue.GetType().Name}");
                else deliveries++;
            }
            if (deliveries > 0) SendDeliveries(due, deliveries);
        }
        EnsureHousekeeping();
    }

    /// <summary>One message per payee, in the order each was first owed; most rounds owe one step to one payee.</summary>
    private void SendDeliveries(List<Transfer> due, int deliveries)
    {
        static bool IsDelivery(Transfer t) => t.Call is null && t.Venue is null;
        if (deliveries == 1)
        {
            foreach (var t in due)
                if (IsDelivery(t)) _peers.Accounts.Tell(new Deliver(t.To, _id, [AccountContract.Owed(t)]), Self);
            return;
        }
        foreach (var toPayee in due.Where(IsDelivery).GroupBy(t => t.To))
            _peers.Accounts.Tell(new Deliver(toPayee.Key, _id, [.. toPayee.Select(AccountContract.Owed)]), Self);
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
        if (_outbox.Deferred.Count > 0 && ++_deferredTicks * _settings.RedeliverAfter >= _settings.DeferredFlushAfter)
        {
            _outbox.WriteDeferredSoon();
            WriteDeferredIfDue();
        }
        if (_outbox.Owed > 0 || _outbox.Deferred.Count > 0) _quietTicks = 0;
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
