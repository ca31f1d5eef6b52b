using FsCheck.Xunit;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;

namespace Ledger.Tests.Contracts;

/// <summary>
/// Any sequence of operations — mints, transfers (also to accounts that do not exist), reservations,
/// posts, voids, expiries — with messages delivered late, out of order and more than once, keeps every
/// asset summing to zero and never lets a non-issuer's available balance go negative. Each generated
/// number is read as one step of a script, so FsCheck can shrink a failure to a short one. Scripts also
/// repeat earlier requests (as retries, or with another body), and every script is run twice: with all
/// records in memory, and with every settled record evicted at once and read back from the event log —
/// and both runs must decide every step the same way and end in the same state (records and every page of history).
/// </summary>
public class AccountProperties
{
    private static readonly string[] Users = ["a0", "a1", "a2", "a3", "a4"];
    private static readonly string[] Assets = ["USD", "EUR"];

    private sealed record Request(string From, string To, string Asset, ulong Amount, string Id, bool Pending, long? TimeoutMs);

    [Property(MaxTest = 300)]
    public bool Conservation_and_no_overdraft_hold_after_every_step(uint[] script)
    {
        var all = new ContractWorld();
        var evicting = new ContractWorld(keepSettled: 0);
        var requestsAll = new List<Request>();
        var requestsEvicting = new List<Request>();
        foreach (var w in new[] { all, evicting })
        {
            foreach (var u in Users) w.Open(u);
            w.Issue("issuer", "USD");
            w.Issue("issuer", "EUR");
        }
        var n = 0;
        foreach (var step in script)
        {
            var v = Scripts.Mix(step);
            if (Step(all, requestsAll, v, n) != Step(evicting, requestsEvicting, v, n)) return false;
            n++;
            if (!Holds(all) || !Holds(evicting)) return false;
        }
        all.DeliverAll();
        evicting.DeliverAll();
        return Holds(all) && Settled(all) && Holds(evicting) && Settled(evicting) && SameRecords(all, evicting, requestsAll)
            && SameHistory(all, evicting);
    }

    /// <summary>
    /// Every page of every account's transaction list, read back from the journal where its records were made, is the
    /// page the run that keeps everything in memory holds.
    /// </summary>
    private static bool SameHistory(ContractWorld all, ContractWorld evicting)
    {
        foreach (var (id, s) in all.Accounts)
            for (var start = 0L; start < s.HistoryCount; start++)
            {
                var end = Math.Min(start + 3, s.HistoryCount);
                var page = evicting.Page(id, start, end);
                if (page.Count != end - start) return false;
                for (var i = 0; i < page.Count; i++)
                {
                    var (x, y) = (s.HistoryAt(start + i)!, page[i]);
                    if ((x.From, x.Id, x.Status, x.Code, x.PostedAmount, x.CompletedAt) != (y.From, y.Id, y.Status, y.Code, y.PostedAmount, y.CompletedAt))
                        return false;
                }
            }
        return true;
    }

