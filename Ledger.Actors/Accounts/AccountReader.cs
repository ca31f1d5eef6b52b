using Akka.Actor;
using Akka.Persistence;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Accounts;

/// <summary>A page of the transaction list to read back, answered to <see cref="ReplyTo"/>.</summary>
internal sealed record PageRequest(long Start, long End, IActorRef ReplyTo, Transfer[] Resident);

/// <summary>What a journal read found: the records asked for, and the keys that have none (hash collisions).</summary>
internal sealed record ReadBackDone(Transfer[] Found, (AccountId From, TxId Id)[] NotFound) : INoSerializationVerificationNeeded;

/// <summary>The journal could not be read; the account tries again shortly.</summary>
internal sealed record ReadBackFailed((AccountId From, TxId Id)[] Keys) : INoSerializationVerificationNeeded;

/// <summary>A decision parked for a read-back, to be taken again in the account's next batch.</summary>
internal sealed record Retry(Action<long, List<IAccountEvent>, List<Action>> Run) : INoSerializationVerificationNeeded;

/// <summary>
/// Reads settled records back for an account: a child that replays the account's journal from the start
/// (no snapshot: snapshots hold only what is in memory) through <see cref="AccountReplay"/>, answers, and stops.
/// It never writes. Its cost grows with the account's journal; it runs only for requests that name records
/// the account has evicted (old retries, old transactions, deep pages of the list).
/// </summary>
internal sealed class AccountReader : UntypedPersistentActor
{
    private readonly AccountReplay _replay;
    private readonly PageRequest? _page;
    private readonly (AccountId, TxId)[] _keys;

    public AccountReader(string persistenceId, AccountId id, (AccountId, TxId)[] keys, PageRequest? page)
    {
        PersistenceId = persistenceId;
        _page = page;
        _keys = keys;
        _replay = new AccountReplay(id, keys, page?.Start ?? 0, page?.End ?? 0);
    }

    public static Props Props(string persistenceId, AccountId id, (AccountId, TxId)[] keys, PageRequest? page) =>
        Akka.Actor.Props.Create(() => new AccountReader(persistenceId, id, keys, page));

    public override string PersistenceId { get; }

    public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case AccountWrite write:
                foreach (var e in write.Events) _replay.Apply(e);
                break;
            case IAccountEvent e:
                _replay.Apply(e);
                break;
            case RecoveryCompleted:
                if (_page is { } page)
                {
                    var resident = page.Resident.ToDictionary(t => (t.From, t.Id));
                    var items = _replay.History.Select(t => resident.GetValueOrDefault((t.From, t.Id)) ?? t).ToArray();
                    page.ReplyTo.Tell(AccountActor.Page(items, page.Start));
                }
                else Context.Parent.Tell(new ReadBackDone([.. _replay.Found], [.. _replay.NotFound]));
                Context.Stop(Self);
                break;
        }
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        if (_page is { } page) page.ReplyTo.Tell(new Rejected(Codes.Unavailable));
        else Context.Parent.Tell(new ReadBackFailed(_keys));
        base.OnRecoveryFailure(reason, message);
    }

    protected override void OnCommand(object message) => Unhandled(message);
}
