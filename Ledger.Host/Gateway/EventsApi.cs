using System.Text.Json;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Ledger.Actors.Feed;
using Ledger.Contracts.Primitives;

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
                return Results.Json(new { items = items.Select(Json), next = next.ToString() });
            }
            catch (Exception e) when (e is ArgumentException or Akka.Configuration.ConfigurationException)
            {
                return NeedsSql();
            }
        });

        v1.MapGet("/events/stream", async (HttpContext context, ChangeFeed feed, Auth auth, ActorSystem system) =>
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
                    await context.Response.WriteAsync($"id: {item.Cursor}\ndata: {JsonSerializer.Serialize(Json(item))}\n\n", aborted);
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
        });
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

    private static object Json(FeedItem item)
    {
        var t = item.Transaction;
        return new
        {
            cursor = item.Cursor.ToString(),
            account = t.Account.Value,
            transaction = new
            {
                id = t.Id.Value,
                account = t.Account.Value,
                type = t.Type,
                status = t.Status,
                code = t.Code,
                legs = t.Legs.Select(l => new { from = l.From, to = l.To, asset = l.Asset.Value, amount = l.Amount.ToString() }),
                completed_at = Views.Time(t.At),
                venue = t.Venue is { } v ? new { kind = v.Kind, id = v.Id } : null,
            },
        };
    }
}
