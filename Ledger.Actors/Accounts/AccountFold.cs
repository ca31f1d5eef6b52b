using Akka.Actor;
using Ledger.Actors.Hosting;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;

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
