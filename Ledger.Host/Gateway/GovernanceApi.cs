using System.Text.Json.Serialization;
using Ledger.Contracts.Governance;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Host.Gateway;

/// <summary>
/// Governors (api.md 1.1, "Governance"). The gateway reads what a decision needs from the token's balances at an
/// instant — the proposer's votes a millisecond before now, a voter's weight and the issuer's balance (the quorum) at
/// the snapshot — and the governor decides; once the snapshot has passed, those balances can no longer change.
/// </summary>
public static class GovernanceApi
{
    public static void MapGovernance(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/governors", async (HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var body = await RequestBody.ReadAsync(request);
            var id = new GovernorId(body.Id("id"));
            if (id.Treasury.Value.Length > Id.MaxLength) throw RequestBody.Invalid(Codes.InvalidId, $"a governor id has at most {Id.MaxLength - GovernorId.TreasuryPrefix.Length} characters");
            var token = new AssetId(body.Id("token"));
            const long Year = 366L * 24 * 3600 * 1000 * 100;
            var parameters = new GovernorParameters(token, body.WholeNumber("voting_delay_ms", 0, Year, required: true)!.Value,
                body.WholeNumber("voting_period_ms", 1, Year, required: true)!.Value, body.Amount("proposal_threshold"),
                (int)body.WholeNumber("quorum_bps", 0, 10_000, required: true)!.Value, body.WholeNumber("timelock_ms", 0, Year, required: true)!.Value,
                body.WholeNumber("grace_ms", 0, Year, required: true)!.Value);
            if (await ledger.FindAsset(token) is null) return Problems.Rejection(Codes.AssetNotFound, $"no asset '{token}'");
            var treasury = await ledger.Ask(new OpenAccount(id.Treasury, id.Treasury.Value));
            if (treasury.IsRejected) return Problems.Rejection(treasury.Rejection);
            var created = await ledger.Ask(new CreateGovernor(id, parameters));
            if (created.IsRejected) return Problems.Rejection(created.Rejection, $"governor '{id}' exists with another definition");
            return Results.Json(Governor(created.Reply), statusCode: created.Reply.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }).Accepting<CreateGovernorBody>().Produces<GovernorJson>(StatusCodes.Status201Created).Produces<GovernorJson>().WithName("createGovernor");

        v1.MapGet("/governors/{g}", async (string g, LedgerClient ledger) =>
            await ledger.Find(new GetGovernor(new GovernorId(RequestBody.PathId(g, "governor")))) is { } view
                ? Results.Json(Governor(view)) : Problems.NotFound(Codes.GovernorNotFound)).Produces<GovernorJson>().WithName("getGovernor");

        v1.MapPost("/governors/{g}/proposals", async (string g, HttpRequest request, Auth auth, LedgerClient ledger, TimeProvider time) =>
        {
            var governor = await Find(ledger, g);
            var body = await RequestBody.ReadAsync(request);
            var (id, proposer) = (new TxId(body.Id("id")), new AccountId(body.Id("proposer")));
            // The ids of an attempt's operations are "<proposal>:<attempt>:<index>", within the 64 characters of an id.
            if (id.Value.Length > 48) throw RequestBody.Invalid(Codes.InvalidId, "a proposal id has at most 48 characters");
            var description = body.Has("description") ? body.Text("description", 4_096) : "";
            var operations = Operations(body, governor.Id.Treasury);
            await auth.RequireAccount(request.HttpContext, proposer);
            var votes = await Votes(ledger, proposer, governor.Parameters.Token, time.GetUtcNow().ToUnixTimeMilliseconds() - 1);
            return Answer(await ledger.Ask(new Propose(governor.Id, proposer, id, description, operations, votes)), created: true);
        }).Accepting<ProposeBody>().Produces<ProposalJson>(StatusCodes.Status201Created).WithName("propose");

        v1.MapGet("/governors/{g}/proposals/{p}", async (string g, string p, LedgerClient ledger, TimeProvider time) =>
        {
            var governor = await Find(ledger, g, notFound: StatusCodes.Status404NotFound);
            var view = await ledger.Ask(new GetProposal(governor.Id, RequestBody.PathId(p, "proposal")));
            if (view.Code is not null) return Problems.NotFound(view.Code);
            var quorum = view.Quorum ?? (time.GetUtcNow().ToUnixTimeMilliseconds() > view.Snapshot ? await Quorum(ledger, governor, view.Snapshot) : null);
            return Results.Json(Proposal(view with { Quorum = quorum }));
        }).Produces<ProposalJson>().WithName("getProposal");

