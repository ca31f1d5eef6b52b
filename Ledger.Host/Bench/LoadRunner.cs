using System.Diagnostics;
using HdrHistogram;

namespace Ledger.Host.Bench;

/// <summary>What one operation did: transactions committed, rejected by the ledger, or failed (timeout, error).</summary>
public readonly record struct OpResult(int Committed, int Rejected, int Failed)
{
    public static readonly OpResult One = new(1, 0, 0);
    public static readonly OpResult Refused = new(0, 1, 0);
    public static readonly OpResult Error = new(0, 0, 1);
}

/// <summary>Counts are of the measured window; <see cref="AllCommitted"/> includes the warm-up.</summary>
public sealed record LoadResult(long Committed, long Rejected, long Failed, double Seconds, double P50Ms, double P90Ms, double P99Ms, double MaxMs, long AllCommitted = 0)
{
    public double Tps => Committed / Seconds;
}

/// <summary>
/// Keeps a bounded number of operations in flight for a warm-up and then a measured duration, recording
/// latency per operation in an HDR histogram, with a live progress line on stderr.
/// </summary>
public static class LoadRunner
{
    public static async Task<LoadResult> Run(string label, int inFlight, TimeSpan warmup, TimeSpan duration, Func<Random, Task<OpResult>> op)
    {
        var histogram = new LongConcurrentHistogram(1, TimeStamp.Minutes(5), 3);
        long committed = 0, rejected = 0, failed = 0, allCommitted = 0;
        var measuring = false;
        var clock = Stopwatch.StartNew();
        var gcPauseBefore = GC.GetTotalPauseDuration();
        var gen2Before = GC.CollectionCount(2);
        var gen0Before = GC.CollectionCount(0);
        var gen1Before = GC.CollectionCount(1);
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var measureFrom = warmup;
        var stopAt = warmup + duration;

        var progress = Task.Run(async () =>
        {
            long last = 0;
            while (clock.Elapsed < stopAt)
            {
                await Task.Delay(1_000);
                var now = Interlocked.Read(ref committed);
                var p99 = histogram.TotalCount > 0 ? histogram.GetValueAtPercentile(99) / (double)TimeSpan.TicksPerMillisecond : 0;
                Console.Error.Write($"\r  {label,-10} t={clock.Elapsed.TotalSeconds,5:F0}s  {(measuring ? "measuring" : "warm-up  ")}  tx/s={now - last,8:N0}  p99={p99,7:F1} ms  rejected={Interlocked.Read(ref rejected):N0}  failed={Interlocked.Read(ref failed):N0}   ");
                last = now;
            }
            Console.Error.WriteLine();
        });

        var measuredStart = TimeSpan.Zero;
        var workers = Enumerable.Range(0, inFlight).Select(slot => Task.Run(async () =>
        {
            var random = new Random(slot * 7919 + 17);
            while (clock.Elapsed < stopAt)
            {
                var started = Stopwatch.GetTimestamp();
                OpResult r;
                try
                {
                    r = await op(random);
                }
                catch (Exception e) when (e is TimeoutException or HttpRequestException or TaskCanceledException or Akka.Actor.AskTimeoutException)
                {
                    r = OpResult.Error;
                }
                Interlocked.Add(ref allCommitted, r.Committed);
                if (!measuring)
                {
                    if (clock.Elapsed < measureFrom) continue;
                    lock (histogram)
                    {
                        if (!measuring)
                        {
                            measuredStart = clock.Elapsed;
                            measuring = true;
                        }
                    }
                }
                histogram.RecordValue(Math.Max(1, (Stopwatch.GetTimestamp() - started) * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                Interlocked.Add(ref committed, r.Committed);
                Interlocked.Add(ref rejected, r.Rejected);
                Interlocked.Add(ref failed, r.Failed);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = (clock.Elapsed - measuredStart).TotalSeconds;
        await progress;
        var gcPause = GC.GetTotalPauseDuration() - gcPauseBefore;
        Console.Error.WriteLine($"  {label}: GC paused {gcPause.TotalMilliseconds:N0} ms in {clock.Elapsed.TotalSeconds:N0} s; gen0 {GC.CollectionCount(0) - gen0Before:N0}, gen1 {GC.CollectionCount(1) - gen1Before:N0}, gen2 {GC.CollectionCount(2) - gen2Before:N0} collections; heap {GC.GetTotalMemory(false) / 1e6:N0} MB; the last young collection promoted {GC.GetGCMemoryInfo(GCKind.Ephemeral).PromotedBytes / 1e6:N1} MB; allocated {(GC.GetTotalAllocatedBytes() - allocatedBefore) / Math.Max(1, Interlocked.Read(ref allCommitted)):N0} bytes per committed operation");
        double Ms(double percentile) => histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / (double)TimeSpan.TicksPerMillisecond;
        return new LoadResult(committed, rejected, failed, seconds, Ms(50), Ms(90), Ms(99), histogram.TotalCount == 0 ? 0 : histogram.GetMaxValue() / (double)TimeSpan.TicksPerMillisecond, allCommitted);
    }
}
