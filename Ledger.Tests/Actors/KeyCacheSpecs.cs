using Akka.TestKit;
using Ledger.Actors.Security;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ledger.Tests.Actors;

/// <summary>
/// The gateway's key cache against a store played by a probe: it answers from memory only while a poll has vouched
/// for it within the trust window, asks the store otherwise, drops what a poll says is revoked, and never caches an
/// answer older than the revocations it has applied.
/// </summary>
public class KeyCacheSpecs() : Akka.TestKit.Xunit2.TestKit(SpecConfig.Local())
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
    private int _asked;

    private Func<FindKey, Task<KeyOwner>> Store(string? owner, long version) => _ =>
    {
        Interlocked.Increment(ref _asked);
        return Task.FromResult(new KeyOwner(owner, version));
    };

    /// <summary>Answers the cache's next poll with <paramref name="changes"/> (letting a poll that waits on the clock go out).</summary>
    private async Task AnswerPoll(TestProbe store, KeyCache cache, KeyChanges changes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!cache.Trusted)
        {
            Assert.True(DateTime.UtcNow < deadline, "the cache took no poll answer in 30 s");
            if (store.HasMessages)
            {
                store.ExpectMsg<WatchKeys>();
                store.Reply(changes);
            }
            else _time.Advance(KeyCache.PollInterval);
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_cached_key_is_believed_only_while_polls_vouch_for_it_and_is_dropped_when_revoked()
    {
        var store = CreateTestProbe();
        using var cache = new KeyCache(store.Ref, _time);
        // Before any poll has answered, every request asks the store.
        Assert.Equal("alice", await cache.Owner("h", Store("alice", 0)));
        Assert.Equal("alice", await cache.Owner("h", Store("alice", 0)));
        Assert.Equal(2, _asked);

        // Once a poll vouches for it, what the store said is answered from memory.
        await AnswerPoll(store, cache, new KeyChanges(0, [], false));
        Assert.Equal("alice", await cache.Owner("h", Store("never asked", 0)));
        Assert.Equal(2, _asked);

        // Polls stop answering: past the trust window the cache asks the store again, which knows of the revocation.
        _time.Advance(KeyCache.TrustWindow);
        Assert.False(cache.Trusted);
        Assert.Null(await cache.Owner("h", Store(null, 1)));
        Assert.Equal(3, _asked);

        // A poll lists the revocation; an answer the store gave before it (version 0) is used once but not cached.
        await AnswerPoll(store, cache, new KeyChanges(1, ["h"], false));
        Assert.Equal("alice", await cache.Owner("h", Store("alice", 0)));
        Assert.Null(await cache.Owner("h", Store(null, 1)));
        Assert.Equal(5, _asked);
    }

    [Fact]
    public async Task A_poll_answer_that_lists_a_revocation_or_resets_empties_the_cache_of_it()
    {
        var store = CreateTestProbe();
        using var cache = new KeyCache(store.Ref, _time);
        await AnswerPoll(store, cache, new KeyChanges(0, [], false));
        Assert.Equal("alice", await cache.Owner("a", Store("alice", 0)));
        Assert.Equal("bob", await cache.Owner("b", Store("bob", 0)));
        Assert.Equal(2, _asked);

        _time.Advance(KeyCache.TrustWindow);
        await AnswerPoll(store, cache, new KeyChanges(1, ["a"], false));
        Assert.Equal("bob", await cache.Owner("b", Store("never asked", 0)));
        Assert.Null(await cache.Owner("a", Store(null, 1)));
        Assert.Equal(3, _asked);

        _time.Advance(KeyCache.TrustWindow);
        await AnswerPoll(store, cache, new KeyChanges(400, [], true));
        Assert.Equal("bob", await cache.Owner("b", Store("bob", 400)));
        Assert.Equal(4, _asked);
    }
}
