using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Ledger.Actors.Journal;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>The cluster asked for longer than the request timeout: the outcome is unknown (503, retry same id).</summary>
public sealed class LedgerUnavailableException(string detail) : Exception(detail);

/// <summary>
/// The gateway's typed handle on the shard regions: one ask per request, answered with the reply its contract names
/// (<see cref="IAsk{TReply}"/>, <see cref="IRejectableAsk{TReply}"/>), with the request timeout — or, while the
/// journal is down (<see cref="JournalHealth"/>), within <see cref="OutageBudget"/> of the request's start for all its
/// asks together, so that a request for entities that would first have to be read back from the journal is answered
/// 503 at once. What such a request left with an entity is not lost: it is decided once the journal is back, and the
/// client's retry with the same id finds it.
/// </summary>
public sealed class LedgerClient(LedgerRegions regions, TimeSpan timeout, JournalHealth health)
{
    // Ample for an entity in memory to answer, and short enough that the 503 reaches the client within the second
    // issue 20 asks for even on a node slow to schedule its timers.
    public static readonly TimeSpan OutageBudget = TimeSpan.FromMilliseconds(300);

    /// <summary>When the HTTP request being served started (<see cref="BeginRequest"/>), flowing with it through its awaits.</summary>
    private static readonly AsyncLocal<long> RequestStarted = new();

    public static void BeginRequest() => RequestStarted.Value = System.Diagnostics.Stopwatch.GetTimestamp();

    public LedgerRegions Regions => regions;
    public TimeSpan Timeout => timeout;

    /// <summary>Asset definitions never change once created, so a positive answer is cached for good.</summary>
    private readonly ConcurrentDictionary<AssetId, AssetView> _assets = new();
    private readonly ConcurrentDictionary<PoolId, PoolView> _pools = new();

    /// <summary>Asks the entity <paramref name="request"/> addresses; its answer is always a <typeparamref name="TReply"/>.</summary>
    public async Task<TReply> Ask<TReply>(IAsk<TReply> request) where TReply : class, ILedgerMessage =>
        await AskRegion(RegionOf(request), request) switch
        {
            TReply reply => reply,
            var other => throw Unexpected(other),
        };

    /// <summary>Asks the entity <paramref name="request"/> addresses: its reply, or the code it refused with.</summary>
    public async Task<Answer<TReply>> Ask<TReply>(IRejectableAsk<TReply> request) where TReply : class, ILedgerMessage =>
        await AskRegion(RegionOf(request), request) switch
        {
            TReply reply => new Answer<TReply>(reply),
            Rejected rejected => new Answer<TReply>(rejected),
            var other => throw Unexpected(other),
        };

    /// <summary>The reply, or null when the entity refused: for reads where a refusal only means "there is none".</summary>
    public async Task<TReply?> Find<TReply>(IRejectableAsk<TReply> request) where TReply : class, ILedgerMessage => (await Ask(request)).Reply;

    /// <summary>A pool's definition (assets, fee) never changes once created; its reserves are read fresh by <c>GET</c>.</summary>
    public async Task<PoolView?> FindPool(PoolId id)
    {
        if (_pools.TryGetValue(id, out var known)) return known;
        if (await Find(new GetPool(id)) is not { } view) return null;
        return _pools.GetOrAdd(id, view with { Created = false });
    }

    /// <summary>
    /// An asset's definition. Pool shares (<c>lp.&lt;pool&gt;</c>) are assets defined by their pool: 18 decimals,
    /// issued by the pool itself (shown as issuer <c>lp.&lt;pool&gt;</c>; no account holds that id's issuer right).
    /// An option series' token (<c>opt.&lt;series&gt;</c>) likewise, with its underlying's decimals.
    /// </summary>
    public async Task<AssetView?> FindAsset(AssetId id)
    {
        if (_assets.TryGetValue(id, out var known)) return known;
        if (id.Value.StartsWith(PoolId.SharePrefix, StringComparison.Ordinal))
            return await FindPool(new PoolId(id.Value[PoolId.SharePrefix.Length..])) is { } pool
                ? _assets.GetOrAdd(id, new AssetView(id, ShareDecimals, new AccountId(id.Value), false))
                : null;
        if (id.Value.StartsWith(OptionId.TokenPrefix, StringComparison.Ordinal))
            return await Find(new GetOption(new OptionId(id.Value[OptionId.TokenPrefix.Length..]))) is { } series
                ? _assets.GetOrAdd(id, new AssetView(id, series.UnderlyingDecimals, new AccountId(id.Value), false))
                : null;
        if (await Find(new GetAsset(id)) is not { } view) return null;
        return _assets.GetOrAdd(id, view with { Created = false });
    }

    public const int ShareDecimals = 18;

    private IActorRef RegionOf(IEntityMessage request) => request switch
    {
        IAccountMessage => regions.Accounts,
        IAssetMessage => regions.Assets,
        IPoolMessage => regions.Pools,
        ISagaMessage => regions.Sagas,
        IMarketMessage => regions.Markets,
        IFarmMessage => regions.Farms,
        IOptionMessage => regions.Options,
        IPerpMessage => regions.Perps,
        IGovernorMessage => regions.Governors,
        IChannelMessage => regions.Channels,
        IOracleMessage => regions.Oracle,
        IKeyMessage => regions.Keys,
        _ => throw new ArgumentException($"the gateway has no region for {request.GetType().Name}", nameof(request)),
    };

    /// <summary>A reply the request's contract does not name: a bug, answered 500 as any other.</summary>
    private static InvalidOperationException Unexpected(object reply) => new($"unexpected reply {reply.GetType().Name}");

    private async Task<object> AskRegion(IActorRef region, object message)
    {
        var wait = timeout;
        if (health.Down)
        {
            var left = RequestStarted.Value == 0 ? OutageBudget : OutageBudget - System.Diagnostics.Stopwatch.GetElapsedTime(RequestStarted.Value);
            if (left <= TimeSpan.Zero) throw new LedgerUnavailableException("the journal is unreachable; retry with the same id");
            if (left < wait) wait = left;
        }
        try
        {
            var reply = await region.Ask<object>(message, wait);
            return reply switch
            {
                JournalUnavailable failed => throw new LedgerUnavailableException($"{failed.Entity} could not write to its journal; the outcome is unknown, retry with the same id"),
                Busy busy => throw new LedgerUnavailableException($"{busy.What}; nothing was done, retry with the same id"),
                _ => reply,
            };
        }
        catch (AskTimeoutException)
        {
            throw new LedgerUnavailableException($"{(wait < timeout ? "the journal is unreachable; " : "")}no answer from the ledger within {wait.TotalMilliseconds:0} ms; retry with the same id");
        }
    }
}

/// <summary>
/// An entity's answer to an <see cref="IRejectableAsk{TReply}"/>: its <see cref="Reply"/>, or the code of the refusal
/// (<see cref="Rejected"/>) that changed nothing. A journal failure or a timeout is not an answer: the ask throws
/// <see cref="LedgerUnavailableException"/>, which the gateway turns into its 503.
/// </summary>
public sealed class Answer<TReply> where TReply : class, ILedgerMessage
{
    internal Answer(TReply reply) => Reply = reply;

    internal Answer(Rejected rejected) => Rejection = rejected.Code;

    public TReply? Reply { get; }

    public string? Rejection { get; }

    [MemberNotNullWhen(true, nameof(Rejection))]
    [MemberNotNullWhen(false, nameof(Reply))]
    public bool IsRejected => Rejection is not null;
}
