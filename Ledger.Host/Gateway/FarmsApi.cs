using Ledger.Contracts.Accounts;
using Ledger.Contracts.Farms;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>Staking farms (api.md): create, fund a reward period, stake, unstake, claim, positions.</summary>
public static class FarmsApi
{
    /// <summary>The longest reward period: ten years.</summary>
    public const long DurationSecondsMax = 10L * 365 * 24 * 3600;

    /// <summary>Each operation's path segment, and its name in the OpenAPI document (a generated client's method).</summary>
    private static readonly Dictionary<string, (FarmCallKind Kind, string OperationId)> Operations = new()
    {
        ["rewards"] = (FarmCallKind.Fund, "fundFarm"),
        ["stake"] = (FarmCallKind.Stake, "stake"),
        ["unstake"] = (FarmCallKind.Unstake, "unstake"),
        ["claim"] = (FarmCallKind.Claim, "claimRewards"),
    };

    public static void MapFarms(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/farms", async (HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var body = await RequestBody.ReadAsync(request);
            var id = new FarmId(body.Id("id"));
            var (stake, reward) = (new AssetId(body.Id("stake_asset")), new AssetId(body.Id("reward_asset")));
            var duration = body.WholeNumber("duration_s", 1, DurationSecondsMax, required: true)!.Value;
            if (await ledger.FindAsset(stake) is null || await ledger.FindAsset(reward) is null) return Problems.Rejection(Codes.AssetNotFound);
            var created = await ledger.Ask(new CreateFarm(id, stake, reward, duration * 1_000));
            if (created.IsRejected) return Problems.Rejection(created.Rejection, $"farm '{id}' exists with another definition");
            return Results.Json(Farm(created.Reply), statusCode: created.Reply.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }).Accepting<CreateFarmBody>().Produces<FarmJson>(StatusCodes.Status201Created).Produces<FarmJson>().WithName("createFarm");

        v1.MapGet("/farms/{id}", async (string id, LedgerClient ledger) =>
            await ledger.Find(new GetFarm(new FarmId(RequestBody.PathId(id, "farm")))) is { } f ? Results.Json(Farm(f)) : Problems.NotFound(Codes.FarmNotFound))
            .Produces<FarmJson>().WithName("getFarm");

        v1.MapGet("/farms/{id}/positions/{account}", async (string id, string account, HttpContext context, Auth auth, LedgerClient ledger) =>
        {
            var holder = new AccountId(RequestBody.PathId(account, "account"));
            await auth.RequireAccount(context, holder);
            return await ledger.Find(new GetFarmPosition(new FarmId(RequestBody.PathId(id, "farm")), holder)) is { } p
                ? Results.Json(new FarmPositionJson(p.Staked.ToString(), p.Earned.ToString()))
                : Problems.NotFound(Codes.FarmNotFound);
        }).Produces<FarmPositionJson>().WithName("getFarmPosition");

        // One named path per operation, so that the OpenAPI document (and a client generated from it) names each.
        foreach (var (operation, (kind, operationId)) in Operations)
        {
            var endpoint = v1.MapPost("/farms/{id}/" + operation, (string id, HttpRequest request, Auth auth, LedgerClient ledger) => Call(id, operation, request, auth, ledger))
                .Produces<TransactionJson>().WithName(operationId);
            // A claim takes what was earned: it names no amount.
            if (kind == FarmCallKind.Claim) endpoint.Accepting<AccountCallBody>();
            else endpoint.Accepting<VenueCallBody>();
        }
    }

    private static FarmJson Farm(FarmView f) => new(f.Id.Value, f.StakeAsset.Value, f.RewardAsset.Value, f.DurationMs / 1_000, f.TotalStaked.ToString(),
        f.RewardHeld.ToString(), Views.Time(f.PeriodFinish));

    private static async Task<IResult> Call(string id, string operation, HttpRequest request, Auth auth, LedgerClient ledger)
    {
        var farm = new FarmId(RequestBody.PathId(id, "farm"));
        var kind = Operations[operation].Kind;
        var body = await RequestBody.ReadAsync(request);
        var (tx, account) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
        await auth.RequireInitiator(request.HttpContext, account);
        var amount = kind == FarmCallKind.Claim ? Amount.Zero : body.Amount("amount");
        if (await ledger.Find(new GetFarm(farm)) is not { } f) return Problems.Rejection(Codes.FarmNotFound);
        Leg[] @in = kind switch { FarmCallKind.Fund => [new Leg(f.RewardAsset, amount)], FarmCallKind.Stake => [new Leg(f.StakeAsset, amount)], _ => [] };
        return VenuesApi.Outcome(await ledger.Ask(new CallVenue(account, tx, new FarmCall(farm, kind, @in, amount))));
    }
}

/// <summary>What market and farm operations answer.</summary>
public static class VenuesApi
{
    /// <summary>Committed: the transaction (what went in, what came back); refused: a problem with its code.</summary>
    public static IResult Outcome(TransferOutcome outcome) => outcome.Transaction switch
    {
        { Status: TransferStatus.Committed } t => Results.Json(Views.Transaction(t)),
        { } t => Problems.Rejection(t.Code ?? Codes.Unavailable),
        null => Problems.Rejection(outcome.Code!),
    };
}

/// <summary>A farm paying <c>reward_asset</c> to stakers of <c>stake_asset</c>, each funded period lasting <c>duration_s</c> seconds.</summary>
public sealed record CreateFarmBody(string Id, string StakeAsset, string RewardAsset, long DurationS);

public sealed record FarmJson(string Id, string StakeAsset, string RewardAsset, long DurationS, string TotalStaked, string RewardHeld, string PeriodFinish);

public sealed record FarmPositionJson(string Staked, string Earned);

/// <summary>An operation of one account that names no amount: a farm's claim, an option's settle, a proposal's queue, execute or cancel, a channel's settle.</summary>
public sealed record AccountCallBody(string Id, string Account);
