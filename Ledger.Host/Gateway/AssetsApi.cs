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
            var body = (await RequestBody.ReadAsync(request)).Allow("id", "decimals", "issuer");
            var id = new AssetId(body.Id("id"));
            var decimals = (int)body.WholeNumber("decimals", 0, AssetContract.MaxDecimals, required: true)!.Value;
            var issuer = new AccountId(body.Id("issuer"));
            return await ledger.AskAsset(new CreateAsset(id, decimals, issuer)) switch
            {
                AssetView a => Results.Json(Views.Asset(a, await IssuerPosted(ledger, a)),
                    statusCode: a.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK),
                Rejected r => Problems.Rejection(r.Code, $"asset '{id}' exists with another definition"),
                var other => AccountsApi.Unexpected(other),
            };
        });

        v1.MapGet("/assets/{id}", async (string id, LedgerClient ledger) =>
            await ledger.FindAsset(new AssetId(RequestBody.PathId(id, "asset"))) is { } a
                ? Results.Json(Views.Asset(a, await IssuerPosted(ledger, a)))
                : Problems.NotFound(Codes.AssetNotFound));
    }

    /// <summary>Supply is minus the issuer's posted balance: minting is a transfer from the issuer.</summary>
    private static async Task<Int128> IssuerPosted(LedgerClient ledger, AssetView asset) =>
        await ledger.AskAccount(new GetAccount(asset.Issuer)) is AccountView issuer
            ? issuer.Balances.FirstOrDefault(b => b.Asset == asset.Id)?.Posted ?? 0
            : 0;
}
