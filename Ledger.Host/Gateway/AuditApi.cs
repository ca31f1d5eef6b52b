using Akka.Actor;
using Ledger.Actors.Audit;
using Ledger.Contracts.Primitives;

namespace Ledger.Host.Gateway;

public static class AuditApi
{
    /// <summary>The longest an audit may take: it asks every account and pool that ever persisted anything.</summary>
    public static readonly TimeSpan AuditTimeout = TimeSpan.FromMinutes(2);

    public static void MapAudit(this IEndpointRouteBuilder v1)
    {
        v1.MapGet("/audit/supply", async (HttpContext context, ActorSystem system, LedgerClient ledger, TimeProvider time, CancellationToken cancel) =>
        {
            Auth.RequireAdmin(context);
            SortedDictionary<string, AssetAudit> audit;
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                deadline.CancelAfter(AuditTimeout);
                audit = await SupplyAudit.Run(system, ledger.Regions, ledger.Timeout, deadline.Token);
            }
            catch (Exception e) when (e is ArgumentException or Akka.Configuration.ConfigurationException)
            {
                // The in-memory journal has no query side to list what exists.
                return Problems.Of(StatusCodes.Status501NotImplemented, Codes.NotImplemented, "the supply audit needs a SQL journal (sqlite or postgres)");
            }
            catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
            {
                return Problems.Unavailable("the audit did not finish in time; try again");
            }
            return Results.Json(new SupplyAuditJson(
                audit.ToDictionary(kv => kv.Key, kv => new AssetSupplyJson(SignedAmount.Format(kv.Value.Sum), kv.Value.Supply.ToString(), kv.Value.InFlight.ToString())),
                Views.Time(time.GetUtcNow().ToUnixTimeMilliseconds())));
        }).Produces<SupplyAuditJson>().WithName("auditSupply");
    }
}

/// <summary>Per asset: the sum of all balances everywhere, in flight included (which must be "0"), and the supply.</summary>
public sealed record SupplyAuditJson(Dictionary<string, AssetSupplyJson> Assets, string AsOf);

public sealed record AssetSupplyJson(string Sum, string Supply, string InFlight);
