using Akka.Actor;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Security;

/// <summary>
/// A gateway node's cache of verified keys (hash → owner), kept honest by polling the key store for revocations
/// (<see cref="WatchKeys"/>). A cached entry is used only while the last answered poll was sent less than
/// <see cref="TrustWindow"/> ago: a poll sent after a revocation was acknowledged carries it, so a revoked key is
/// refused on every node at most <see cref="TrustWindow"/> after its revocation, however slow the polls are — a node
/// whose polls lag asks the store on every request instead of trusting what it holds.
/// </summary>
public sealed class KeyCache : IDisposable
{
    /// <summary>Pause between one poll's answer and the next poll.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How long one answered poll vouches for the cache, from the moment the poll was sent (api.md allows a second).</summary>
    public static readonly TimeSpan TrustWindow = TimeSpan.FromMilliseconds(750);

    /// <summary>Keys held at most; beyond, a verified key is not cached (and is asked for each time).</summary>
    public const int EntriesMax = 100_000;

    private readonly IActorRef _store;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal);
    private long _version;
    private long _trustedUntil = long.MinValue;
    private readonly CancellationTokenSource _stop = new();

    public KeyCache(IActorRef store, TimeProvider time)
    {
        _store = store;
        _time = time;
        _ = Task.Run(Poll);
    }

    /// <summary>The owner of the key with this hash, or null for an unknown or revoked key; asks the store through <paramref name="ask"/> unless the cache may answer.</summary>
    public async Task<string?> Owner(string hash, Func<FindKey, Task<KeyOwner>> ask)
    {
        lock (_gate)
        {
            if (_time.GetTimestamp() < _trustedUntil && _owners.TryGetValue(hash, out var cached)) return cached;
        }
        if (await ask(new FindKey(hash)) is not { Owner: { } owner, Version: var version })
        {
            lock (_gate) _owners.Remove(hash);
            return null;
        }
        lock (_gate)
        {
            // An answer older than the revocations applied already might name a key revoked since: not cached.
            if (version >= _version && _owners.Count < EntriesMax) _owners[hash] = owner;
        }
        return owner;
    }

    /// <summary>Whether a poll has vouched for the cache recently enough (for tests and metrics).</summary>
    public bool Trusted
    {
        get { lock (_gate) return _time.GetTimestamp() < _trustedUntil; }
    }

    private async Task Poll()
    {
        var window = (long)(TrustWindow.TotalSeconds * _time.TimestampFrequency);
        while (!_stop.IsCancellationRequested)
        {
            var sentAt = _time.GetTimestamp();
            long since;
            lock (_gate) since = _version;
            try
            {
                if (await _store.Ask<object>(new WatchKeys(since), TrustWindow, _stop.Token) is KeyChanges changes)
                    lock (_gate)
                    {
                        if (changes.Reset) _owners.Clear();
                        foreach (var hash in changes.Revoked) _owners.Remove(hash);
                        _version = changes.Version;
                        _trustedUntil = Math.Max(_trustedUntil, sentAt + window);
                    }
            }
            catch (Exception)
            {
                // No answer in time (or none at all): the cache's trust runs out by itself; the next poll tries again.
                if (_stop.IsCancellationRequested) return;
            }
            try
            {
                await Task.Delay(PollInterval, _time, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public void Dispose() => _stop.Cancel();
}
