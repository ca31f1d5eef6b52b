using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Venues;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Actors.Feed;

/// <summary>One movement of a transaction in the feed: from an account or a venue, to an account or a venue.</summary>
public sealed record FeedLeg(string From, string To, AssetId Asset, Amount Amount);

/// <summary>
/// A transaction that reached its final status, or a venue operation, as the feed shows it. <see cref="Accounts"/> are
/// the accounts it touches (whose owners may see it).
/// </summary>
public sealed record FeedTransaction(TxId Id, AccountId Account, string Type, string Status, string? Code, FeedLeg[] Legs, long At,
    AccountId[] Accounts, FeedVenue? Venue = null);

/// <summary>The venue an operation ran on: its kind (<c>pool</c>, <c>market</c>, … or <c>route</c> for a saga's swap) and id.</summary>
public sealed record FeedVenue(string Kind, string Id);

/// <summary>An item of the feed: the transaction and where it stands in the journal (<see cref="Cursor"/>).</summary>
public sealed record FeedItem(FeedCursor Cursor, FeedTransaction Transaction);

/// <summary>
/// A position in the feed: the journal row (its <c>ordering</c>) and the item within it; <see cref="Index"/> null means
/// the whole row is behind. Shown as <c>ordering</c> or <c>ordering.index</c>.
/// </summary>
public readonly record struct FeedCursor(long Row, int? Index)
{
    public static readonly FeedCursor Start = new(0, null);

    public override string ToString() => Index is { } i
        ? $"{Row.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
        : Row.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out FeedCursor cursor)
    {
        cursor = Start;
        if (string.IsNullOrEmpty(text) || text.Length > 40) return false;
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var style = System.Globalization.NumberStyles.None;
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        var rowText = dot < 0 ? text.AsSpan() : text.AsSpan(0, dot);
        if (!long.TryParse(rowText, style, culture, out var row)) return false;
        int? index = null;
        if (dot >= 0)
        {
            if (!int.TryParse(text.AsSpan(dot + 1), style, culture, out var i)) return false;
            index = i;
        }
        cursor = new(row, index);
        return true;
    }

    /// <summary>Whether an item at (<paramref name="row"/>, <paramref name="index"/>) comes after this position.</summary>
    public bool Before(long row, int index) => row > Row || (row == Row && Index is { } i && index > i);
}