        v1.MapPost("/governors/{g}/proposals/{p}/votes", async (string g, string p, HttpRequest request, Auth auth, LedgerClient ledger, TimeProvider time) =>
        {
            var (governor, proposal) = (await Find(ledger, g), RequestBody.PathId(p, "proposal"));
            var body = await RequestBody.ReadAsync(request);
            var (id, voter) = (new TxId(body.Id("id")), new AccountId(body.Id("voter")));
            var support = body.Text("support", 16) switch
            {
                "for" => VoteSupport.For,
                "against" => VoteSupport.Against,
                "abstain" => VoteSupport.Abstain,
                _ => throw RequestBody.Invalid(Codes.InvalidRequest, "support is one of for, against, abstain"),
            };
            await auth.RequireAccount(request.HttpContext, voter);
            var view = await ledger.Ask(new GetProposal(governor.Id, proposal));
            if (view.Code is not null) return Problems.Rejection(view.Code);
            // Until the snapshot has passed by this gateway's clock the weight cannot be read yet: the vote is not active here,
            // and never reaches the governor with a weight read too early (its own clock decides whether it is active).
            if (time.GetUtcNow().ToUnixTimeMilliseconds() <= view.Snapshot)
                return Problems.Rejection(Codes.ProposalNotActive, "voting starts once the snapshot has passed");
            var (weight, quorum) = (await Votes(ledger, voter, governor.Parameters.Token, view.Snapshot), await Quorum(ledger, governor, view.Snapshot));
            return Answer(await ledger.Ask(new CastVote(governor.Id, proposal, voter, id, support, weight, quorum)));
        }).Accepting<VoteBody>().Produces<ProposalJson>().WithName("vote");

        // One named path per operation, so that the OpenAPI document (and a client generated from it) names each.
        foreach (var operation in new[] { "queue", "execute", "cancel" })
            v1.MapPost("/governors/{g}/proposals/{p}/" + operation, (string g, string p, HttpRequest request, Auth auth, LedgerClient ledger, TimeProvider time) =>
                Operate(g, p, operation, request, auth, ledger, time))
                .Accepting<AccountCallBody>().Produces<ProposalJson>().WithName(operation + "Proposal");
    }

    private static async Task<IResult> Operate(string g, string p, string operation, HttpRequest request, Auth auth, LedgerClient ledger, TimeProvider time)
    {
        var (governor, proposal) = (await Find(ledger, g), RequestBody.PathId(p, "proposal"));
        var body = await RequestBody.ReadAsync(request);
        var (id, account) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
        await auth.RequireAccount(request.HttpContext, account);
        switch (operation)
        {
            case "queue":
                var view = await ledger.Ask(new GetProposal(governor.Id, proposal));
                if (view.Code is not null) return Problems.Rejection(view.Code);
                var quorum = time.GetUtcNow().ToUnixTimeMilliseconds() > view.Snapshot ? await Quorum(ledger, governor, view.Snapshot) : Amount.Zero;
                return Answer(await ledger.Ask(new QueueProposal(governor.Id, proposal, account, id, quorum)));
            case "execute":
                return Answer(await ledger.Ask(new ExecuteProposal(governor.Id, proposal, account, id)));
            default:
                return Answer(await ledger.Ask(new CancelProposal(governor.Id, proposal, account, id)));
        }
    }

    private static async Task<GovernorView> Find(LedgerClient ledger, string g, int notFound = StatusCodes.Status422UnprocessableEntity) =>
        await ledger.Find(new GetGovernor(new GovernorId(RequestBody.PathId(g, "governor"))))
        ?? throw new ProblemException(notFound, Codes.GovernorNotFound, $"no governor '{g}'");

    /// <summary>The account's balance of the token at <paramref name="at"/> (none below zero: an issuer has no votes).</summary>
    private static async Task<Amount> Votes(LedgerClient ledger, AccountId account, AssetId token, long at)
    {
        var found = await ledger.Ask(new GetBalancesAt(account, at));
        if (found.IsRejected) return found.Rejection == Codes.AccountNotFound ? Amount.Zero : throw new ProblemException(StatusCodes.Status503ServiceUnavailable, found.Rejection, "balances could not be read; retry");
        var posted = found.Reply.Balances.FirstOrDefault(b => b.Asset == token)?.Posted ?? 0;
        return posted > 0 ? new Amount((UInt128)posted) : Amount.Zero;
    }

    /// <summary>The quorum at the snapshot: a fraction of the supply, minus the token issuer's balance then.</summary>
    private static async Task<Amount> Quorum(LedgerClient ledger, GovernorView governor, long snapshot)
    {
        var asset = await ledger.FindAsset(governor.Parameters.Token) ?? throw new ProblemException(StatusCodes.Status503ServiceUnavailable, Codes.Unavailable, "the token could not be read; retry");
        var found = await ledger.Ask(new GetBalancesAt(asset.Issuer, snapshot));
        if (found.IsRejected) throw new ProblemException(StatusCodes.Status503ServiceUnavailable, Codes.Unavailable, "balances could not be read; retry");
        var issuer = found.Reply.Balances.FirstOrDefault(b => b.Asset == governor.Parameters.Token)?.Posted ?? 0;
        return GovernorContract.Quorum(governor.Parameters, issuer);
    }

    /// <summary>Version 1 batch operations, each initiated by the treasury; 1 to 10 of them.</summary>
    private static SagaOp[] Operations(RequestBody body, AccountId treasury)
    {
        var operations = body.Array("operations");
        var count = operations.GetArrayLength();
        if (count is 0 or > GovernorContract.OperationsMax)
            throw RequestBody.Invalid(Codes.InvalidRequest, $"a proposal holds 1 to {GovernorContract.OperationsMax} operations");
        var ops = new SagaOp[count];
        var i = 0;
        foreach (var op in operations.EnumerateArray())
        {
            var parsed = BatchesApi.Parse(op, i);
            if (parsed.Transfer is { Pending: true })
                throw RequestBody.Invalid(Codes.InvalidRequest, $"operations[{i}]: a pending transfer cannot be part of a proposal");
            ops[i] = parsed.Op;
            if (ops[i].Account != treasury)
                throw RequestBody.Invalid(Codes.InvalidRequest, $"operations[{i}]: a proposal's operations are initiated by the treasury '{treasury}'");
            i++;
        }
        if (ops.Select(o => o.Id).Distinct().Count() != ops.Length) throw RequestBody.Invalid(Codes.InvalidRequest, "operation ids repeat");
        return ops;
    }

    private static IResult Answer(ProposalView view, bool created = false) => view.Code switch
    {
        null => Results.Json(Proposal(view), statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK),
        Codes.Forbidden => Problems.Of(StatusCodes.Status403Forbidden, Codes.Forbidden, "only the proposer may cancel a proposal"),
        var code => Problems.Rejection(code),
    };

    private static GovernorJson Governor(GovernorView g) => new(g.Id.Value, g.Parameters.Token.Value, g.Parameters.VotingDelayMs, g.Parameters.VotingPeriodMs,
        g.Parameters.ProposalThreshold.ToString(), g.Parameters.QuorumBps, g.Parameters.TimelockMs, g.Parameters.GraceMs, g.Id.Treasury.Value, g.Proposals);

    /// <summary>api.md's proposal; <c>results</c> only once a batch has run.</summary>
    private static ProposalJson Proposal(ProposalView p) => new(p.Id, p.Proposer.Value, p.Description, p.State.ToString().ToLowerInvariant(), p.For.ToString(),
        p.Against.ToString(), p.Abstain.ToString(), p.Quorum?.ToString(), Views.Time(p.Snapshot), Views.Time(p.Deadline), p.Eta is { } eta ? Views.Time(eta) : null,
        [.. p.Operations.Select(Operation)],
        p.Results is { } results
            ? [.. results.Select(r => new BatchItemJson(r.Id.Value, r.Committed ? "committed" : "rejected", r.Code,
                r.Committed && r.Fill is { Path: not null } fill ? SwapsApi.Json(fill) : null))]
            : null);

    /// <summary>A proposal's operation as it was proposed, in the shape of a batch's.</summary>
    private static BatchOperationBody Operation(SagaOp op) => op switch
    {
        TransferOp t => new("transfer", t.Id.Value, From: t.Account.Value, To: t.To.Value, Asset: t.Asset.Value, Amount: t.Amount.ToString()),
        SwapOp s => new("swap", s.Id.Value, Account: s.Account.Value, Route: [.. s.Route.Select(r => r.Value)], AssetIn: s.AssetIn.Value,
            AmountIn: s.AmountIn.ToString(), AmountOut: s.AmountOut?.ToString(), MinAmountOut: s.MinOut.ToString()),
        _ => new("unknown", op.Id.Value),
    };
}

