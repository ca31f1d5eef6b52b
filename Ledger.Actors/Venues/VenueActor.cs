using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Ledger.Actors.Hosting;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Venues;

/// <summary>Limits and timings of a market or farm entity.</summary>
public sealed record VenueSettings
{
    public int GroupCommitMax { get; init; } = 1_000;
    public TimeSpan IdleAfter { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan OracleTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Events between snapshots, so that recovery replays at most this many.</summary>
    public int SnapshotEveryEvents { get; init; } = 10_000;
}

/// <summary>
/// Hosts a venue's contract (a lending market, a staking farm) the way a pool is hosted: calls arrive with their
/// inputs already debited by the account, are decided in order and group-committed as one write, and are answered
/// once durable; a call delivered twice is answered from the record. A batch that holds a call needing prices is
/// decided against one oracle reading, asked for first and recorded in every decision that used it.
/// </summary>
public abstract class VenueActor<TEvent>(TimeProvider time, IActorRef oracle, VenueSettings settings) : LedgerPersistentActor, IWithTimers
    where TEvent : class
{
    public ITimerScheduler Timers { get; set; } = null!;

    private readonly GroupCommit<TEvent> _batch = new(settings.GroupCommitMax);
    private bool _readingPrices;
    private bool _stopRequested;
    private PricesRead? _prices;

    protected long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The assets whose prices this message needs, or null.</summary>
    protected abstract AssetId[]? PricesFor(object message);

    protected abstract bool IsQuery(object message);

    /// <summary>This venue's id, as answers name it.</summary>
    protected abstract string VenueId { get; }

    /// <summary>The entity kind in metrics (<c>market</c>, <c>farm</c>).</summary>
    protected abstract string MetricName { get; }

    protected abstract void Apply(TEvent e);

    protected abstract object Write(TEvent[] events);

    protected abstract IEnumerable<TEvent> Events(object persisted);

    /// <summary>The state's persisted form, and its restoration (recovery starts from the latest).</summary>
    protected abstract object Snapshot();

    protected abstract void Restore(object snapshot);

    private long _eventsSinceSnapshot;

    /// <summary>Decides one command: events to persist (applied here already) and replies to send once they are durable.</summary>
    protected abstract void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<TEvent> events, List<Action> after);

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer offer:
                Restore(offer.Snapshot);
                break;
            case RecoveryCompleted:
                PassivateWhenIdle(settings.IdleAfter);
                break;
            default:
                foreach (var e in Events(message))
                {
                    Apply(e);
                    _eventsSinceSnapshot++;
                }
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case PricesRead read when _readingPrices:
                _readingPrices = false;
                _prices = read;
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
            case ReceiveTimeout:
                if (_batch.Idle && !_readingPrices) Context.Parent.Tell(new Passivate(StopEntity.Instance));
                break;
            case StopEntity:
                _stopRequested = true;
                StopIfIdle();
                break;
            default:
                _batch.Enqueue(message, Sender);
                Flush();
                break;
        }
    }

    private void Flush()
    {
        while (_batch.Ready && !_readingPrices)
        {
            if (_prices is null && _batch.Waiting.Take(settings.GroupCommitMax).Select(q => PricesFor(q.Message)).FirstOrDefault(a => a is not null) is { } assets)
            {
                _readingPrices = true;
                oracle.Ask<PricesRead>(new ReadPrices(assets), settings.OracleTimeout).PipeTo(Self);
                return;
            }
            var now = Now;
            var prices = _prices;
            var (events, after) = _batch.Take(IsQuery, (m, s, e, a) => Decide(m, s, now, prices, e, a));
            _prices = null;
            if (events.Count == 0)
            {
                foreach (var a in after) a();
                continue;
            }
            WriteBatch(events, after);
        }
    }

    /// <summary>One write as one journal row; replies go out once it is durable.</summary>
    private void WriteBatch(List<TEvent> events, List<Action> after)
    {
        _batch.Started();
        _eventsSinceSnapshot += events.Count;
        var started = LedgerMetrics.Start();
        PersistAsync(Write([.. events]), _ =>
        {
            LedgerMetrics.Written(MetricName, started, events.Count);
            _batch.Done();
            foreach (var a in after) a();
            if (_eventsSinceSnapshot >= settings.SnapshotEveryEvents)
            {
                _eventsSinceSnapshot = 0;
                SaveSnapshot(Snapshot());
            }
            Flush();
            StopIfIdle();
        });
    }

    protected override IEnumerable<IActorRef> AwaitingWrite => _batch.Awaiting;

    private void StopIfIdle()
    {
        if (_stopRequested && _batch.Idle) Context.Stop(Self);
    }

    /// <summary>
    /// A call of (<paramref name="account"/>, <paramref name="id"/>): answered from its record when decided before,
    /// else decided by <paramref name="decide"/> (applied, persisted with the batch) and answered once durable.
    /// </summary>
    protected void Execute(IReadOnlyDictionary<(AccountId, TxId), PoolAnswer> answers, AccountId account, TxId id, IActorRef sender,
        Func<(TEvent Event, Leg[] Out, string? Code)> decide, List<TEvent> events, List<Action> after)
    {
        var venue = new PoolId(VenueId);
        if (answers.TryGetValue((account, id), out var known))
        {
            after.Add(() => sender.Tell(new PoolCallAnswer(venue, id, known)));
            return;
        }
        var (decided, @out, code) = decide();
        Apply(decided);
        events.Add(decided);
        var answer = new PoolCallAnswer(venue, id, new PoolAnswer(@out, code));
        after.Add(() => sender.Tell(answer));
    }

    /// <summary>A create command: its events (none if it exists alike), then the view or the refusal once durable.</summary>
    protected void Create(IReadOnlyList<TEvent> decided, string? rejection, Func<object> view, IActorRef sender, List<TEvent> events, List<Action> after)
    {
        foreach (var e in decided)
        {
            Apply(e);
            events.Add(e);
        }
        after.Add(() => sender.Tell(rejection is { } code ? new Rejected(code) : view()));
    }

    /// <summary>The reading a decision records: the two prices in the order asked, or null when none was read.</summary>
    protected static PriceReading? Reading(PricesRead? read) => read is { Prices: [var a, var b] } ? new PriceReading(a, b, read.Version) : null;

    private sealed class RetryFlush : INoSerializationVerificationNeeded
    {
        public static readonly RetryFlush Instance = new();
    }
}
