using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Audit;

/// <summary>One asset in the audit: the sum of every holding plus what is in flight (zero, by conservation), and its supply.</summary>
public sealed record AssetAudit(Int128 Sum, Amount Supply, Amount InFlight);

/// <summary>
/// Conservation, checked from outside the entities: every account, pool, market and farm that ever persisted anything (the
/// journal's persistence ids) reports what it holds, what it has sent that is still in flight, and what it
/// has issued; per asset, holdings plus in-flight must sum to zero. Each entity answers from its durable state,
/// but the entities are read one after another, not at one instant: while value is moving, a transfer read on
/// the payer after it was acknowledged and on the payee before it landed would be missed. The audit is exact
/// whenever nothing is moving (after a batch of work has been answered, after a restart).
/// After a crash, an account answers only once what its journal showed in flight has been answered again (the
/// recovery hold), so it never counts a credit its payee already has; value still really on its way (or a saga decided
/// but not yet applied everywhere) is, so while a pass finds anything in flight the audit is taken again,
/// <see cref="PassPause"/> later, up to <see cref="Passes"/> times, and the last pass is the answer.
/// </summary>
public static class SupplyAudit
{
    /// <summary>Entities asked at once.</summary>
    public const int Parallelism = 64;

    public const int Passes = 3;

    public static readonly TimeSpan PassPause = TimeSpan.FromSeconds(1);

    public static async Task<SortedDictionary<string, AssetAudit>> Run(ActorSystem system, LedgerRegions regions, TimeSpan timeout,
        CancellationToken cancel = default)
    {
        for (var pass = 1; ; pass++)
        {
            var audit = await Pass(system, regions, timeout, cancel);
            if (pass == Passes || audit.Values.All(a => a.InFlight == Amount.Zero)) return audit;
            await Task.Delay(PassPause, cancel);
        }
    }

    private static async Task<SortedDictionary<string, AssetAudit>> Pass(ActorSystem system, LedgerRegions regions, TimeSpan timeout,
        CancellationToken cancel)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var ids = await journal.CurrentPersistenceIds().RunWith(Sink.Seq<string>(), system.Materializer());
        var holdings = new List<Holding>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancel }, async (pid, token) =>
        {
            (IActorRef Region, object Question)? ask = pid switch
            {
                _ when pid.StartsWith("account-", StringComparison.Ordinal) => (regions.Accounts, new GetHoldings(new AccountId(pid["account-".Length..]))),
                _ when pid.StartsWith("pool-", StringComparison.Ordinal) => (regions.Pools, new GetPoolHoldings(new PoolId(pid["pool-".Length..]))),
                _ when pid.StartsWith("market-", StringComparison.Ordinal) => (regions.Markets, new GetMarketHoldings(new(pid["market-".Length..]))),
                _ when pid.StartsWith("farm-", StringComparison.Ordinal) => (regions.Farms, new GetFarmHoldings(new(pid["farm-".Length..]))),
                _ when pid.StartsWith("option-", StringComparison.Ordinal) => (regions.Options, new GetOptionHoldings(new(pid["option-".Length..]))),
                _ when pid.StartsWith("perp-", StringComparison.Ordinal) => (regions.Perps, new GetPerpHoldings(new(pid["perp-".Length..]))),
                _ when pid.StartsWith("channel-", StringComparison.Ordinal) => (regions.Channels, new GetChannelHoldings(new(pid["channel-".Length..]))),
                _ => null,
            };
            if (ask is not { } a) return;
            var answer = await a.Region.Ask<Holdings>(a.Question, timeout, token);
            lock (holdings) holdings.AddRange(answer.Items);
        });
        var audit = new SortedDictionary<string, AssetAudit>(StringComparer.Ordinal);
        foreach (var h in holdings)
        {
            var a = audit.GetValueOrDefault(h.Asset.Value) ?? new AssetAudit(0, Amount.Zero, Amount.Zero);
            audit[h.Asset.Value] = new AssetAudit(checked(a.Sum + h.Held + (Int128)h.InFlight.Value), a.Supply + h.Issued, a.InFlight + h.InFlight);
        }
        return audit;
    }
}
