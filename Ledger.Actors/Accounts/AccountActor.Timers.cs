using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Accounts;

/// <summary>Deadlines: reservations expire on time (and a waker restarts the account for them), overdue saga holds are asked about.</summary>
public sealed partial class AccountActor
{
    private ITimer? _expiryTimer;
    private long? _expiryDueAt;
    private ITimer? _holdTimer;
    private long? _holdCheckDueAt;
    /// <summary>Whether this account's waker is durably remembered (so a restart wakes it to expire on time).</summary>
    private bool _wakerArmed;
    private bool _arming;

    /// </summary>
    private void ScheduleExpiry()
    {
        ScheduleHoldCheck();
        var next = _state.NextExpiry();
        if (next is not null && !_wakerArmed && !_arming)
        {
            _arming = true;
            _peers.Wakers.Tell(new ArmWaker(_id), Self);
        }
        else if (next is null && _wakerArmed)
        {
            _wakerArmed = false;
            _peers.Wakers.Tell(new DisarmWaker(_id), Self);
        }
        if (next == _expiryDueAt) return;
        _expiryTimer?.Dispose();
        _expiryTimer = null;
        _expiryDueAt = next;
        if (next is null) return;
        _expiryTimer = Tick(ExpireTick.Instance, next.Value, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// While a saga hold or a payee's promise exists, a timer (on the account's <see cref="TimeProvider"/>) fires from
    /// its expiry on, every redelivery interval, and asks each overdue saga for its decision until it arrives. (After a crash
    /// the saga, started again by the owing index, tells the account by itself.)
    /// </summary>
    private void ScheduleHoldCheck()
    {
        var next = _promised.Count == 0 ? _state.NextHoldExpiry() : Math.Min(_state.NextHoldExpiry() ?? long.MaxValue, _promised.Values.Min());
        if (next == _holdCheckDueAt) return;
        _holdTimer?.Dispose();
        _holdTimer = null;
        _holdCheckDueAt = next;
        if (next is null) return;
        _holdTimer = Tick(HoldTick.Instance, next.Value, _settings.RedeliverAfter);
    }

    /// <summary>
    /// A timer of the account's <see cref="TimeProvider"/> telling this actor <paramref name="tick"/> at <paramref name="dueAt"/>
    /// (Unix milliseconds; at once if past), then every <paramref name="period"/>. A method of its
    /// own: the closure over the actor's reference would otherwise be allocated on every call of the method creating
    /// the timer, timer or not (the expiry and hold checks run after every write).
    /// </summary>
    private ITimer Tick(object tick, long dueAt, TimeSpan period)
    {
        var self = Self;
        return Time.CreateTimer(_ => self.Tell(tick), null, TimeSpan.FromMilliseconds(Math.Max(0, dueAt - Now)), period);
    }

    protected override void PostStop()
    {
        _expiryTimer?.Dispose();
        _holdTimer?.Dispose();
        base.PostStop();
    }
}
