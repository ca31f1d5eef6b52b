using FsCheck.Xunit;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;

namespace Ledger.Tests.Contracts;

/// <summary>
/// Any sequence of operations — mints, transfers (also to accounts that do not exist), reservations,
/// posts, voids, expiries — with messages delivered late, out of order and more than once, keeps every
/// asset summing to zero and never lets a non-issuer's available balance go negative. Each generated
/// number is read as one step of a script, so FsCheck can shrink a failure to a short one.
/// </summary>
public class AccountProperties
{
    private static readonly string[] Users = ["a0", "a1", "a2", "a3", "a4"];
    private static readonly string[] Assets = ["USD", "EUR"];

    [Property(MaxTest = 300)]
    public bool Conservation_and_no_overdraft_hold_after_every_step(uint[] script)
    {
        var w = new ContractWorld();
        foreach (var u in Users) w.Open(u);
        w.Issue("issuer", "USD");
        w.Issue("issuer", "EUR");
        var n = 0;
        foreach (var step in script)
        {
            Step(w, Mix(step), n++);
            if (!Holds(w)) return false;
        }
        w.DeliverAll();
        return Holds(w) && Settled(w);
    }

    private static void Step(ContractWorld w, uint v, int n)
    {
        string Pick(string[] xs, int shift) => xs[(int)((v >> shift) % (uint)xs.Length)];
        var amount = (ulong)((v >> 12) % 500);
        var asset = Pick(Assets, 20);
        var from = Pick(Users, 4);
        var to = (v >> 8) % 7 == 6 ? "ghost" : Pick(Users, 8);
        var id = "t" + n;
        switch (v % 10)
        {
            case 0: w.Transfer("issuer", to, asset, amount * 10 + 1, id); break;
            case 1:
            case 2: w.Transfer(from, to, asset, amount, id); break;
            case 3: w.Transfer(from, to, asset, amount, id, pending: true, timeoutMs: (v >> 24) % 3 == 0 ? null : 50); break;
            case 4:
            case 5:
                {
                    var pending = Open(w, from);
                    if (pending is not null) w.Post(from, pending.Id.Value, (v >> 22) % 2 == 0 ? null : Math.Min(amount + 1, (ulong)pending.Amount.Value));
                    break;
                }
            case 6:
                {
                    var pending = Open(w, from);
                    if (pending is not null) w.Void(from, pending.Id.Value);
                    break;
                }
            case 7:
                w.Now += (v >> 10) % 40;
                w.Expire(from);
                break;
            default:
                if (w.Network.Count > 0) w.Handle((int)((v >> 5) % (uint)w.Network.Count), duplicate: (v >> 30) == 1);
                break;
        }
    }

    /// <summary>FsCheck's numbers are small; a bijective hash spreads them over all 32 bits that steps read.</summary>
    private static uint Mix(uint x)
    {
        x ^= x >> 16;
        x *= 0x7feb352d;
        x ^= x >> 15;
        x *= 0x846ca68b;
        x ^= x >> 16;
        return x;
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
                    && w.State(t.To).Incoming[(s.Id, t.Id)].Status != t.Status) return false;
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
