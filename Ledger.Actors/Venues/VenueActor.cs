using Akka.Actor;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Venues;

/// <summary>What every venue (pool, market, farm) names besides the host's limits.</summary>
public interface IVenueSettings : IEntitySettings
{
    /// <summary>Answers kept in memory for redelivered calls; older ones are read back from the journal.</summary>
    int AnswersKeep { get; }
}

/// <summary>Limits and timings of a market or farm entity.</summary>
public sealed record VenueSettings : IVenueSettings
{
    public int GroupCommitMax { get; init; } = 1_000;
    public TimeSpan IdleAfter { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan OracleTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public int SnapshotEveryEvents { get; init; } = 10_000;
    public int AnswersKeep { get; init; } = 65_536;
}

/// <summary>
/// Hosts a venue's contract (a pool, a lending market, a staking farm): calls arrive with their inputs already debited
/// by the account, are decided in order and group-committed as one write, and are answered once durable. A call
/// delivered twice is answered from the venue's <see cref="AnswerStore"/>; one whose answer has left memory waits while
/// the answer is read back from the journal, from where it was written. With an oracle, a batch that holds a call
/// needing prices is decided against one oracle reading asked for after all its calls arrived, and recorded in every
/// decision that used it; the reading for the calls that arrive during a write is asked for during that write.
/// </summary>
public abstract class VenueActor<TEvent> : EntityHost<TEvent>, IWithTimers
    where TEvent : class
{
    private readonly IVenueSettings _settings;
    private readonly IActorRef? _oracle;
    private readonly TimeSpan _oracleTimeout;
    private bool _readingPrices;
    /// <summary>
    /// The latest oracle reading and the commands it covers: those queued (by <see cref="EntityHost{TEvent}.Queued"/>)
    /// before it was asked for, since it holds every price update acknowledged before any of them was sent. A command
    /// queued later needs a later reading; the batch being decided uses <see cref="_batchPrices"/>.
    /// </summary>
    private PricesRead? _prices;
    private long _pricesCover;
    private long _askCover;
    private PricesRead? _batchPrices;
    /// <summary>Redelivered calls whose answer left memory, waiting for a journal read, by key.</summary>
    private readonly Dictionary<(AccountId, TxId), List<(object Call, TxId Id, IActorRef Sender)>> _parked = [];
    private readonly HashSet<(AccountId, TxId)> _reading = [];

    /// <param name="kind">The entity kind in metrics (<c>pool</c>, <c>market</c>, <c>farm</c>).</param>
    /// <param name="oracle">The price oracle, for venues whose calls need prices.</param>
    protected VenueActor(string kind, TimeProvider time, IVenueSettings settings, IActorRef? oracle = null, TimeSpan oracleTimeout = default)
        : base(settings, time, kind)
    {
        _settings = settings;
        _oracle = oracle;
        _oracleTimeout = oracleTimeout;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>This venue's id, as answers name it.</summary>
    protected abstract string VenueId { get; }

    protected abstract AnswerStore Answers { get; }

    /// <summary>The answer a journaled event records, if any (pure: it runs on the reader).</summary>
    protected abstract Func<TEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> AnswerOf { get; }

    /// <summary>The assets whose prices this message needs, or null.</summary>
    protected virtual AssetId[]? PricesFor(object message) => null;

    /// <summary>Decides one command against the batch's oracle reading (null if it needed none).</summary>
    protected abstract void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<TEvent> events, List<Action> after);

    protected sealed override void Decide(object message, IActorRef sender, long now, List<TEvent> events, List<Action> after) =>
        Decide(message, sender, now, _batchPrices, events, after);

    /// <summary>Answers sent for this entity's next journal row are recorded at its sequence number.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        Answers.JournalSeq = LastSequenceNr + 1;
        return base.AroundReceive(receive, message);
    }

