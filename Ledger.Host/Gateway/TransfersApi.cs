using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

public static class TransfersApi
{
    /// <summary>The longest a pending transfer may be held: one year.</summary>
    public const long TimeoutMsMax = 365L * 24 * 3600 * 1000;

    public static void MapTransfers(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/transfers", async (HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var (from, transfer) = Parse(await RequestBody.ReadAsync(request));
            await auth.RequireInitiator(request.HttpContext, from);
            if (await ledger.FindAsset(transfer.Asset) is null) return Problems.Rejection(Codes.AssetNotFound);
            return Outcome((await ledger.Ask(new SubmitTransfers(from, [transfer]))).Results[0]);
        }).Accepting<TransferBody>().Produces<TransactionJson>().WithName("createTransfer");

        v1.MapPost("/transfers/{id}/post", async (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var body = await RequestBody.ReadAsync(request);
            await auth.RequireInitiator(request.HttpContext, new AccountId(body.Id("from")));
            var message = new PostPending(new AccountId(body.Id("from")), new TxId(RequestBody.PathId(id, "transfer")), body.AmountOrNull("amount"));
            return Outcome(await ledger.Ask(message));
        }).Accepting<PostPendingBody>().Produces<TransactionJson>().WithName("postPendingTransfer");

        v1.MapPost("/transfers/{id}/void", async (string id, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var body = await RequestBody.ReadAsync(request);
            await auth.RequireInitiator(request.HttpContext, new AccountId(body.Id("from")));
            return Outcome(await ledger.Ask(new VoidPending(new AccountId(body.Id("from")), new TxId(RequestBody.PathId(id, "transfer")))));
        }).Accepting<VoidPendingBody>().Produces<TransactionJson>().WithName("voidPendingTransfer");
    }

    /// <summary>api.md 1.1: user data is an opaque string of at most 128 characters.</summary>
    public const int UserDataMax = 128;

    /// <summary>Reads one transfer (also a batch operation); returns the payer and the request.</summary>
    public static (AccountId From, TransferRequest Transfer) Parse(RequestBody b)
    {
        var id = new TxId(b.Id("id"));
        var from = new AccountId(b.Id("from"));
        var to = new AccountId(b.Id("to"));
        var asset = new AssetId(b.Id("asset"));
        var amount = b.Amount("amount");
        var pending = b.Bool("pending", false);
        var timeout = b.WholeNumber("timeout_ms", 1, TimeoutMsMax);
        if (timeout is not null && !pending) throw RequestBody.Invalid(Codes.InvalidRequest, "'timeout_ms' applies only to a pending transfer");
        // Empty user data is none: the same transfer, the same fingerprint.
        var userData = b.Has("user_data") ? b.Text("user_data", UserDataMax, allowEmpty: true) : null;
        if (userData?.Length == 0) userData = null;
        var balancing = b.Bool("balancing", false);
        if (balancing && pending) throw RequestBody.Invalid(Codes.InvalidRequest, "a balancing transfer cannot be pending");
        return (from, new TransferRequest(id, to, asset, amount, pending, timeout, userData, balancing));
    }

    private static IResult Outcome(TransferOutcome outcome) => outcome.Transaction switch
    {
        { Status: TransferStatus.Rejected } t => Problems.Rejection(t.Code!),
        { } t => Results.Json(Views.Transaction(t)),
        null => Problems.Rejection(outcome.Code!),
    };
}

/// <summary>
/// A transfer (also a batch's <c>transfer</c> operation): <c>pending</c> reserves the amount until posted, voided or
/// <c>timeout_ms</c> passes; <c>balancing</c> moves at most what <c>from</c> has available; <c>user_data</c> is opaque, at most 128 characters.
/// </summary>
public sealed record TransferBody(string Id, string From, string To, string Asset, string Amount, bool Pending = false, long? TimeoutMs = null,
    string? UserData = null, bool Balancing = false);

/// <summary>Posts a pending transfer: all of it, or <c>amount</c> (the rest is released).</summary>
public sealed record PostPendingBody(string From, string? Amount = null);

public sealed record VoidPendingBody(string From);
