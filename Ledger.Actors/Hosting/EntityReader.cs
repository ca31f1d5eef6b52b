using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace Ledger.Actors.Hosting;

/// <summary>What a read-back folds an entity's journal rows into, and whether it has found what it was asked for.</summary>
public interface IJournalFold
{
    void Fold(object payload);

    bool Done { get; }
}

/// <summary>Published on the event stream after each read-back: which entity's journal, and how many rows it took.</summary>
public sealed record JournalReadBack(string PersistenceId, long Rows) : INoSerializationVerificationNeeded;

/// <summary>
/// Reads what left an entity's memory back from its journal: a child that folds the entity's rows through an
/// <see cref="IJournalFold"/> from a given sequence number — where the wanted records were written, not the start —
/// in reads of <see cref="RowsPerRead"/> rows, answers as soon as the fold is done (or at the end of the journal), and
/// stops once the read in flight is over. It reads the journal directly, not as a persistent actor: it never writes
/// and needs no recovery of its own. It runs only for requests that name records the entity has evicted.
/// </summary>
public sealed class EntityReader : UntypedActor
{
    /// <summary>Rows asked of the journal at a time.</summary>
    public const int RowsPerRead = 256;
    /// <summary>How long the journal may take to answer one read before the read-back fails.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private readonly IActorRef _journal;
    private readonly string _persistenceId;
    private readonly IJournalFold _fold;
    private readonly IActorRef _replyTo;
    private readonly Func<object> _answer;
    private readonly object _failed;
    private long _next;
    private readonly long _to;
    private long _rows;
    private long _rowsThisRead;
    private bool _answered;

    public EntityReader(IActorRef journal, string persistenceId, long from, IJournalFold fold, IActorRef replyTo,
        Func<object> answer, object failed, long to = long.MaxValue)
    {
        _journal = journal;
        _persistenceId = persistenceId;
        _next = Math.Max(1, from);
        _to = to;
        _fold = fold;
        _replyTo = replyTo;
        _answer = answer;
        _failed = failed;
    }

    /// <param name="journal">The entity's journal plugin.</param>
    /// <param name="from">First journal sequence number to read (0: the start).</param>
    /// <param name="answer">What to tell <paramref name="replyTo"/> once read (from what the fold found).</param>
    /// <param name="failed">What to tell <paramref name="replyTo"/> if the journal cannot be read.</param>
    /// <param name="to">Last sequence number to read, when the caller knows the fold is done by then.</param>
    public static Props Props(IActorRef journal, string persistenceId, long from, IJournalFold fold, IActorRef replyTo,
        Func<object> answer, object failed, long to = long.MaxValue) =>
        Akka.Actor.Props.Create(() => new EntityReader(journal, persistenceId, from, fold, replyTo, answer, failed, to));

    protected override void PreStart()
    {
        SetReceiveTimeout(ReadTimeout);
        Read();
    }

    private void Read()
    {
        _rowsThisRead = 0;
        _journal.Tell(new ReplayMessages(_next, _to, RowsPerRead, _persistenceId, Self));
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
                    _fold.Fold(row.Payload);
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException or OverflowException)
                {
                    // Not restarted (it would fold the same row again, forever): the read fails, and the entity asks again later.
                    Fail($"row {row.SequenceNr} does not fold: {e.Message}");
                    break;
                }
                if (_fold.Done) Answer();
                break;
            case RecoverySuccess { HighestSequenceNr: var highest }:
                if (!_answered && _rowsThisRead == RowsPerRead && _next <= Math.Min(highest, _to)) Read();
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
        _replyTo.Tell(_answer());
    }
}
