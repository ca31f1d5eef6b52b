using System.Diagnostics;
using Prometheus;

namespace Ledger.Actors.Hosting;

/// <summary>
/// What the entities measure (the gateway serves them with its own at <c>/metrics</c>, Prometheus text format):
/// journal write latency and events per entity kind, rows read back, and sagas by outcome. Recording is a few atomic adds.
/// </summary>
public static class LedgerMetrics
{
    private static readonly Histogram JournalWrite = Metrics.CreateHistogram("ledger_journal_write_seconds",
        "Time from handing a write (one group commit) to the journal until it is durable, by entity kind",
        new HistogramConfiguration { LabelNames = ["entity"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });

    private static readonly Counter JournalEvents = Metrics.CreateCounter("ledger_journal_events_total", "Events persisted, by entity kind", "entity");

    private static readonly Counter ReadBackRows = Metrics.CreateCounter("ledger_readback_rows_total",
        "Journal rows read to bring evicted settled records back (retries and look-ups of old transactions, older pages)");

    private static readonly Counter Sagas = Metrics.CreateCounter("ledger_sagas_total", "Sagas decided, by outcome", "outcome");

    /// <summary>The steps of a saga, in the order it takes them (see <see cref="SagaStep"/>).</summary>
    public static readonly string[] SagaSteps = ["admission", "intent", "lock", "votes", "decision", "acknowledgements", "finish", "pool_held"];

    private static readonly Histogram SagaStepTime = Metrics.CreateHistogram("ledger_saga_step_seconds",
        "Time a saga spends in each step: its intent write, each pool lock (queueing behind other sagas included), the accounts' votes, " +
        "its decision write, the participants' acknowledgements, its finish write; and, measured by the pool, how long a pool stays locked",
        new HistogramConfiguration { LabelNames = ["step"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 18) });

    /// <summary>A write's start, for <see cref="Written"/>.</summary>
    public static long Start() => Stopwatch.GetTimestamp();

    public static void Written(string entity, long started, int events)
    {
        JournalWrite.WithLabels(entity).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        JournalEvents.WithLabels(entity).Inc(events);
    }

    public static void ReadBack(long rows) => ReadBackRows.Inc(rows);

    public static void SagaDecided(bool commit) => Sagas.WithLabels(commit ? "committed" : "aborted").Inc();

    /// <summary>One step of a saga (one of <see cref="SagaSteps"/>) ended; it began at <paramref name="started"/>.</summary>
    public static void SagaStep(string step, long started) => SagaStepTime.WithLabels(step).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);

    /// <summary>Per saga step and per entity kind's journal write: how many, and their mean in milliseconds (for the bench's report).</summary>
    public static IEnumerable<(string Name, long Count, double MeanMs)> Breakdown()
    {
        foreach (var step in SagaSteps)
            if (SagaStepTime.WithLabels(step) is { Count: > 0 } h) yield return (step, h.Count, h.Sum / h.Count * 1_000);
        foreach (var entity in new[] { "account", "pool" })
            if (JournalWrite.WithLabels(entity) is { Count: > 0 } w) yield return ("write:" + entity, w.Count, w.Sum / w.Count * 1_000);
    }
}
