using Ledger.Contracts.Accounts;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>
/// Payment channels (api.md 1.1, "Payment channels"). Deposits are venue calls of the depositing participant's
/// account; closes, updates and settles are decided by the channel, which checks every signature; the settlement
/// is paid to both participants before the settle is answered.
/// </summary>
public static class ChannelsApi
{
    public static void MapChannels(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/channels", async (HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var body = await RequestBody.ReadAsync(request);
            var (id, asset) = (new ChannelId(body.Id("id")), new AssetId(body.Id("asset")));
            var (a, b) = (new AccountId(body.Id("a")), new AccountId(body.Id("b")));
            var (keyA, keyB) = (Hex(body, "a_key", ChannelProofs.KeyHexLength), Hex(body, "b_key", ChannelProofs.KeyHexLength));
            var challenge = body.WholeNumber("challenge_ms", 1, ChannelContract.ChallengeMaxMs, required: true)!.Value;
            if (a == b) return Problems.Rejection(Codes.SameAccount, "a channel is between two accounts");
            await RequireEither(auth, request.HttpContext, a, b);
            if (await ledger.FindAsset(asset) is null) return Problems.Rejection(Codes.AssetNotFound, $"no asset '{asset}'");
            foreach (var account in new[] { a, b })
                if (await ledger.Find(new GetAccount(account)) is null) return Problems.Rejection(Codes.AccountNotFound, $"no account '{account}'");
            var opened = await ledger.Ask(new OpenChannel(id, asset, a, b, keyA, keyB, challenge));
            if (opened.IsRejected) return Problems.Rejection(opened.Rejection, $"channel '{id}' exists with another definition");
            return Results.Json(Channel(opened.Reply), statusCode: opened.Reply.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }).Accepting<OpenChannelBody>().Produces<ChannelJson>(StatusCodes.Status201Created).Produces<ChannelJson>().WithName("openChannel");

        v1.MapGet("/channels/{c}", async (string c, LedgerClient ledger) =>
            await ledger.Find(new GetChannel(new ChannelId(RequestBody.PathId(c, "channel")))) is { } view
                ? Results.Json(Channel(view)) : Problems.NotFound(Codes.ChannelNotFound)).Produces<ChannelJson>().WithName("getChannel");

        v1.MapPost("/channels/{c}/deposit", async (string c, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var channel = await Find(ledger, c);
            var body = await RequestBody.ReadAsync(request);
            var (tx, account, amount) = (new TxId(body.Id("id")), new AccountId(body.Id("account")), body.Amount("amount"));
            await auth.RequireInitiator(request.HttpContext, account);
            if (account != channel.A && account != channel.B) return Problems.Rejection(Codes.NotParticipant, $"'{account}' is neither a nor b");
            if (amount.IsZero) return Problems.Rejection(Codes.ZeroAmount);
            var call = new ChannelCall(channel.Id, ChannelCallKind.Deposit, [new Leg(channel.Asset, amount)], amount);
            return VenuesApi.Outcome(await ledger.Ask(new CallVenue(account, tx, call)));
        }).Accepting<VenueCallBody>().Produces<TransactionJson>().WithName("depositToChannel");

        v1.MapPost("/channels/{c}/close", async (string c, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var channel = await Find(ledger, c);
            var body = await RequestBody.ReadAsync(request);
            if (body.Bool("cooperative", false))
            {
                body.Allow("id", "account", "cooperative", "balance_a", "balance_b", "signature_a", "signature_b");
                var (tx, account) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
                var (balanceA, balanceB) = (body.Amount("balance_a"), body.Amount("balance_b"));
                var (signatureA, signatureB) = (Hex(body, "signature_a", ChannelProofs.SignatureHexLength), Hex(body, "signature_b", ChannelProofs.SignatureHexLength));
                await auth.RequireAccount(request.HttpContext, account);
                return Answer(await ledger.Ask(new CloseChannelTogether(channel.Id, account, tx, balanceA, balanceB, signatureA, signatureB)));
            }
            body.Allow("id", "account", "cooperative", "proof");
            var (id, closer) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
            var proof = body.Has("proof") ? Proof(body.Nested("proof")) : null;
            await auth.RequireAccount(request.HttpContext, closer);
            return Answer(await ledger.Ask(new CloseChannel(channel.Id, closer, id, proof)));
        }).Accepting<CloseChannelBody>().Produces<ChannelJson>().WithName("closeChannel");

        v1.MapPost("/channels/{c}/update", async (string c, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var channel = await Find(ledger, c);
            var body = await RequestBody.ReadAsync(request);
            var (id, account, proof) = (new TxId(body.Id("id")), new AccountId(body.Id("account")), Proof(body.Nested("proof")));
            await auth.RequireAccount(request.HttpContext, account);
            return Answer(await ledger.Ask(new UpdateChannel(channel.Id, account, id, proof)));
        }).Accepting<UpdateChannelBody>().Produces<ChannelJson>().WithName("updateChannel");