    protected override void OnMessage(object message)
    {
        switch (message)
        {
            case AnswersReadBack done:
                foreach (var (key, answer) in done.Found)
                {
                    _reading.Remove(key);
                    if (_parked.Remove(key, out var waiting))
                        foreach (var (call, id, sender) in waiting)
                            if (call is IVenueCommand)
                            {
                                // A venue's own command, answered as it answers it: its record back in memory, it is decided again.
                                Answers.Remember(key.Item1, key.Item2, answer);
                                Enqueue(call, sender);
                            }
                            else sender.Tell(new VenueAnswer(VenueId, id, answer));
                }
                foreach (var key in done.NotFound)
                {
                    _reading.Remove(key);
                    Answers.Collided(key.Item1, key.Item2);
                    if (_parked.Remove(key, out var waiting))
                        foreach (var (call, _, sender) in waiting) Enqueue(call, sender);
                }
                break;
            case AnswersReadBackFailed failed:
                // The accounts redeliver; their next delivery starts a new read.
                foreach (var key in failed.Keys)
                {
                    _reading.Remove(key);
                    _parked.Remove(key);
                }
                break;
            case PricesRead read when _readingPrices:
                _readingPrices = false;
                (_prices, _pricesCover) = (read, _askCover);
                Flush();
                break;
            case Status.Failure when _readingPrices:
                // The oracle did not answer: try again shortly (nothing is decided without the reading).
                _readingPrices = false;
                Timers.StartSingleTimer(RetryFlush.Instance, RetryFlush.Instance, TimeSpan.FromSeconds(1));
                break;
            case RetryFlush:
                Flush();
                break;
            default:
                Enqueue(message, Sender);
                if (Writing) AskPrices();
                break;
        }
    }

    /// <summary>
    /// A batch takes the waiting calls the latest reading covers; when the first waiting ones are not covered and
    /// one of them needs prices, it waits for a new reading.
    /// </summary>
    protected override long BatchLimit()
    {
        _batchPrices = _prices;
        if (_oracle is null) return long.MaxValue;
        var covered = _pricesCover - TakenSoFar;
        if (covered > 0) return covered;
        if (UncoveredAssets() is null) return long.MaxValue;
        AskPrices();
        return 0;
    }

    /// <summary>The assets of the first waiting call the latest reading does not cover that needs prices, or null.</summary>
    private AssetId[]? UncoveredAssets() =>
        Queued <= _pricesCover ? null
        : Waiting.Skip((int)Math.Max(0, _pricesCover - TakenSoFar)).Take(_settings.GroupCommitMax)
            .Select(q => PricesFor(q.Message)).FirstOrDefault(a => a is not null);

    /// <summary>Asks for a reading covering every call queued so far, unless one is being read or none needs it.</summary>
    private void AskPrices()
    {
        if (_oracle is null || _readingPrices || UncoveredAssets() is not { } assets) return;
        _readingPrices = true;
        _askCover = Queued;
        _oracle.Ask<PricesRead>(new ReadPrices(assets), _oracleTimeout).PipeTo(Self);
    }

    protected override bool CanPassivate => !Busy;

    protected override bool Busy => _readingPrices || _parked.Count > 0;

    /// <summary>Answers leave memory only once durable.</summary>
    protected override void OnDurable() => Answers.Evict(_settings.AnswersKeep);

    protected override void OnRecovered() => Answers.Evict(_settings.AnswersKeep);

    /// <summary>Starts one journal read for every parked key not yet being read.</summary>
    protected override void AfterFlush()
    {
        AskPrices();
        if (_parked.Count == 0) return;
        var keys = _parked.Keys.Where(_reading.Add).ToArray();
        if (keys.Length == 0) return;
        var fold = new AnswerFold(keys, Recovered, AnswerOf);
        Context.ActorOf(EntityReader.Props(JournalRef, PersistenceId, Answers.ReadFrom(keys), fold, Self,
            () => new AnswersReadBack([.. fold.Found.Select(kv => (kv.Key, kv.Value))], [.. keys.Where(k => !fold.Found.ContainsKey(k))]),
            new AnswersReadBackFailed(keys)));
    }

