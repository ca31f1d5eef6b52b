using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

public static class AccountsApi
{
    public const int ListLimitMax = 1_000;

    public static void MapAccounts(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/accounts", async (HttpRequest request, LedgerClient ledger) =>
        {
            var body = (await RequestBody.ReadAsync(request)).Allow("id", "owner");
            var id = new AccountId(body.Id("id"));
            var owner = body.Text("owner", Ledger.Contracts.Primitives.Id.MaxLength);
            // A key opens accounts for its own owner only.
            if (Auth.Of(request.HttpContext) is { IsAdmin: false, Owner: var keyOwner } && keyOwner != owner)
                throw new ForbiddenException($"this key may open accounts only for '{keyOwner}'");
            return await ledger.AskAccount(new OpenAccount(id, owner)) switch
            {
                AccountView { Created: true } a => Results.Json(Views.Account(a), statusCode: StatusCodes.Status201Created),
                AccountView a => Results.Json(Views.Account(a)),
                Rejected r => Problems.Rejection(r.Code, $"account '{id}' exists with another owner"),
                var other => Unexpected(other),
            };
        });

        v1.MapGet("/accounts/{id}", async (string id, HttpContext context, Auth auth, LedgerClient ledger) =>
        {
            var account = new AccountId(RequestBody.PathId(id, "account"));
            await auth.RequireAccount(context, account);
            return await ledger.AskAccount(new GetAccount(account)) switch
            {
                AccountView a => Results.Json(Views.Account(a)),
                Rejected r => Problems.NotFound(r.Code),
                var other => Unexpected(other),
            };
        });

        v1.MapGet("/accounts/{id}/transactions", async (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var account = new AccountId(RequestBody.PathId(id, "account"));
            await auth.RequireAccount(request.HttpContext, account);
            var limit = QueryInt(request, "limit", 1, ListLimitMax) ?? 100;
            var before = QueryInt(request, "before", 0, int.MaxValue);
            return await ledger.AskAccount(new ListTransactions(account, limit, before)) switch
            {
                TransactionPage p => Results.Json(new { items = p.Items.Select(Views.Transaction), next = p.Next?.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
                Rejected r => Problems.NotFound(r.Code),
                var other => Unexpected(other),
            };
        });

        v1.MapGet("/accounts/{account}/transactions/{id}", async (string account, string id, HttpContext context, Auth auth, LedgerClient ledger) =>
        {
            var owner = new AccountId(RequestBody.PathId(account, "account"));
            await auth.RequireAccount(context, owner);
            return await ledger.AskAccount(new GetTransaction(owner, new TxId(RequestBody.PathId(id, "transaction")))) switch
            {
                TransferOutcome { Transaction: { } t } => Results.Json(Views.Transaction(t)),
                TransferOutcome o => Problems.NotFound(o.Code!),
                var other => Unexpected(other),
            };
        });
    }

    private static int? QueryInt(HttpRequest request, string name, int min, int max)
    {
        if (!request.Query.TryGetValue(name, out var values)) return null;
        if (values.Count != 1 || !int.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < min || n > max)
            throw RequestBody.Invalid(Codes.InvalidRequest, $"query parameter '{name}' must be an integer from {min} to {max}");
        return n;
    }

    public static IResult Unexpected(object reply) => throw new InvalidOperationException($"unexpected reply {reply.GetType().Name}");
}
