using System.Text.Json;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Ledger.Actors.Feed;
using Ledger.Contracts.Primitives;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Ledger.Host.Gateway;

/// <summary>
/// The change feed (api.md 1.1, "Events"): pages with a cursor, and the same items as Server-Sent Events. The admin
/// sees everything; an owner's key sees the transactions that touch one of its owner's accounts.
/// </summary>
public static class EventsApi
{
    public const int LimitMax = 1_000;
    /// <summary>A comment line on an idle stream, so that proxies and clients see it alive.</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static void MapEvents(this IEndpointRouteBuilder v1)
    {
        v1.MapGet("/events", async (HttpRequest request, ChangeFeed feed, Auth auth, CancellationToken cancel) =>
        {
            var after = Cursor(request.Query["after"]);
            var limit = request.Query["limit"] is { Count: > 0 } l
                ? int.TryParse(l, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= LimitMax
                    ? n : throw RequestBody.Invalid(Codes.InvalidRequest, $"limit is 1 to {LimitMax}")
                : 100;
            try
            {
                var (items, next) = await feed.Page(after, limit, Visible(auth, request.HttpContext), cancel);
                return Results.Json(new FeedPageJson([.. items.Select(Json)], next.ToString()));
            }
            catch (Exception e) when (e is ArgumentException or Akka.Configuration.ConfigurationException)
            {
                return NeedsSql();
            }
        }).Produces<FeedPageJson>().WithName("listEvents")
            .Query("after", JsonSchemaType.String, required: false, "a cursor the feed gave; from the start if omitted")
            .Query("limit", JsonSchemaType.Integer, required: false, $"1 to {LimitMax}; 100 if omitted");

        v1.MapGet("/events/stream", async (HttpContext context, ChangeFeed feed, Auth auth, ActorSystem system, IOptions<JsonOptions> json) =>
        {
            var resume = context.Request.Headers["Last-Event-ID"] is { Count: > 0 } id ? id.ToString() : context.Request.Query["after"].ToString();
            var after = Cursor(resume.Length == 0 ? default : resume);
            Source<FeedItem, Akka.NotUsed> live;
            try
            {
                live = feed.Live(after, Visible(auth, context));
            }
            catch (Exception e) when (e is ArgumentException or Akka.Configuration.ConfigurationException)
            {
                await NeedsSql().ExecuteAsync(context);
                return;
            }
            context.Response.Headers.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            var (kill, queue) = live.ViaMaterialized(KillSwitches.Single<FeedItem>(), Keep.Right)
                .ToMaterialized(Sink.Queue<FeedItem>(), Keep.Both).Run(system.Materializer());
            var aborted = context.RequestAborted;
            try
            {
                await context.Response.Body.FlushAsync(aborted);
                var pull = queue.PullAsync();
                // One keep-alive timer at a time, renewed when it fires (not one per item).
                var keepAlive = Task.Delay(KeepAlive, aborted);
                while (!aborted.IsCancellationRequested)
                {
                    if (await Task.WhenAny(pull, keepAlive) != pull)
                    {
                        await context.Response.WriteAsync(": keep-alive\n\n", aborted);
                        await context.Response.Body.FlushAsync(aborted);
                        keepAlive = Task.Delay(KeepAlive, aborted);
                        continue;
                    }
                    if (!(await pull).HasValue) break;
                    var item = (await pull).Value;
                    await context.Response.WriteAsync($"id: {item.Cursor}\ndata: {JsonSerializer.Serialize(Json(item), json.Value.SerializerOptions)}\n\n", aborted);
                    await context.Response.Body.FlushAsync(aborted);
                    pull = queue.PullAsync();
                }
            }
            catch (OperationCanceledException)
            {
                // The client went away.
            }
            finally
            {
                kill.Shutdown();
            }
        }).Produces<string>(StatusCodes.Status200OK, "text/event-stream").WithName("streamEvents")
            .Query("after", JsonSchemaType.String, required: false, "a cursor the feed gave (the Last-Event-ID header wins); from the start if omitted");
    }

    private static FeedCursor Cursor(string? text) =>
        string.IsNullOrEmpty(text) ? FeedCursor.Start
        : FeedCursor.TryParse(text, out var cursor) ? cursor
        : throw RequestBody.Invalid(Codes.InvalidRequest, "after is a cursor the feed gave (the next of a page, or an item's cursor)");

    /// <summary>What the caller may see: everything (null) for the admin, else the items touching its owner's accounts.</summary>
    private static Func<FeedTransaction, ValueTask<bool>>? Visible(Auth auth, HttpContext context)
    {
        if (Auth.Of(context).IsAdmin) return null;
        return async t =>
        {
            foreach (var account in t.Accounts)
                if (await auth.Owns(context, account)) return true;
            return false;
        };
    }

    private static IResult NeedsSql() =>
        Problems.Of(StatusCodes.Status501NotImplemented, Codes.NotImplemented, "the change feed needs a SQL journal (sqlite or postgres)");

    private static FeedItemJson Json(FeedItem item)
    {
        var t = item.Transaction;
        return new FeedItemJson(item.Cursor.ToString(), t.Account.Value, new FeedTransactionJson(t.Id.Value, t.Account.Value, t.Type, t.Status, t.Code,
            [.. t.Legs.Select(l => new LegJson(l.From, l.To, l.Asset.Value, l.Amount.ToString()))], Views.Time(t.At),
            t.Venue is { } v ? new FeedVenueJson(v.Kind, v.Id) : null));
    }
}

/// <summary>A page of the change feed; <c>next</c> is the cursor to read on from.</summary>
public sealed record FeedPageJson(FeedItemJson[] Items, string Next);

public sealed record FeedItemJson(string Cursor, string Account, FeedTransactionJson Transaction);

/// <summary>A transaction that reached its final status, or a venue's operation (<c>venue</c> names it).</summary>
public sealed record FeedTransactionJson(string Id, string Account, string Type, string Status, string? Code, LegJson[] Legs, string CompletedAt, FeedVenueJson? Venue);

public sealed record FeedVenueJson(string Kind, string Id);
