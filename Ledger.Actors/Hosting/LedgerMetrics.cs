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

    /// <summary>A write's start, for <see cref="Written"/>.</summary>
    public static long Start() => Stopwatch.GetTimestamp();

    public static void Written(string entity, long started, int events)
    {
        JournalWrite.WithLabels(entity).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        JournalEvents.WithLabels(entity).Inc(events);
    }

    public static void ReadBack(long rows) => ReadBackRows.Inc(rows);

    public static void SagaDecided(bool commit) => Sagas.WithLabels(commit ? "committed" : "aborted").Inc();
}
