using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using HdrHistogram;
using Ledger.Actors.Feed;

namespace Ledger.Host.Bench;

/// <summary>
/// <c>--feed</c>: a reader of the change feed's live stream beside the load, as an integrator's consumer would run it.
/// Reports the items delivered per second while the load ran and the lag of each, from the instant its transaction was
/// decided (recorded in the event, just before its write) to its delivery.
/// </summary>
public sealed class FeedWatch
{
    private readonly LongHistogram _lagMs = new(TimeSpan.FromMinutes(10).Ticks / TimeSpan.TicksPerMillisecond, 3);
    private readonly long _from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly ChangeFeed _feed;
    private readonly UniqueKillSwitch _kill;
    private long _items;
    private long _firstAt, _lastAt;

    private FeedWatch(ActorSystem system)
    {
        _feed = new ChangeFeed(system);
        _kill = _feed.Live(FeedCursor.Start, visible: null)
            .ViaMaterialized(KillSwitches.Single<FeedItem>(), Keep.Right)
            .To(Sink.ForEach<FeedItem>(item =>
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                // Only what the load made: the funding before it is read first and not timed.
                if (item.Transaction.At < _from) return;
                _lagMs.RecordValue(Math.Max(0, now - item.Transaction.At));
                if (Interlocked.Increment(ref _items) == 1) _firstAt = now;
                _lastAt = now;
            }))
            .Run(system.Materializer());
    }

    public static FeedWatch Start(ActorSystem system) => new(system);

    /// <summary>Waits until the feed has caught up with the load (no item for a second), then reports.</summary>
    public async Task Report()
    {
        var seen = -1L;
        while (Interlocked.Read(ref _items) != seen)
        {
            seen = Interlocked.Read(ref _items);
            await Task.Delay(1_000);
        }
        _kill.Shutdown();
        var seconds = Math.Max(1, _lastAt - _firstAt) / 1000.0;
        Console.Error.WriteLine($"  feed: {_items:N0} items, {_items / seconds:N0} items/s delivered; lag p50 {_lagMs.GetValueAtPercentile(50):N0} ms, "
            + $"p99 {_lagMs.GetValueAtPercentile(99):N0} ms, max {_lagMs.GetMaxValue():N0} ms");
        // The read rate alone: the whole feed again in pages of 1,000, as a consumer catching up reads it (no load now).
        var (read, clock, cursor) = (0L, System.Diagnostics.Stopwatch.StartNew(), FeedCursor.Start);
        while (true)
        {
            var (items, next) = await _feed.Page(cursor, 1_000, visible: null, CancellationToken.None);
            read += items.Count;
            if (items.Count < 1_000) break;
            cursor = next;
        }
        Console.Error.WriteLine($"  feed read from the start in pages of 1,000: {read:N0} items in {clock.Elapsed.TotalSeconds:N1} s, {read / clock.Elapsed.TotalSeconds:N0} items/s");
    }
}
