using Akka.Actor;
using Akka.Cluster;
using Ledger.Actors.Journal;

namespace Ledger.Host.Gateway;

public static class HealthApi
{
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz/live", () => Results.Json(new LiveJson("live"))).Produces<LiveJson>().WithName("live");

        // Ready: this node is an Up member of a cluster and the journal answered its last probe in time.
        app.MapGet("/healthz/ready", (ActorSystem system, JournalHealth health) =>
        {
            var member = Cluster.Get(system).SelfMember;
            var up = member.Status == MemberStatus.Up;
            var journal = health.Up;
            var body = new ReadyJson(up && journal ? "ready" : "not_ready", member.Status.ToString().ToLowerInvariant(), journal ? "up" : "down");
            return Results.Json(body, statusCode: up && journal ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).Produces<ReadyJson>().Produces<ReadyJson>(StatusCodes.Status503ServiceUnavailable).WithName("ready");
    }
}

public sealed record LiveJson(string Status);

/// <summary>Ready (<c>status</c> "ready", 200) when this node is an up member and its journal answers; else "not_ready" and 503.</summary>
public sealed record ReadyJson(string Status, string Member, string Journal);
