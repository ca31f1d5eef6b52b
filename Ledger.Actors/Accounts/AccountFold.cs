using Akka.Actor;
using Ledger.Actors.Hosting;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Accounts;

/// <summary>What a journal read found: the records asked for, and the keys that have none (hash collisions).</summary>
internal sealed record ReadBackDone(Transfer[] Found, (AccountId From, TxId Id)[] NotFound) : INoSerializationVerificationNeeded;

/// <summary>The journal could not be read; the account tries again shortly.</summary>
internal sealed record ReadBackFailed((AccountId From, TxId Id)[] Keys) : INoSerializationVerificationNeeded;

/// <summary>A decision parked for a read-back, to be taken again in the account's next batch.</summary>
internal sealed record Retry(Action<long, List<IAccountEvent>, List<Action>> Run) : INoSerializationVerificationNeeded;

/// <summary>Folds an account's journal rows through an <see cref="AccountReplay"/>.</summary>
internal sealed class AccountFold(AccountReplay replay) : IJournalFold
{
    public bool Done => replay.Done;

    public void Fold(object payload)
    {
        switch (payload)
        {
            case AccountWrite write:
                foreach (var e in write.Events) replay.Apply(e);
                break;
            case IAccountEvent e:
                replay.Apply(e);
                break;
        }
    }
}

/// <summary>Folds an account's records of its balances (<see cref="BalancesRecorded"/>) up to an instant, from a checkpoint's.</summary>
internal sealed class BalancesFold(long at, SnapshotBalance[] from) : IJournalFold
{
    private readonly Dictionary<AssetId, SnapshotBalance> _balances = from.ToDictionary(b => b.Asset);

    public BalancesAtView View(AccountId account) => new(account, at,
        [.. _balances.Values.OrderBy(b => b.Asset.Value, StringComparer.Ordinal).Select(b => new BalanceView(b.Asset, b.Posted, b.PendingOut, b.PendingIn))]);

    public bool Done { get; private set; }

    public void Fold(object payload)
    {
        if (Done || payload is not AccountWrite write) return;
        for (var i = write.Events.Length - 1; i >= 0; i--)
        {
            if (write.Events[i] is not BalancesRecorded r) continue;
            if (r.At > at)
            {
                Done = true;
                return;
            }
            if (r.Full) _balances.Clear();
            foreach (var b in r.Balances) _balances[b.Asset] = b;
            return;
        }
    }
}
