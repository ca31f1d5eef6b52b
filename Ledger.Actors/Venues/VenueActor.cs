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
public sealed record VenueSettings : IEntitySettings
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
public abstract class VenueActor<TEvent>(string kind, TimeProvider time, IActorRef oracle, VenueSettings settings)
    : EntityHost<TEvent>(settings, time, kind), IWithTimers
    where TEvent : class
{
    public ITimerScheduler Timers { get; set; } = null!;

    private bool _readingPrices;
    /// <summary>The oracle's reading for the next batch, and the one the batch being decided uses.</summary>
    private PricesRead? _prices;
    private PricesRead? _batchPrices;

    /// <summary>The assets whose prices this message needs, or null.</summary>
    protected abstract AssetId[]? PricesFor(object message);

    /// <summary>This venue's id, as answers name it.</summary>
    protected abstract string VenueId { get; }

    /// <summary>Decides one command against the batch's oracle reading (null if it needed none).</summary>
    protected abstract void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<TEvent> events, List<Action> after);

    protected sealed override void Decide(object message, IActorRef sender, long now, List<TEvent> events, List<Action> after) =>
        Decide(message, sender, now, _batchPrices, events, after);

    protected override void OnMessage(object message)
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
            default:
                Enqueue(message, Sender);
                break;
        }
    }

    /// <summary>A batch that holds a call needing prices waits for one oracle reading, asked for first.</summary>
    protected override bool ReadyForBatch()
    {
        if (_readingPrices) return false;
        if (_prices is null && Waiting.Take(settings.GroupCommitMax).Select(q => PricesFor(q.Message)).FirstOrDefault(a => a is not null) is { } assets)
        {
            _readingPrices = true;
            oracle.Ask<PricesRead>(new ReadPrices(assets), settings.OracleTimeout).PipeTo(Self);
            return false;
        }
        _batchPrices = _prices;
        _prices = null;
        return true;
    }

    protected override bool CanPassivate => !_readingPrices;

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
