using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Accounts;

/// <summary>The persisted form of <see cref="AccountState"/>; recovery starts from the latest one.</summary>
public sealed record AccountSnapshot(bool Exists, string Owner, long OpenedAt, SnapshotBalance[] Balances, AssetId[] IssuerOf,
    Transfer[] History, Transfer[] Refused)
{
    public static AccountSnapshot Of(AccountState s) => new(s.Exists, s.Owner, s.OpenedAt,
        s.Balances.Select(kv => new SnapshotBalance(kv.Key, kv.Value.Posted, kv.Value.PendingOut, kv.Value.PendingIn)).ToArray(),
        s.IssuerOf.ToArray(), s.History.ToArray(),
        s.Incoming.Values.Where(t => t.Status == TransferStatus.Rejected).ToArray());

    public AccountState Restore(AccountId id)
    {
        var s = new AccountState { Id = id, Exists = Exists, Owner = Owner, OpenedAt = OpenedAt };
        foreach (var b in Balances)
            s.Balances[b.Asset] = new Balance { Posted = b.Posted, PendingOut = b.PendingOut, PendingIn = b.PendingIn };
        foreach (var a in IssuerOf) s.IssuerOf.Add(a);
        foreach (var t in History)
        {
            s.History.Add(t);
            if (t.From == id) s.Outgoing[t.Id] = t;
            else s.Incoming[(t.From, t.Id)] = t;
        }
        foreach (var t in Refused) s.Incoming[(t.From, t.Id)] = t;
        foreach (var t in s.Outgoing.Values)
            if (t.Status is TransferStatus.InFlight or TransferStatus.Pending && t.IsPending && t.ExpiresAt is { } e) s.Deadlines.Add((e, t.Id.Value));
        return s;
    }
}

public sealed record SnapshotBalance(AssetId Asset, Int128 Posted, Amount PendingOut, Amount PendingIn);