/// <summary>
/// A governor of a treasury (<c>gov.&lt;id&gt;</c>) voted by holders of <c>token</c>; times in milliseconds, the threshold an
/// amount of the token, the quorum in basis points of its supply.
/// </summary>
public sealed record CreateGovernorBody(string Id, string Token, long VotingDelayMs, long VotingPeriodMs, string ProposalThreshold, int QuorumBps, long TimelockMs,
    long GraceMs);

public sealed record GovernorJson(string Id, string Token, long VotingDelayMs, long VotingPeriodMs, string ProposalThreshold, int QuorumBps, long TimelockMs,
    long GraceMs, string Treasury, int Proposals);

/// <summary>A proposal: 1 to 10 batch operations initiated by the treasury, run as one atomic batch when executed.</summary>
public sealed record ProposeBody(string Id, string Proposer, BatchOperationBody[] Operations, string? Description = null);

/// <summary>A vote: <c>support</c> is <c>"for"</c>, <c>"against"</c> or <c>"abstain"</c>.</summary>
public sealed record VoteBody(string Id, string Voter, string Support);

/// <summary>
/// A proposal: <c>state</c> is pending, active, defeated, succeeded, queued, expired, executed or canceled; <c>quorum</c> is
/// known once the snapshot has passed; <c>results</c> are the batch's once it has run.
/// </summary>
public sealed record ProposalJson(string Id, string Proposer, string Description, string State, string For, string Against, string Abstain, string? Quorum,
    string Snapshot, string Deadline, string? Eta, BatchOperationBody[] Operations,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BatchItemJson[]? Results);