    /// <summary>
    /// Whether the call of (<paramref name="account"/>, <paramref name="id"/>) was decided before: then it is answered
    /// from its record once durable, or parked while that record is read back. If not, the caller decides it and
    /// calls <see cref="Answer"/> (two steps rather than a callback, which would cost an allocation per call).
    /// </summary>
    protected bool AnsweredBefore(object call, AccountId account, TxId id, IActorRef sender, List<Action> after)
    {
        switch (Answers.Find(account, id, out var known))
        {
            case Known.Resident:
                after.Add(() => sender.Tell(new VenueAnswer(VenueId, id, known!)));
                return true;
            case Known.Evicted:
                if (!_parked.TryGetValue((account, id), out var waiting)) _parked[(account, id)] = waiting = [];
                waiting.Add((call, id, sender));
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Whether a venue's own command (a channel's close, a governor's vote: not an account's call) was made before under
    /// (<paramref name="account"/>, <paramref name="key"/>). Then <paramref name="known"/> is its answer — with the code
    /// <c>id_conflict</c> if it asked for something else (another <paramref name="fingerprint"/>) — or null while that
    /// answer is read back from the journal, after which the command is decided again.
    /// </summary>
    protected bool MadeBefore(IVenueCommand command, AccountId account, TxId key, ulong fingerprint, IActorRef sender, out CallAnswer? known)
    {
        switch (Answers.Find(account, key, out known))
        {
            case Known.Resident:
                if (known!.Fingerprint != 0 && known.Fingerprint != fingerprint) known = known with { Code = Codes.IdConflict };
                return true;
            case Known.Evicted:
                if (!_parked.TryGetValue((account, key), out var waiting)) _parked[(account, key)] = waiting = [];
                waiting.Add((command, key, sender));
                return true;
            default:
                return false;
        }
    }

    /// <summary>A call decided now: applied, persisted with the batch, and answered once durable.</summary>
    protected void Answer(TEvent decided, TxId id, Leg[] @out, string? code, IActorRef sender, List<TEvent> events, List<Action> after)
    {
        Record(decided, events);
        var answer = new VenueAnswer(VenueId, id, new CallAnswer(@out, code));
        after.Add(() => sender.Tell(answer));
    }

    /// <summary>An event decided now: applied to the state and written with the batch.</summary>
    protected void Record(TEvent e, List<TEvent> events)
    {
        Apply(e);
        events.Add(e);
    }

    /// <summary>A create command: its events (none if it exists alike), then the view or the refusal once durable.</summary>
    protected void Create(IReadOnlyList<TEvent> decided, string? rejection, Func<object> view, IActorRef sender, List<TEvent> events, List<Action> after)
    {
        foreach (var e in decided) Record(e, events);
        after.Add(() => sender.Tell(rejection is { } code ? new Rejected(code) : view()));
    }

    /// <summary>The reading a decision records: the two prices in the order asked, or null when none was read.</summary>
    protected static PriceReading? Reading(PricesRead? read) => read is { Prices: [var a, var b] } ? new PriceReading(a, b, read.Version) : null;

    private sealed class RetryFlush : INoSerializationVerificationNeeded
    {
        public static readonly RetryFlush Instance = new();
    }

    /// <summary>Folds a venue's journal rows into the answers asked for.</summary>
    private sealed class AnswerFold((AccountId, TxId)[] keys, Func<object, IReadOnlyList<TEvent>> events,
        Func<TEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> answerOf) : IJournalFold
    {
        private readonly HashSet<(AccountId, TxId)> _wanted = [.. keys];

        public Dictionary<(AccountId, TxId), CallAnswer> Found { get; } = [];

        public bool Done => Found.Count == _wanted.Count;

        public void Fold(object payload)
        {
            foreach (var e in events(payload))
                if (answerOf(e) is { } a && _wanted.Contains(a.Key)) Found[a.Key] = a.Answer;
        }
    }
}

internal sealed record AnswersReadBack(((AccountId, TxId) Key, CallAnswer Answer)[] Found, (AccountId, TxId)[] NotFound)
    : INoSerializationVerificationNeeded;

internal sealed record AnswersReadBackFailed((AccountId, TxId)[] Keys) : INoSerializationVerificationNeeded;
