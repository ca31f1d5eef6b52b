using System.Diagnostics;
using Ledger.Actors.Accounts;
using Ledger.Actors.Security;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;

namespace Ledger.Tests.MultiNode;

/// <summary>
/// Three nodes, each with the key cache its gateway uses (<see cref="KeyCache"/>, as <c>Auth</c> holds it): a key
/// verified and cached on one node is refused there within a second of its revocation through another node.
/// </summary>
public sealed class KeyRevocationSpecs : IAsyncLifetime
{
    private TestCluster _cluster = null!;
    private readonly List<KeyCache> _caches = [];

    public async Task InitializeAsync() =>
        _cluster = await TestCluster.Start(system => LedgerSharding.Start(system, 30, TimeProvider.System, new AccountSettings()));

    public async Task DisposeAsync()
    {
        foreach (var cache in _caches) cache.Dispose();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_key_cached_on_one_node_is_refused_there_within_a_second_of_its_revocation_through_another()
    {
        var (a, b) = (_cluster.Nodes[0].Regions, _cluster.Nodes[1].Regions);
        var cacheB = new KeyCache(b.Keys, TimeProvider.System);
        _caches.Add(cacheB);
        var asked = 0;
        async Task<KeyOwner> AskB(FindKey find)
        {
            Interlocked.Increment(ref asked);
            return (KeyOwner)await TestCluster.Ask(b.Keys, find);
        }

        Assert.IsType<KeyIssueResult>(await TestCluster.Ask(a.Keys, new IssueKey("hash-alice", "alice", "key_alice")));
        await TestCluster.Until(() => cacheB.Trusted, "node B's cache has heard from the key store");
        Assert.Equal("alice", await cacheB.Owner("hash-alice", AskB));
        // Used again, it is answered from node B's cache: the store is not asked.
        var askedBefore = asked;
        Assert.Equal("alice", await cacheB.Owner("hash-alice", AskB));
        Assert.Equal(askedBefore, asked);

        Assert.Equal(new KeyRevocation(true, 1), await TestCluster.Ask(a.Keys, new RevokeKey("key_alice"), attempts: 0));
        var revoked = Stopwatch.StartNew();
        while (await cacheB.Owner("hash-alice", AskB) is not null)
        {
            Assert.True(revoked.Elapsed < TimeSpan.FromSeconds(30), "node B still takes the revoked key after 30 s");
            await Task.Delay(50);
        }
        Assert.True(revoked.Elapsed <= TimeSpan.FromSeconds(1), $"node B took the revoked key for {revoked.ElapsedMilliseconds} ms");
        // And it stays refused: from the cache's polls as from the store.
        Assert.Null(await cacheB.Owner("hash-alice", AskB));
        Assert.Null(await cacheB.Owner("hash-alice", async find => (KeyOwner)await TestCluster.Ask(_cluster.Nodes[2].Regions.Keys, find)));
    }
}
