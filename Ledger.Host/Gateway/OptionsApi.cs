using System.Text.Json.Serialization;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Options;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>Option series (api.md 1.1, "Options"): create, mint, burn, expiry price, redeem, settle, series and positions.</summary>
public static class OptionsApi
{
    /// <summary>Each operation's path segment, and its name in the OpenAPI document (a generated client's method).</summary>
    private static readonly Dictionary<string, (OptionCallKind Kind, string OperationId)> Operations = new()
    {
        ["mint"] = (OptionCallKind.Mint, "mintOptions"),
        ["burn"] = (OptionCallKind.Burn, "burnOptions"),
        ["redeem"] = (OptionCallKind.Redeem, "redeemOptions"),
        ["settle"] = (OptionCallKind.Settle, "settleOptions"),
    };

    public static void MapOptions(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/options", async (HttpRequest request, LedgerClient ledger, TimeProvider time) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var body = await RequestBody.ReadAsync(request);
            var id = new OptionId(body.Id("id"));
            var (underlying, strikeAsset) = (new AssetId(body.Id("underlying")), new AssetId(body.Id("strike_asset")));
            var kind = body.Text("kind", 8) switch
            {
                "call" => OptionKind.Call,
                "put" => OptionKind.Put,
                _ => throw RequestBody.Invalid(Codes.InvalidRequest, "kind is \"call\" or \"put\""),
            };
            var strike = Wad(body, "strike");
            var expiry = body.WholeNumber("expiry", 0, long.MaxValue / 2, required: true)!.Value;
            if (expiry <= time.GetUtcNow().ToUnixTimeMilliseconds()) throw RequestBody.Invalid(Codes.InvalidRequest, "expiry is in the past");
            var dispute = body.WholeNumber("dispute_ms", 0, OptionContract.DisputeMsMax, required: true)!.Value;
            if (underlying == strikeAsset) throw RequestBody.Invalid(Codes.InvalidRequest, "underlying and strike_asset are the same asset");
            if (await ledger.FindAsset(underlying) is not { } u || await ledger.FindAsset(strikeAsset) is not { } k) return Problems.Rejection(Codes.AssetNotFound);
            var created = await ledger.Ask(new CreateOption(id, underlying, strikeAsset, kind, strike, expiry, dispute, u.Decimals, k.Decimals));
            if (created.IsRejected) return Problems.Rejection(created.Rejection, $"option series '{id}' exists with another definition");
            return Results.Json(Series(created.Reply), statusCode: created.Reply.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }).Accepting<CreateOptionBody>().Produces<OptionSeriesJson>(StatusCodes.Status201Created).Produces<OptionSeriesJson>().WithName("createOptionSeries");

        v1.MapGet("/options/{id}", async (string id, LedgerClient ledger) =>
            await ledger.Find(new GetOption(new OptionId(RequestBody.PathId(id, "option")))) is { } o ? Results.Json(Series(o)) : Problems.NotFound(Codes.OptionNotFound))
            .Produces<OptionSeriesJson>().WithName("getOptionSeries");

        v1.MapGet("/options/{id}/positions/{account}", async (string id, string account, HttpContext context, Auth auth, LedgerClient ledger) =>
        {
            var writer = new AccountId(RequestBody.PathId(account, "account"));
            await auth.RequireAccount(context, writer);
            return await ledger.Find(new GetOptionPosition(new OptionId(RequestBody.PathId(id, "option")), writer)) is { } p
                ? Results.Json(new OptionPositionJson(p.Written.ToString(), p.Collateral.ToString(), p.Settled))
                : Problems.NotFound(Codes.OptionNotFound);
        }).Produces<OptionPositionJson>().WithName("getOptionPosition");

        v1.MapPut("/options/{id}/expiry_price", async (string id, HttpRequest request, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(request.HttpContext);
            var body = await RequestBody.ReadAsync(request);
            var priced = await ledger.Ask(new SetExpiryPrice(new OptionId(RequestBody.PathId(id, "option")), Wad(body, "price")));
            return priced.IsRejected ? Problems.Rejection(priced.Rejection) : Results.Json(Series(priced.Reply));
        }).Accepting<PriceBody>().Produces<OptionSeriesJson>().WithName("setExpiryPrice");

