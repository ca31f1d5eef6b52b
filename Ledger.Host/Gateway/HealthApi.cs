using Akka.Actor;
using Akka.Cluster;
using Ledger.Actors.Journal;

namespace Ledger.Host.Gateway;

public static class HealthApi
{
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz/live", () => Results.Json(new { status = "live" }));

        // Ready: this node is an Up member of a cluster and the journal answered its last probe in time.
        app.MapGet("/healthz/ready", (ActorSystem system, JournalHealth health) =>
        {
            var member = Cluster.Get(system).SelfMember;
            var up = member.Status == MemberStatus.Up;
            var journal = health.Up;
            var body = new { status = up && journal ? "ready" : "not_ready", member = member.Status.ToString().ToLowerInvariant(), journal = journal ? "up" : "down" };
            return Results.Json(body, statusCode: up && journal ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
    }
}
