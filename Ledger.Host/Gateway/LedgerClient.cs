using System.Collections.Concurrent;
using Akka.Actor;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>The cluster asked for longer than the request timeout: the outcome is unknown (503, retry same id).</summary>
public sealed class LedgerUnavailableException(string detail) : Exception(detail);

/// <summary>The gateway's typed handle on the shard regions: one ask per entity, with the request timeout.</summary>
public sealed class LedgerClient(LedgerRegions regions, TimeSpan timeout)
{
    /// <summary>Asset definitions never change once created, so a positive answer is cached for good.</summary>
    private readonly ConcurrentDictionary<AssetId, AssetView> _assets = new();

    public async Task<object> AskAccount(IAccountMessage message) => await Ask(regions.Accounts, message);

    public async Task<object> AskAsset(IAssetMessage message) => await Ask(regions.Assets, message);

    public async Task<AssetView?> FindAsset(AssetId id)
    {
        if (_assets.TryGetValue(id, out var known)) return known;
        if (await AskAsset(new GetAsset(id)) is not AssetView view) return null;
        return _assets.GetOrAdd(id, view with { Created = false });
    }

    private async Task<object> Ask(IActorRef region, object message)
    {
        try
        {
            return await region.Ask<object>(message, timeout);
        }
        catch (AskTimeoutException)
        {
            throw new LedgerUnavailableException($"no answer from the ledger within {timeout.TotalMilliseconds:0} ms; retry with the same id");
        }
    }
}
