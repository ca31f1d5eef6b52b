using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>
/// The throughput path. A batch is validated whole (one malformed operation: 400 and nothing runs), then
/// split by initiating account: each payer receives one message with all its operations, in request order,
/// and decides them in one group commit.
/// </summary>
public static class BatchesApi
{
    /// <summary>As TigerBeetle: 8,190 operations per request.</summary>
    public const int OperationsMax = 8_190;

    public static void MapBatches(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/batches", async (HttpRequest request, LedgerClient ledger) =>
        {
            var body = (await RequestBody.ReadAsync(request)).Allow("atomic", "operations");
            var atomic = body.Bool("atomic", false);
            var operations = body.Array("operations");
            var count = operations.GetArrayLength();
            if (count > OperationsMax) throw RequestBody.Invalid(Codes.BatchTooLarge, $"a batch holds at most {OperationsMax} operations");
            if (count == 0) throw RequestBody.Invalid(Codes.InvalidRequest, "'operations' is empty");

            var parsed = new (AccountId From, TransferRequest Transfer)[count];
            var i = 0;
            foreach (var op in operations.EnumerateArray())
            {
                var b = new RequestBody(op, $"operations[{i}]: ");
                var type = b.Text("type");
                if (type != "transfer") throw RequestBody.Invalid(Codes.InvalidRequest, $"operations[{i}]: operation type '{type}' is not supported");
                parsed[i++] = TransfersApi.Parse(b.Allow([.. TransfersApi.Fields, "type"]));
            }
            if (atomic)
                return Problems.Of(StatusCodes.Status501NotImplemented, Codes.NotImplemented, "atomic batches arrive with the saga coordinator; send \"atomic\": false");

            var results = new BatchItemJson[count];
            var groups = new Dictionary<AccountId, List<int>>();
            var unknownAssets = new HashSet<AssetId>();
            foreach (var asset in parsed.Select(p => p.Transfer.Asset).Distinct())
                if (await ledger.FindAsset(asset) is null) unknownAssets.Add(asset);
            for (var k = 0; k < count; k++)
            {
                if (unknownAssets.Contains(parsed[k].Transfer.Asset))
                {
                    results[k] = Refused(parsed[k].Transfer.Id, Codes.AssetNotFound);
                    continue;
                }
                if (!groups.TryGetValue(parsed[k].From, out var list)) groups[parsed[k].From] = list = [];
                list.Add(k);
            }
            await Task.WhenAll(groups.Select(async g =>
            {
                var reply = await ledger.AskAccount(new SubmitTransfers(g.Key, g.Value.Select(k => parsed[k].Transfer).ToArray()));
                if (reply is not TransferResults r) throw new InvalidOperationException($"unexpected reply {reply.GetType().Name}");
                for (var j = 0; j < g.Value.Count; j++) results[g.Value[j]] = Item(parsed[g.Value[j]].Transfer.Id, r.Results[j]);
            }));
            return Results.Json(new { results });
        });
    }

    private static BatchItemJson Item(TxId id, TransferOutcome o) => o.Transaction is { } t
        ? new BatchItemJson(id.Value, Views.Status(t.Status), t.Code, Views.Result(t))
        : Refused(id, o.Code!);

    private static BatchItemJson Refused(TxId id, string code) => new(id.Value, "rejected", code, null);
}

public sealed record BatchItemJson(
    string Id,
    string Status,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Code,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] TransferResultJson? Result);
