using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Accounts;

/// <summary>
/// The payer's side of transfers and venue calls, as pure code: the steps it owes payees and venues with when each was
/// last sent, and the records their answers decided, which wait to ride along with the account's next write. The
/// account actor drives it with real messages and journal writes; the property tests drive the same code through a
/// simulated network (<c>ContractWorld</c>).
/// <para>
/// Deferring those records is safe because each can be derived again: the payee's or venue's side is durable and
/// answers a redelivery the same way. Until they are written, the step stays in the journal's owing index.
/// </para>
/// </summary>
public sealed class Outbox
{
    /// <summary>When an owed step that has not been sent yet was sent.</summary>
    private const long NotSent = long.MinValue;

    /// <summary>Transfers that still owe the payee a step, and venue calls not yet answered, with when they were last sent.</summary>
    private readonly Dictionary<TxId, long> _owed = new(4);
    private readonly List<IAccountEvent> _deferred = new(4);

    /// <summary>Steps owed and not yet answered.</summary>
    public int Owed => _owed.Count;

    /// <summary>Applied but not yet written (lost in a crash, and derived again from the other side's answer).</summary>
    public IReadOnlyList<IAccountEvent> Deferred => _deferred;

    /// <summary>
    /// A deferred record confirms a reservation: it is written at once rather than with the next write, so that after
    /// a restart the reservation expires on its deadline without waiting for a redelivery round trip.
    /// </summary>
    public bool WriteSoon { get; private set; }

    /// <summary>The deferred records have waited long enough: they are written on their own at the next chance.</summary>
    public void WriteDeferredSoon() => WriteSoon = true;

    /// <summary>What one decided (and applied) event makes owed: a debit, a post, a void, an expiry, a venue call.</summary>
    public void Decided(IAccountEvent e)
    {
        TxId? id = e switch
        {
            TransferDebited d => d.Id,
            PoolCallSent c => c.Id,
            VenueCallSent c => c.Id,
            PendingPosted p => p.Id,
            PendingVoided v => v.Id,
            PendingExpired x => x.Id,
            _ => null,
        };
        if (id is { } owed) _owed[owed] = NotSent;
    }

    /// <summary>After recovery every open step is owed again: whether it reached the other side is not known.</summary>
    public void Recovered(AccountState s)
    {
        foreach (var t in s.Outgoing.Values)
            if (t.AwaitsDelivery || (t.Call is not null || t.Venue is not null) && t.Status == TransferStatus.InFlight) _owed[t.Id] = NotSent;
    }

    /// <summary>
    /// A payee made a step durable: applies what that decides (delivered, or compensated) and defers its record. A
    /// transfer that still owes a step (a post or void decided meanwhile) is owed again at once.
    /// </summary>
    public void Acknowledged(AccountState s, DeliveryResult r, long now)
    {
        var acknowledged = AccountContract.Acknowledge(s, r, now);
        for (var i = 0; i < acknowledged.Count; i++)
        {
            AccountContract.Apply(s, acknowledged[i]);
            _deferred.Add(acknowledged[i]);
        }
        if (!s.Outgoing.TryGetValue(r.Id, out var t)) return;
        if (!t.AwaitsDelivery) _owed.Remove(r.Id);
        else if (acknowledged.Count > 0) _owed[r.Id] = NotSent;
        if (t.IsPending) WriteSoon = true;
    }

    /// <summary>A venue made its answer durable: applies what it brings back and defers the record.</summary>
    public void Answered(AccountState s, TxId id, CallAnswer answer, long now)
    {
        foreach (var e in AccountContract.Answered(s, id, answer, now))
        {
            AccountContract.Apply(s, e);
            _deferred.Add(e);
        }
        _owed.Remove(id);
    }

    /// <summary>
    /// The owed transfers and calls to send now — never sent, or last sent <paramref name="resendAfter"/> or longer
    /// before <paramref name="now"/>; all of them with <paramref name="force"/> — each marked sent at <paramref name="now"/>.
    /// </summary>
    public List<Transfer>? Due(AccountState s, long now, long resendAfter, bool force)
    {
        List<Transfer>? due = null;
        foreach (var (id, sentAt) in _owed)
            if (force || sentAt == NotSent || now - sentAt >= resendAfter) (due ??= new(1)).Add(s.Outgoing[id]);
        if (due is not null)
            foreach (var t in due) _owed[t.Id] = now;
        return due;
    }

    /// <summary>Puts the deferred records at the front of a write (the journal's order is the order they were applied).</summary>
    public void TakeDeferred(List<IAccountEvent> write)
    {
        WriteSoon = false;
        if (_deferred.Count == 0) return;
        write.InsertRange(0, _deferred);
        _deferred.Clear();
    }

    /// <summary>
    /// Nothing is owed and every deferred record that moves a balance (a refund, a venue's answer) is written: until then a
    /// crash would leave the journal showing value still on its way. A deferred acknowledgement of a credit may wait: the
    /// payee holds that value durably, and the payer reads its own record again when it next starts.
    /// </summary>
    public bool Settled
    {
        get
        {
            if (_owed.Count > 0) return false;
            foreach (var e in _deferred)
                if (e is not DeliveryAcknowledged) return false;
            return true;
        }
    }
}