/// <summary>
/// The change feed (api.md 1.1, "Events"): every journal row read in the journal's order through Akka.Persistence.Query
/// (<see cref="SqlReadJournal"/>'s all-events query over the <c>ordering</c> column) and turned into the transactions
/// it finished. A plain transfer appears once, when its payee made the credit durable (or refused it), a pending one
/// when its payee resolved it; a saga's operations when their initiator applied the decision; a venue's operations when
/// the venue decided them. Nothing is kept between reads: a cursor is a journal position, so a read resumes on any node.
/// </summary>
public sealed class ChangeFeed(ActorSystem system)
{
    private readonly Lazy<SqlReadJournal> _journal = new(() => PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier));

    /// <summary>The rows one page reads at most, so that a key that sees little does not scan the whole journal in one request.</summary>
    public const int ScanRows = 20_000;

    /// <summary>
    /// Up to <paramref name="limit"/> items after <paramref name="after"/> that <paramref name="visible"/> (null: all) lets
    /// through, and the cursor to read on from (past every row read, when the page is not full).
    /// </summary>
    public async Task<(IReadOnlyList<FeedItem> Items, FeedCursor Next)> Page(FeedCursor after, int limit, Func<FeedTransaction, ValueTask<bool>>? visible,
        CancellationToken cancel)
    {
        var items = new List<FeedItem>();
        var next = after;
        var rows = From(after, live: false).Take(ScanRows).Select(e => (Row: ((Sequence)e.Offset).Value, Items: Items(e, after)));
        if (visible is not null)
            rows = rows.SelectAsync(1, async row => (row.Row, await Filter(row.Items, visible)));
        var (kill, done) = rows.ViaMaterialized(KillSwitches.Single<(long Row, List<FeedItem> Items)>(), Keep.Right)
            .ToMaterialized(Sink.ForEach<(long Row, List<FeedItem> Items)>(row =>
            {
                if (items.Count >= limit) return;
                foreach (var item in row.Items)
                {
                    if (items.Count == limit) return;
                    items.Add(item);
                    next = item.Cursor;
                }
                if (items.Count < limit) next = new FeedCursor(row.Row, null);
            }), Keep.Both)
            .Run(system.Materializer());
        using (cancel.Register(() => kill.Abort(new OperationCanceledException())))
        {
            // Stop reading once the page is full (the row that filled it is the last one read).
            while (!done.IsCompleted && items.Count < limit) await Task.WhenAny(done, Task.Delay(5, CancellationToken.None));
            if (!done.IsCompleted) kill.Shutdown();
            await done;
        }
        return (items, next);
    }

    /// <summary>
    /// Every item after <paramref name="after"/> that <paramref name="visible"/> (null: all) lets through, as it is made
    /// durable (polled; see the query's refresh interval). Unfiltered, a row's items are made in line: an asynchronous
    /// step per row waited its turn on a busy thread pool and let the feed fall behind the ledger.
    /// </summary>
    public Source<FeedItem, Akka.NotUsed> Live(FeedCursor after, Func<FeedTransaction, ValueTask<bool>>? visible)
    {
        var items = From(after, live: true).SelectMany(e => Items(e, after));
        return visible is null ? items : items.SelectAsync(1, async item => (Item: item, Visible: await visible(item.Transaction))).Where(v => v.Visible).Select(v => v.Item);
    }

    /// <summary>The journal's rows from the one holding <paramref name="after"/> (or the next, when that row is behind): all there are now, or on and on.</summary>
    private Source<EventEnvelope, Akka.NotUsed> From(FeedCursor after, bool live)
    {
        var offset = Offset.Sequence(after.Index is null ? after.Row : after.Row - 1);
        return live ? _journal.Value.AllEvents(offset) : _journal.Value.CurrentAllEvents(offset);
    }

    private static List<FeedItem> Items(EventEnvelope e, FeedCursor after)
    {
        var row = ((Sequence)e.Offset).Value;
        var items = new List<FeedItem>();
        var index = 0;
        foreach (var t in Transactions(e.PersistenceId, e.Event))
        {
            if (after.Before(row, index)) items.Add(new FeedItem(new FeedCursor(row, index), t));
            index++;
        }
        return items;
    }

    private static async Task<List<FeedItem>> Filter(List<FeedItem> items, Func<FeedTransaction, ValueTask<bool>> visible)
    {
        var kept = new List<FeedItem>(items.Count);
        foreach (var item in items)
            if (await visible(item.Transaction)) kept.Add(item);
        return kept;
    }

    /// <summary>The transactions a journal row finished (none for rows of other kinds).</summary>
    public static IEnumerable<FeedTransaction> Transactions(string persistenceId, object payload) => payload switch
    {
        AccountWrite w when persistenceId.StartsWith("account-", StringComparison.Ordinal) =>
            w.Events.SelectMany(e => OfAccount(new AccountId(persistenceId["account-".Length..]), e)),
        PoolWrite w => w.Events.Select(e => e switch
        {
            PoolCallDecided d => Venue(persistenceId, d.Account, d.Id, PoolType(d), d.In, d.Out, d.Code, d.At),
            RouteAnswered r => Route(r.Id, r.Account, r.Route, r.Fill, r.Code, r.At),
            _ => null,
        }).OfType<FeedTransaction>(),
        MarketWrite w => w.Events.OfType<Contracts.Markets.MarketCallDecided>()
            .Select(d => Venue(persistenceId, d.Account, d.Id, Snake(d.Kind.ToString()), d.In, d.Out, d.Code, d.At)),
        FarmWrite w => w.Events.OfType<Contracts.Farms.FarmCallDecided>().Select(d => Venue(persistenceId, d.Account, d.Id, Snake(d.Kind.ToString()), d.In, d.Out, d.Code, d.At)),
        OptionWrite w => w.Events.OfType<Contracts.Options.OptionCallDecided>()
            .Select(d => Venue(persistenceId, d.Account, d.Id, Snake(d.Kind.ToString()), d.In, d.Out, d.Code, d.At)),
        PerpWrite w => w.Events.OfType<Contracts.Perps.PerpCallDecided>().Select(d => Venue(persistenceId, d.Account, d.Id, Snake(d.Kind.ToString()), d.In, d.Out, d.Code, d.At)),
        ChannelWrite w => w.Events.OfType<IChannelCall>().Select(c => c switch
        {
            ChannelCallDecided d => Venue(persistenceId, d.Account, d.Id, "channel_" + Snake(d.Kind.ToString()), d.In, d.Out, d.Code, d.At),
            // Closes, updates and settles move nothing themselves: the payouts that follow a settle are items of their own.
            ChannelClosed d => Venue(persistenceId, d.Account, d.Id, "channel_close", [], [], d.Code, d.At),
            ProofUpdated d => Venue(persistenceId, d.Account, d.Id, "channel_update", [], [], d.Code, d.At),
            ChannelSettled d => Venue(persistenceId, d.Account, d.Id, "channel_settle", [], [], d.Code, d.At),
            _ => null,
        }).OfType<FeedTransaction>(),
        // A governor's calls move nothing either: an executed proposal's transfers are the items of its batch.
        GovernorWrite w => w.Events.OfType<Contracts.Governance.IGovernorCall>().Select(c => c switch
        {
            Contracts.Governance.ProposalSubmitted d => Venue(persistenceId, d.Proposer, d.Id, "propose", [], [], d.Code, d.At),
            Contracts.Governance.VoteCast d => Venue(persistenceId, d.Voter, d.Id, "vote", [], [], d.Code, d.At),
            Contracts.Governance.ProposalQueued d => Venue(persistenceId, d.Account, d.Id, "queue", [], [], d.Code, d.At),
            Contracts.Governance.ProposalCanceled d => Venue(persistenceId, d.Account, d.Id, "cancel", [], [], d.Code, d.At),
            Contracts.Governance.ExecutionStarted d => Venue(persistenceId, d.Account, d.Id, "execute", [], [], d.Code, d.At),
            _ => null,
        }).OfType<FeedTransaction>(),
        _ => [],
    };

    private static IEnumerable<FeedTransaction> OfAccount(AccountId account, IAccountEvent e)
    {
        switch (e)
        {
            case TransferCredited { Pending: false } c:
                yield return Transfer(c.Id, c.From, account, c.Asset, c.Amount, "committed", null, c.At);
                break;
            case PendingResolved r:
                var status = r.Outcome switch { TransferStatus.Committed => "committed", TransferStatus.Voided => "voided", _ => "expired" };
                yield return new FeedTransaction(r.Id, r.From, "transfer", status, null,
                    r.Asset is { } asset ? [new(r.From.Value, account.Value, asset, r.Outcome == TransferStatus.Committed ? r.PostedAmount : Amount.Zero)] : [],
                    r.At, [r.From, account]);
                break;
            case CreditRefused c:
                yield return Transfer(c.Id, c.From, account, c.Asset, c.Amount, "rejected", c.Code, c.At);
                break;
            case TransferRejected r:
                yield return Transfer(r.Id, account, r.To, r.Asset, r.Amount, "rejected", r.Code, r.At);
                break;
            case PoolCallRejected r:
                yield return new FeedTransaction(r.Id, account, Snake(r.Call.Kind.ToString()), "rejected", r.Code, [], r.At, [account]);
                break;
            case VenueCallRejected r:
                yield return new FeedTransaction(r.Id, account, r.Call.Operation, "rejected", r.Code, [], r.At, [account]);
                break;
            case SagaApplied a:
                for (var i = 0; i < a.Ops.Length; i++)
                {
                    var (index, op) = (a.Ops[i].Index, a.Ops[i].Op);
                    if (op.Account != account) continue;
                    if (!a.Commit)
                    {
                        var code = a.Code == Codes.LockTimeout || index == a.FailedOp ? a.Code : Codes.LinkedOperationFailed;
                        yield return new FeedTransaction(op.Id, account, op is SwapOp ? "swap" : "transfer", "rejected", code, [], a.At, [account]);
                        continue;
                    }
                    yield return op switch
                    {
                        TransferOp t => Transfer(t.Id, account, t.To, t.Asset, OpFill.Moved(t, a.Fills?[i]), "committed", null, a.At),
                        SwapOp s when a.Fills?[i] is { Path: not null } fill => Route(s.Id, account, s.Route, fill, null, a.At),
                        _ => new FeedTransaction(op.Id, account, op is SwapOp ? "swap" : "transfer", "committed", null, [], a.At, [account]),
                    };
                }
                break;
        }
    }

    /// <summary>A swap along a route: the input into its first pool and the output from its last.</summary>
    private static FeedTransaction Route(TxId id, AccountId account, PoolId[] route, OpFill? fill, string? code, long at) =>
        new(id, account, "swap", code is null ? "committed" : "rejected", code,
            fill is { Path: { } path, Amounts: { } amounts }
                ? [new(account.Value, route[0].Value, path[0], amounts[0]), new(route[^1].Value, account.Value, path[^1], amounts[^1])]
                : [],
            at, [account], new FeedVenue("route", string.Join(",", route.Select(p => p.Value))));

    private static FeedTransaction Transfer(TxId id, AccountId from, AccountId to, AssetId asset, Amount amount, string status, string? code, long at) =>
        new(id, from, "transfer", status, code, [new(from.Value, to.Value, asset, amount)], at, [from, to]);

    /// <summary>A venue's decision on an account's call: what came in from the account and what went back to it.</summary>
    private static FeedTransaction Venue(string persistenceId, AccountId account, TxId id, string type, Leg[] @in, Leg[] @out, string? code, long at)
    {
        var dash = persistenceId.IndexOf('-', StringComparison.Ordinal);
        var venue = persistenceId[(dash + 1)..];
        FeedLeg[] legs = code is null
            ? [.. @in.Select(l => new FeedLeg(account.Value, venue, l.Asset, l.Amount)), .. @out.Select(l => new FeedLeg(venue, account.Value, l.Asset, l.Amount))]
            : [];
        return new FeedTransaction(id, account, type, code is null ? "committed" : "rejected", code, legs, at, [account], new FeedVenue(persistenceId[..dash], venue));
    }

    /// <summary>As a pool call's transaction names it (<c>deposit</c>, <c>withdrawal</c>, <c>swap</c>).</summary>
    private static string PoolType(PoolCallDecided d) => d.In.Length == 2 ? "deposit" : d.Out.Length == 2 ? "withdrawal" : "swap";

    private static string Snake(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