        // One named path per operation, so that the OpenAPI document (and a client generated from it) names each.
        foreach (var (operation, (kind, operationId)) in Operations)
        {
            var endpoint = v1.MapPost("/options/{id}/" + operation, (string id, HttpRequest request, Auth auth, LedgerClient ledger) => Call(id, operation, request, auth, ledger))
                .Produces<TransactionJson>().WithName(operationId);
            // A writer settles its whole short: it names no amount.
            if (kind == OptionCallKind.Settle) endpoint.Accepting<AccountCallBody>();
            else endpoint.Accepting<VenueCallBody>();
        }
    }

    /// <summary>A positive decimal with up to 18 places, as WAD.</summary>
    private static Amount Wad(RequestBody body, string name) =>
        Fixed.TryParseWad(body.Text(name, 64), out var wad) && !wad.IsZero
            ? wad
            : throw RequestBody.Invalid(Codes.InvalidRequest, $"{name} is a positive decimal with at most 18 places");

    private static OptionSeriesJson Series(OptionView o) => new(o.Id.Value, o.Id.Token.Value, o.Underlying.Value, o.StrikeAsset.Value,
        o.Kind == OptionKind.Call ? "call" : "put", Fixed.FormatWad(o.Strike.Value), Views.Time(o.Expiry), o.DisputeMs, o.OpenInterest.ToString(),
        o.Collateral.ToString(), o.ExpiryPrice is { } p ? Fixed.FormatWad(p.Value) : null, o.PriceFinal);

    private static async Task<IResult> Call(string id, string operation, HttpRequest request, Auth auth, LedgerClient ledger)
    {
        var series = new OptionId(RequestBody.PathId(id, "option"));
        var kind = Operations[operation].Kind;
        var body = await RequestBody.ReadAsync(request);
        var (tx, account) = (new TxId(body.Id("id")), new AccountId(body.Id("account")));
        await auth.RequireInitiator(request.HttpContext, account);
        var amount = kind == OptionCallKind.Settle ? Amount.Zero : body.Amount("amount");
        if (await ledger.Find(new GetOption(series)) is not { } o) return Problems.Rejection(Codes.OptionNotFound);
        Leg[] @in;
        if (kind == OptionCallKind.Mint)
        {
            var collateral = OptionContract.Collateral(o.Kind, o.Strike, o.UnderlyingDecimals, o.StrikeDecimals, amount.Value);
            if (collateral > (System.Numerics.BigInteger)UInt128.MaxValue) return Problems.Rejection(Codes.SupplyOverflow);
            @in = [new Leg(o.Kind == OptionKind.Call ? o.Underlying : o.StrikeAsset, new Amount((UInt128)collateral))];
        }
        else @in = kind == OptionCallKind.Settle ? [] : [new Leg(series.Token, amount)];
        return VenuesApi.Outcome(await ledger.Ask(new CallVenue(account, tx, new OptionCall(series, kind, @in, amount))));
    }
}

/// <summary>
/// A series of European options: <c>kind</c> is <c>"call"</c> or <c>"put"</c>, <c>strike</c> the price of one whole underlying
/// in whole strike asset (a decimal), <c>expiry</c> Unix milliseconds; the expiry price may be replaced for <c>dispute_ms</c>.
/// </summary>
public sealed record CreateOptionBody(string Id, string Underlying, string StrikeAsset, string Kind, string Strike, long Expiry, long DisputeMs);

/// <summary>A series; its token is the asset <c>opt.&lt;id&gt;</c>.</summary>
public sealed record OptionSeriesJson(string Id, string Token, string Underlying, string StrikeAsset, string Kind, string Strike, string Expiry, long DisputeMs,
    string OpenInterest, string Collateral, string? ExpiryPrice, bool PriceFinal);

/// <summary>A writer's position: its short (what it has written), the collateral locked, and whether it has settled.</summary>
public sealed record OptionPositionJson([property: JsonPropertyName("short")] string Written, string Collateral, bool Settled);
