using Ledger.Contracts.Accounts;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Microsoft.OpenApi;

namespace Ledger.Host.Gateway;

public static class AccountsApi
{
    public const int ListLimitMax = 1_000;

    public static void MapAccounts(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/accounts", async (HttpRequest request, LedgerClient ledger) =>
        {
            var body = await RequestBody.ReadAsync(request);
            var id = new AccountId(body.Id("id"));
            if (id.Value.StartsWith(GovernorId.TreasuryPrefix, StringComparison.Ordinal))
                throw RequestBody.Invalid(Codes.InvalidId, $"account ids starting '{GovernorId.TreasuryPrefix}' are the governors' treasuries");
            var owner = body.Text("owner", Ledger.Contracts.Primitives.Id.MaxLength);
            // A key opens accounts for its own owner only.
            if (Auth.Of(request.HttpContext) is { IsAdmin: false, Owner: var keyOwner } && keyOwner != owner)
                throw new ForbiddenException($"this key may open accounts only for '{keyOwner}'");
            var opened = await ledger.Ask(new OpenAccount(id, owner));
            if (opened.IsRejected) return Problems.Rejection(opened.Rejection, $"account '{id}' exists with another owner");
            return Results.Json(Views.Account(opened.Reply), statusCode: opened.Reply.Created ? StatusCodes.Status201Created : null);
        }).Accepting<OpenAccountBody>().Produces<AccountJson>(StatusCodes.Status201Created).Produces<AccountJson>().WithName("openAccount");

        v1.MapPost("/accounts/{id}/close", async (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var account = new AccountId(RequestBody.PathId(id, "account"));
            (await RequestBody.ReadAsync(request)).Id("id");
            await auth.RequireInitiator(request.HttpContext, account);
            // A position in a venue is value too (api.md): every venue the account has called must hold nothing of it, and
            // the account refuses the close if it has called a venue since these were asked.
            var found = await ledger.Ask(new GetAccount(account));
            if (found.IsRejected) return Problems.Rejection(found.Rejection);
            foreach (var venue in found.Reply.Venues ?? [])
                if (await HoldsPosition(ledger, venue, account))
                    return Problems.Rejection(Codes.AccountNotEmpty, $"the account holds a position in {venue.Kind} '{venue.Id}'");
            var closed = await ledger.Ask(new CloseAccount(account, found.Reply.VenueCalls));
            return closed.IsRejected ? Problems.Rejection(closed.Rejection) : Results.Json(Views.Account(closed.Reply));
        }).Accepting<CloseAccountBody>().Produces<AccountJson>().WithName("closeAccount");

        v1.MapGet("/accounts/{id}", async (string id, HttpContext context, Auth auth, LedgerClient ledger) =>
        {
            var account = new AccountId(RequestBody.PathId(id, "account"));
            await auth.RequireAccount(context, account);
            var found = await ledger.Ask(new GetAccount(account));
            return found.IsRejected ? Problems.NotFound(found.Rejection) : Results.Json(Views.Account(found.Reply));
        }).Produces<AccountJson>().WithName("getAccount");

        v1.MapGet("/accounts/{id}/balances", async (string id, HttpRequest request, Auth auth, LedgerClient ledger, TimeProvider time) =>
        {
            var account = new AccountId(RequestBody.PathId(id, "account"));
            await auth.RequireAccount(request.HttpContext, account);
            // An instant still to come has no balances yet: they could change before it.
            var at = QueryLong(request, "at", 0, time.GetUtcNow().ToUnixTimeMilliseconds())
                ?? throw RequestBody.Invalid(Codes.InvalidRequest, "query parameter 'at' (Unix milliseconds) is required");
            var found = await ledger.Ask(new GetBalancesAt(account, at));
            if (found.IsRejected)
                return found.Rejection == Codes.Unavailable ? Problems.Rejection(found.Rejection, "the journal could not be read; retry") : Problems.NotFound(found.Rejection);
            return Results.Json(new BalancesAtJson(account.Value, Views.Time(at), Views.Balances(found.Reply.Balances)));
        }).Produces<BalancesAtJson>().WithName("getBalancesAt")
            .Query("at", JsonSchemaType.Integer, required: true, "the instant, Unix milliseconds, not in the future", "int64");