        v1.MapPost("/channels/{c}/settle", async (string c, HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var channel = await Find(ledger, c);
            var body = await RequestBody.ReadAsync(request);
            var (id, account) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
            await auth.RequireAccount(request.HttpContext, account);
            return Answer(await ledger.Ask(new SettleChannel(channel.Id, account, id)));
        }).Accepting<AccountCallBody>().Produces<ChannelJson>().WithName("settleChannel");
    }

    private static async Task<ChannelView> Find(LedgerClient ledger, string c) =>
        await ledger.Find(new GetChannel(new ChannelId(RequestBody.PathId(c, "channel"))))
        ?? throw new ProblemException(StatusCodes.Status422UnprocessableEntity, Codes.ChannelNotFound, $"no channel '{c}'");

    /// <summary>Opening needs a key of <c>a</c>'s or <c>b</c>'s owner (or the admin's).</summary>
    private static async Task RequireEither(Auth auth, HttpContext context, AccountId a, AccountId b)
    {
        try
        {
            await auth.RequireAccount(context, a);
        }
        catch (ForbiddenException)
        {
            await auth.RequireAccount(context, b);
        }
    }

    private static BalanceProof Proof(RequestBody proof)
    {
        proof.Allow<BalanceProofJson>();
        return new BalanceProof(new AccountId(proof.Id("signer")), proof.WholeNumber("nonce", 1, long.MaxValue, required: true)!.Value,
            proof.Amount("transferred"), Hex(proof, "signature", ChannelProofs.SignatureHexLength));
    }

    /// <summary>A key or a signature: exactly <paramref name="length"/> hex digits, kept in lowercase.</summary>
    private static string Hex(RequestBody body, string name, int length)
    {
        var text = body.Text(name, length);
        return ChannelProofs.IsHex(text, length)
            ? text.ToLowerInvariant()
            : throw RequestBody.Invalid(Codes.InvalidRequest, $"'{name}' must be {length} hex digits");
    }

    private static IResult Answer(Answer<ChannelView> answer) =>
        answer.IsRejected ? Problems.Rejection(answer.Rejection) : Results.Json(Channel(answer.Reply));

    private static ChannelJson Channel(ChannelView c) => new(c.Id.Value, c.Asset.Value, c.A.Value, c.B.Value, c.KeyA, c.KeyB, c.ChallengeMs,
        c.DepositA.ToString(), c.DepositB.ToString(), c.State.ToString().ToLowerInvariant(), c.ClosesAt is { } at ? Views.Time(at) : null,
        c.ProofA is { } pa ? ProofJson(pa) : null, c.ProofB is { } pb ? ProofJson(pb) : null,
        c.State == ChannelStatus.Settled ? c.SettleA.ToString() : null, c.State == ChannelStatus.Settled ? c.SettleB.ToString() : null);

    private static BalanceProofJson ProofJson(BalanceProof p) => new(p.Signer.Value, p.Nonce, p.Transferred.ToString(), p.Signature);
}

/// <summary>A channel between accounts <c>a</c> and <c>b</c>: their Ed25519 public keys (64 hex digits) and the challenge window.</summary>
public sealed record OpenChannelBody(string Id, string Asset, string A, string B, string AKey, string BKey, long ChallengeMs);

/// <summary>
/// A signed balance proof: <c>transferred</c> is all the signer has sent the other side off the ledger, <c>signature</c> 128 hex
/// digits over <c>ledger.channel.v1\n&lt;channel&gt;\n&lt;signer&gt;\n&lt;nonce&gt;\n&lt;transferred&gt;</c>.
/// </summary>
public sealed record BalanceProofJson(string Signer, long Nonce, string Transferred, string Signature);

/// <summary>
/// A close: cooperative (<c>cooperative</c> true with both balances and both signatures), or alone with the other side's newest
/// <c>proof</c> (or none), which starts the challenge window. Fields of the other kind are refused.
/// </summary>
public sealed record CloseChannelBody(string Id, string Account, bool Cooperative = false, string? BalanceA = null, string? BalanceB = null,
    string? SignatureA = null, string? SignatureB = null, BalanceProofJson? Proof = null);

/// <summary>A newer proof of either side, while the challenge window is open (anyone may send it).</summary>
public sealed record UpdateChannelBody(string Id, string Account, BalanceProofJson Proof);

/// <summary>A channel: <c>state</c> open, closing or settled; the settled amounts once settled.</summary>
public sealed record ChannelJson(string Id, string Asset, string A, string B, string AKey, string BKey, long ChallengeMs, string DepositA, string DepositB,
    string State, string? ClosesAt, BalanceProofJson? ProofA, BalanceProofJson? ProofB, string? SettledA, string? SettledB);