    /// <summary>One step; returns how it was decided, to compare two runs.</summary>
    private static string Step(ContractWorld w, List<Request> requests, uint v, int n)
    {
        string Pick(string[] xs, int shift) => xs[(int)((v >> shift) % (uint)xs.Length)];
        var amount = (ulong)((v >> 12) % 500);
        var asset = Pick(Assets, 20);
        var from = Pick(Users, 4);
        var to = (v >> 8) % 7 == 6 ? "ghost" : Pick(Users, 8);
        var id = "t" + n;
        Decision? d = null;
        switch (v % 11)
        {
            case 0: d = Send(new Request("issuer", to, asset, amount * 10 + 1, id, false, null)); break;
            case 1:
            case 2: d = Send(new Request(from, to, asset, amount, id, false, null)); break;
            case 3: d = Send(new Request(from, to, asset, amount, id, true, (v >> 24) % 3 == 0 ? null : 50)); break;
            case 4:
            case 5:
                {
                    var pending = Open(w, from);
                    if (pending is not null) d = w.Post(from, pending.Id.Value, (v >> 22) % 2 == 0 ? null : Math.Min(amount + 1, (ulong)pending.Amount.Value));
                    break;
                }
            case 6:
                {
                    var pending = Open(w, from);
                    if (pending is not null) d = w.Void(from, pending.Id.Value);
                    break;
                }
            case 7:
                w.Now += (v >> 10) % 40;
                w.Expire(from);
                break;
            case 8:
                {
                    // An earlier request again: a retry, a conflicting body, or a post / void of it.
                    if (requests.Count == 0) break;
                    var r = requests[(int)((v >> 4) % (uint)requests.Count)];
                    d = ((v >> 26) % 4) switch
                    {
                        0 => w.Transfer(r.From, r.To, r.Asset, r.Amount, r.Id, r.Pending, r.TimeoutMs),
                        1 => w.Transfer(r.From, r.To, r.Asset, r.Amount + 1, r.Id, r.Pending, r.TimeoutMs),
                        2 => w.Post(r.From, r.Id),
                        _ => w.Void(r.From, r.Id),
                    };
                    break;
                }
            default:
                if (w.Network.Count > 0) w.Handle((int)((v >> 5) % (uint)w.Network.Count), duplicate: (v >> 30) == 1);
                break;
        }
        return d is { } x ? $"{x.Rejection}|{x.Awaits}|{string.Join(",", x.Events.Select(e => e.GetType().Name))}" : "";

        Decision Send(Request r)
        {
            requests.Add(r);
            return w.Transfer(r.From, r.To, r.Asset, r.Amount, r.Id, r.Pending, r.TimeoutMs);
        }
    }

    /// <summary>Both runs hold the same balances and, for every request, the same record on both sides.</summary>
    private static bool SameRecords(ContractWorld a, ContractWorld b, List<Request> requests)
    {
        foreach (var (id, s) in a.Accounts)
            foreach (var (asset, x) in s.Balances)
            {
                var y = b.Balance(id.Value, asset.Value);
                if (x.Posted != y.Posted || x.PendingOut != y.PendingOut || x.PendingIn != y.PendingIn) return false;
            }
        foreach (var r in requests)
            foreach (var account in new[] { r.From, r.To })
            {
                var x = a.Record(new(account), new(r.From), new(r.Id));
                var y = b.Record(new(account), new(r.From), new(r.Id));
                if (x?.Status != y?.Status || x?.Code != y?.Code || x?.PostedAmount != y?.PostedAmount) return false;
            }
        return true;
    }

    private static Transfer? Open(ContractWorld w, string account) =>
        w.State(new(account)).Outgoing.Values.FirstOrDefault(t => t.Status == TransferStatus.Pending);

    private static bool Holds(ContractWorld w)
    {
        if (w.Sums().Values.Any(sum => sum != 0)) return false;
        foreach (var s in w.Accounts.Values)
            foreach (var (asset, b) in s.Balances)
                if (!s.IssuerOf.Contains(asset) && (b.Available < 0 || b.Posted < 0)) return false;
        return true;
    }

    /// <summary>Once the network is drained nothing is in flight and both sides agree on every reservation.</summary>
    private static bool Settled(ContractWorld w)
    {
        foreach (var s in w.Accounts.Values)
        {
            if (s.Unconfirmed().Any()) return false;
            foreach (var t in s.Outgoing.Values)
            {
                if (t.Status == TransferStatus.InFlight || t.AwaitsDelivery) return false;
                if (t.Status is TransferStatus.Pending or TransferStatus.Committed or TransferStatus.Voided or TransferStatus.Expired
                    && w.Record(t.To, s.Id, t.Id)!.Status != t.Status) return false;
            }
        }
        foreach (var asset in Assets.Select(a => new AssetId(a)))
        {
            var pendingOut = w.Accounts.Values.Aggregate(UInt128.Zero, (acc, s) => acc + (s.Balances.GetValueOrDefault(asset)?.PendingOut.Value ?? 0));
            var pendingIn = w.Accounts.Values.Aggregate(UInt128.Zero, (acc, s) => acc + (s.Balances.GetValueOrDefault(asset)?.PendingIn.Value ?? 0));
            if (pendingOut != pendingIn) return false;
        }
        return true;
    }
}
