using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>API keys (api.md, Conventions → Auth; 1.1 → Keys): issue, list and revoke; all the admin's.</summary>
public static class KeysApi
{
    /// <summary>Tries at issuing before giving up: a fresh key or id is taken only by a (vanishingly rare) collision.</summary>
    private const int IssueAttemptsMax = 3;

    public static void MapKeys(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/keys", async (HttpContext context, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(context);
            var body = await RequestBody.ReadAsync(context.Request);
            var owner = body.Id("owner");
            for (var attempt = 0; attempt < IssueAttemptsMax; attempt++)
            {
                var key = Auth.NewKey();
                if (await ledger.Ask(new IssueKey(Auth.Hash(key), owner, Auth.NewKeyId())) is { Key: { } issued })
                    return Results.Json(new IssuedKeyJson(key, issued.KeyId, owner, Views.Time(issued.CreatedAt)), statusCode: StatusCodes.Status201Created);
            }
            return Problems.Unavailable("the key store did not take a new key");
        }).Accepting<IssueKeyBody>().Produces<IssuedKeyJson>(StatusCodes.Status201Created).WithName("issueKey");

        v1.MapGet("/keys", async (HttpContext context, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(context);
            var list = await ledger.Ask(new ListKeys());
            return Results.Json(new KeyListJson([.. list.Items.Select(k => new KeyJson(k.KeyId, k.Owner, Views.Time(k.CreatedAt)))]));
        }).Produces<KeyListJson>().WithName("listKeys");

        // Revoked for good (Stripe's DELETE of an API key): a second DELETE, like one of an id never issued, is 404.
        v1.MapDelete("/keys/{key_id}", async (string key_id, HttpContext context, LedgerClient ledger) =>
        {
            Auth.RequireAdmin(context);
            var id = RequestBody.PathId(key_id, "key");
            return (await ledger.Ask(new RevokeKey(id))).Revoked ? Results.NoContent() : Problems.NotFound(Codes.KeyNotFound);
        }).Produces(StatusCodes.Status204NoContent).WithName("revokeKey");
    }
}

/// <summary>A key for the accounts of one owner.</summary>
public sealed record IssueKeyBody(string Owner);

/// <summary>The key itself, answered this once (only its hash is kept).</summary>
public sealed record IssuedKeyJson(string Key, string KeyId, string Owner, string CreatedAt);

public sealed record KeyListJson(KeyJson[] Items);

/// <summary>An issued key, never the key itself.</summary>
public sealed record KeyJson(string KeyId, string Owner, string CreatedAt);