        v1.MapGet("/accounts/{id}/transactions", async (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var account = new AccountId(RequestBody.PathId(id, "account"));
            await auth.RequireAccount(request.HttpContext, account);
            var limit = QueryInt(request, "limit", 1, ListLimitMax) ?? 100;
            var before = QueryInt(request, "before", 0, int.MaxValue);
            var page = await ledger.Ask(new ListTransactions(account, limit, before));
            if (page.IsRejected) return Problems.NotFound(page.Rejection);
            return Results.Json(new TransactionPageJson([.. page.Reply.Items.Select(Views.Transaction)], page.Reply.Next?.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }).Produces<TransactionPageJson>().WithName("listTransactions")
            .Query("limit", JsonSchemaType.Integer, required: false, $"1 to {ListLimitMax}; 100 if omitted")
            .Query("before", JsonSchemaType.Integer, required: false, "the cursor a page gave as next");

        v1.MapGet("/accounts/{account}/transactions/{id}", async (string account, string id, HttpContext context, Auth auth, LedgerClient ledger) =>
        {
            var owner = new AccountId(RequestBody.PathId(account, "account"));
            await auth.RequireAccount(context, owner);
            var found = await ledger.Ask(new GetTransaction(owner, new TxId(RequestBody.PathId(id, "transaction"))));
            return found.Transaction is { } t ? Results.Json(Views.Transaction(t)) : Problems.NotFound(found.Code!);
        }).Produces<TransactionJson>().WithName("getTransaction");
    }

    private static int? QueryInt(HttpRequest request, string name, int min, int max) => (int?)QueryLong(request, name, min, max);

    private static long? QueryLong(HttpRequest request, string name, long min, long max)
    {
        if (!request.Query.TryGetValue(name, out var values)) return null;
        if (values.Count != 1 || !long.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < min || n > max)
            throw RequestBody.Invalid(Codes.InvalidRequest, $"query parameter '{name}' must be an integer from {min} to {max}");
        return n;
    }
    /// <summary>Whether <paramref name="venue"/> still holds anything of <paramref name="account"/>: a supply, a loan or collateral, a
    /// stake or unclaimed rewards, a written option not yet settled, a perp position, margin or vault shares, a channel not yet settled.</summary>
    private static async Task<bool> HoldsPosition(LedgerClient ledger, VenueRef venue, AccountId account)
    {
        switch (venue.Kind)
        {
            case "market":
                return await ledger.Find(new GetMarketPosition(new MarketId(venue.Id), account)) is { } m
                    && !(m.Supplied.IsZero && m.Borrowed.IsZero && m.Collateral.IsZero);
            case "farm":
                return await ledger.Find(new GetFarmPosition(new FarmId(venue.Id), account)) is { } f && !(f.Staked.IsZero && f.Earned.IsZero);
            case "option":
                return await ledger.Find(new GetOptionPosition(new OptionId(venue.Id), account)) is { } o
                    && !o.Settled && !(o.Written.IsZero && o.Collateral.IsZero);
            case "perp":
                return await ledger.Find(new GetPerpPosition(new PerpId(venue.Id), account)) is { } p
                    && (p.Size != 0 || !p.Margin.IsZero || !p.VaultShares.IsZero);
            case "channel":
                return await ledger.Find(new GetChannel(new ChannelId(venue.Id))) is { } c
                    && (c.A == account || c.B == account) && c.State != ChannelStatus.Settled && !(c.DepositA.IsZero && c.DepositB.IsZero);
            default:
                throw new InvalidOperationException($"unknown venue kind '{venue.Kind}'");
        }
    }
}

public sealed record OpenAccountBody(string Id, string Owner);

/// <summary>Closing names a transaction id, as every state change does.</summary>
public sealed record CloseAccountBody(string Id);
