using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;

namespace Ledger.Actors.Accounts;

/// <summary>What a journal read found: the records asked for, and the keys that have none (hash collisions).</summary>
internal sealed record ReadBackDone(Transfer[] Found, (AccountId From, TxId Id)[] NotFound) : INoSerializationVerificationNeeded;

/// <summary>Published on the event stream after each read-back: which account's journal, and how many rows it took.</summary>
public sealed record JournalReadBack(string PersistenceId, long Rows) : INoSerializationVerificationNeeded;

/// <summary>The journal could not be read; the account tries again shortly.</summary>
internal sealed record ReadBackFailed((AccountId From, TxId Id)[] Keys) : INoSerializationVerificationNeeded;

/// <summary>A decision parked for a read-back, to be taken again in the account's next batch.</summary>
internal sealed record Retry(Action<long, List<IAccountEvent>, List<Action>> Run) : INoSerializationVerificationNeeded;

/// <summary>
/// Reads settled records back for an account: a child that folds the account's journal through an
/// <see cref="AccountReplay"/> from a given sequence number — where the wanted records were made, not the start
/// — in reads of <see cref="RowsPerRead"/> rows, answers as soon as everything wanted has turned up settled (or at
/// the end of the journal), and stops once the read in flight is over. It reads the journal directly, not as a persistent actor:
/// it never writes and needs no recovery of its own. It runs only for requests that name records the account has
/// evicted (old retries, old transactions, older pages of the list).
/// </summary>
internal sealed class AccountReader : UntypedActor
{
    /// <summary>Rows asked of the journal at a time.</summary>
    public const int RowsPerRead = 256;
    /// <summary>How long the journal may take to answer one read before the read-back fails.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private readonly IActorRef _journal;
    private readonly string _persistenceId;
    private readonly AccountReplay _replay;
    private readonly IActorRef _replyTo;
    private readonly Func<AccountReplay, object> _answer;
    private readonly object _failed;
    private long _next;
    private long _rows;
    private long _rowsThisRead;
    private bool _answered;

    public AccountReader(IActorRef journal, string persistenceId, long from, AccountReplay replay, IActorRef replyTo,
        Func<AccountReplay, object> answer, object failed)
    {
        _journal = journal;
        _persistenceId = persistenceId;
        _next = Math.Max(1, from);
        _replay = replay;
        _replyTo = replyTo;
        _answer = answer;
        _failed = failed;
    }

    /// <param name="journal">The account's journal plugin.</param>
    /// <param name="from">First journal sequence number to read (<see cref="AccountState.ReadFrom"/>; 0: the start).</param>
    /// <param name="answer">What to tell <paramref name="replyTo"/> once read, from the replay.</param>
    /// <param name="failed">What to tell <paramref name="replyTo"/> if the journal cannot be read.</param>
    public static Props Props(IActorRef journal, string persistenceId, long from, AccountReplay replay, IActorRef replyTo,
        Func<AccountReplay, object> answer, object failed) =>
        Akka.Actor.Props.Create(() => new AccountReader(journal, persistenceId, from, replay, replyTo, answer, failed));

    protected override void PreStart()
    {
        SetReceiveTimeout(ReadTimeout);
        Read();
    }

    private void Read()
    {
        _rowsThisRead = 0;
        _journal.Tell(new ReplayMessages(_next, long.MaxValue, RowsPerRead, _persistenceId, Self));
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case ReplayedMessage { Persistent: var row }:
                _rowsThisRead++;
                if (_answered) break;
                _rows++;
                _next = row.SequenceNr + 1;
                try
                {
                    switch (row.Payload)
                    {
                        case AccountWrite write:
                            foreach (var e in write.Events) _replay.Apply(e);
                            break;
                        case IAccountEvent e:
                            _replay.Apply(e);
                            break;
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException or OverflowException)
                {
                    // Not restarted (it would fold the same row again, forever): the read fails, and the account asks again later.
                    Fail($"row {row.SequenceNr} does not fold: {e.Message}");
                    break;
                }
                if (_replay.Done) Answer();
                break;
            case RecoverySuccess { HighestSequenceNr: var highest }:
                if (!_answered && _rowsThisRead == RowsPerRead && _next <= highest) Read();
                else
                {
                    if (!_answered) Answer();
                    Context.Stop(Self);
                }
                break;
            case ReplayMessagesFailure f:
                Fail(f.Cause.Message);
                break;
            case ReceiveTimeout:
                Fail("no answer in " + ReadTimeout);
                break;
        }
    }

    private void Fail(string why)
    {
        if (!_answered)
        {
            _answered = true;
            Context.GetLogger().Warning("Reading back {0} from the journal failed: {1}", _persistenceId, why);
            _replyTo.Tell(_failed);
        }
        Context.Stop(Self);
    }

    /// <summary>Answers as soon as the replay has what was asked (the rest of the read in flight is passed over).</summary>
    private void Answer()
    {
        _answered = true;
        LedgerMetrics.ReadBack(_rows);
        Context.System.EventStream.Publish(new JournalReadBack(_persistenceId, _rows));
        _replyTo.Tell(_answer(_replay));
    }
}
