using Ledger.Contracts.Assets;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

public static class AssetsApi
{
    public static void MapAssets(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/assets", async (HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var body = await RequestBody.ReadAsync(request);
            var id = new AssetId(body.Id("id"));
            var decimals = (int)body.WholeNumber("decimals", 0, AssetContract.MaxDecimals, required: true)!.Value;
            var issuer = new AccountId(body.Id("issuer"));
            if (id.Value.StartsWith(PoolId.SharePrefix, StringComparison.Ordinal))
                throw RequestBody.Invalid(Codes.InvalidId, $"asset ids starting '{PoolId.SharePrefix}' are the shares of pools");
            if (id.Value.StartsWith(OptionId.TokenPrefix, StringComparison.Ordinal))
                throw RequestBody.Invalid(Codes.InvalidId, $"asset ids starting '{OptionId.TokenPrefix}' are the tokens of option series");
            if (id.Value.StartsWith(GovernorId.TreasuryPrefix, StringComparison.Ordinal) || issuer.Value.StartsWith(GovernorId.TreasuryPrefix, StringComparison.Ordinal))
                throw RequestBody.Invalid(Codes.InvalidId, $"ids starting '{GovernorId.TreasuryPrefix}' are the governors' treasuries");
            var created = await ledger.Ask(new CreateAsset(id, decimals, issuer));
            if (created.IsRejected) return Problems.Rejection(created.Rejection, $"asset '{id}' exists with another definition");
            var a = created.Reply;
            return Results.Json(Views.Asset(a, await IssuerPosted(ledger, a)), statusCode: a.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }).Accepting<CreateAssetBody>().Produces<AssetJson>(StatusCodes.Status201Created).Produces<AssetJson>().WithName("createAsset");

        v1.MapGet("/assets/{id}", async (string id, LedgerClient ledger) =>
            await ledger.FindAsset(new AssetId(RequestBody.PathId(id, "asset"))) is { } a
                ? Results.Json(Views.Asset(a, await IssuerPosted(ledger, a)))
                : Problems.NotFound(Codes.AssetNotFound)).Produces<AssetJson>().WithName("getAsset");
    }

    /// <summary>
    /// Supply is minus the issuer's posted balance: minting is a transfer from the issuer. A pool's shares are
    /// issued by the pool: their supply is the shares accounts hold (the locked minimum belongs to no one).
    /// </summary>
    private static async Task<Int128> IssuerPosted(LedgerClient ledger, AssetView asset)
    {
        if (asset.Id.Value.StartsWith(PoolId.SharePrefix, StringComparison.Ordinal))
            return await ledger.Find(new GetPool(new PoolId(asset.Id.Value[PoolId.SharePrefix.Length..]))) is { } pool
                ? -(Int128)(pool.TotalShares - pool.LockedShares).Value
                : 0;
        if (asset.Id.Value.StartsWith(OptionId.TokenPrefix, StringComparison.Ordinal))
            return await ledger.Find(new GetOption(new OptionId(asset.Id.Value[OptionId.TokenPrefix.Length..]))) is { } series
                ? -(Int128)series.OpenInterest.Value
                : 0;
        return await ledger.Find(new GetAccount(asset.Issuer)) is { } issuer
            ? issuer.Balances.FirstOrDefault(b => b.Asset == asset.Id)?.Posted ?? 0
            : 0;
    }
}

/// <summary>A new asset: <c>decimals</c> 0–38; the issuer account is created if missing.</summary>
public sealed record CreateAssetBody(string Id, int Decimals, string Issuer);
