using System.Text.Json.Serialization;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Host.Gateway;

/// <summary>
/// The throughput path. A batch is validated whole (one malformed operation: 400 and nothing runs).
/// <c>"atomic": false</c>: split by initiating account, each account's operations run in request order (its
/// consecutive transfers as one message and one group commit), accounts in parallel. <c>"atomic": true</c>: one
/// saga runs every operation or none.
/// </summary>
public static class BatchesApi
{
    /// <summary>As TigerBeetle: 8,190 operations per request.</summary>
    public const int OperationsMax = SagaContract.OpsMax;

    public static void MapBatches(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/batches", async (HttpRequest request, Auth auth, LedgerClient ledger) =>
        {
            var body = await RequestBody.ReadAsync(request);
            var atomic = body.Bool("atomic", false);
            var operations = body.Array("operations");
            var count = operations.GetArrayLength();
            if (count > OperationsMax) throw RequestBody.Invalid(Codes.BatchTooLarge, $"a batch holds at most {OperationsMax} operations");
            if (count == 0) throw RequestBody.Invalid(Codes.InvalidRequest, "'operations' is empty");

            var ops = new Operation[count];
            var i = 0;
            foreach (var op in operations.EnumerateArray())
            {
                ops[i] = Parse(op, i);
                if (atomic && ops[i].Transfer is { Pending: true })
                    throw RequestBody.Invalid(Codes.InvalidRequest, $"operations[{i}]: a pending transfer cannot be part of an atomic batch");
                i++;
            }
            if (atomic && SagaPlanner.BalancingCycle([.. ops.Select(o => o.Op)]))
                throw RequestBody.Invalid(Codes.InvalidRequest, "balancing transfers in an atomic batch may not pay around a cycle of accounts (a to b and b to a)");

            await auth.RequireInitiators(request.HttpContext, ops.Select(o => o.Op.Account));
            var unknownAssets = new HashSet<AssetId>();
            foreach (var asset in ops.Select(o => o.Transfer?.Asset).OfType<AssetId>().Distinct())
                if (await ledger.FindAsset(asset) is null) unknownAssets.Add(asset);
            var results = atomic ? await Atomic(ledger, ops, unknownAssets) : await Independent(ledger, ops, unknownAssets);
            return Results.Json(new BatchResultsJson(results));
        }).Accepting<BatchBody>().Produces<BatchResultsJson>().WithName("submitBatch");
    }

    /// <summary>One operation: as a saga sees it, and for a transfer the request an account decides alone.</summary>
    public sealed record Operation(SagaOp Op, TransferRequest? Transfer);

    // A batch's operation is a transfer or a swap request with its type (BatchOperationBody, for the document, is their union).
    private static readonly string[] TransferFields = [.. RequestShape.Of<TransferBody>().Fields, "type"];
    private static readonly string[] SwapFields = [.. RequestShape.Of<SwapBody>().Fields, "type"];

    /// <summary>Operation <paramref name="i"/> of a request: a version 1 transfer or swap (also a proposal's operations).</summary>
    public static Operation Parse(System.Text.Json.JsonElement op, int i)
    {
        var b = new RequestBody(op, $"operations[{i}]: ");
        return b.Text("type") switch
        {
            "transfer" => Transfer(TransfersApi.Parse(b.Allow(TransferFields))),
            "swap" => new Operation(SwapsApi.Parse(b.Allow(SwapFields)), null),
            var type => throw RequestBody.Invalid(Codes.InvalidRequest, $"operations[{i}]: operation type '{type}' is not supported"),
        };
    }

    private static Operation Transfer((AccountId From, TransferRequest Transfer) p) =>
        new(new TransferOp(p.Transfer.Id, p.From, p.Transfer.To, p.Transfer.Asset, p.Transfer.Amount, p.Transfer.UserData, p.Transfer.Balancing), p.Transfer);

    private static async Task<BatchItemJson[]> Atomic(LedgerClient ledger, Operation[] ops, HashSet<AssetId> unknownAssets)
    {
        var unknown = Array.FindIndex(ops, o => o.Transfer is { } t && unknownAssets.Contains(t.Asset));
        if (unknown >= 0) return Linked(ops, unknown, Codes.AssetNotFound);
        SagaOp[] sagaOps = [.. ops.Select(o => o.Op)];
        var saga = await ledger.Ask(new StartSaga(new SagaKey(sagaOps[0].Account, sagaOps[0].Id), sagaOps));
        if (saga.IsRejected) return Linked(ops, 0, saga.Rejection);
        return [.. saga.Reply.Results.Select((r, k) => r.Committed
            ? new BatchItemJson(r.Id.Value, "committed", null, ops[k].Op is SwapOp ? SwapsApi.Json(r.Fill!) : Committed)
            : Refused(r.Id, r.Code!))];
    }

    /// <summary>Every operation rejected: operation <paramref name="failed"/> with <paramref name="code"/>, the rest linked to it.</summary>
    private static BatchItemJson[] Linked(Operation[] ops, int failed, string code) =>
        [.. ops.Select((o, k) => Refused(o.Op.Id, k == failed ? code : Codes.LinkedOperationFailed))];

    private static readonly TransferResultJson Committed = new(false, null, null, null);

    private static async Task<BatchItemJson[]> Independent(LedgerClient ledger, Operation[] ops, HashSet<AssetId> unknownAssets)
    {
        var results = new BatchItemJson[ops.Length];
        var byAccount = new Dictionary<AccountId, List<int>>();
        for (var k = 0; k < ops.Length; k++)
        {
            if (ops[k].Transfer is { } t && unknownAssets.Contains(t.Asset))
            {
                results[k] = Refused(t.Id, Codes.AssetNotFound);
                continue;
            }
            if (!byAccount.TryGetValue(ops[k].Op.Account, out var list)) byAccount[ops[k].Op.Account] = list = [];
            list.Add(k);
        }
        await Task.WhenAll(byAccount.Select(g => RunInOrder(ledger, g.Key, g.Value, ops, results)));
        return results;
    }

    /// <summary>One account's operations in request order: consecutive transfers go as one message, swaps one at a time.</summary>
    private static async Task RunInOrder(LedgerClient ledger, AccountId account, List<int> indexes, Operation[] ops, BatchItemJson[] results)
    {
        for (var start = 0; start < indexes.Count;)
        {
            var k = indexes[start];
            if (ops[k].Op is SwapOp swap)
            {
                var (fill, code) = await SwapsApi.Run(ledger, swap);
                results[k] = fill is not null ? new BatchItemJson(swap.Id.Value, "committed", null, SwapsApi.Json(fill)) : Refused(swap.Id, code!);
                start++;
                continue;
            }
            var end = start;
            while (end < indexes.Count && ops[indexes[end]].Transfer is not null) end++;
            var run = indexes.GetRange(start, end - start);
            var r = await ledger.Ask(new SubmitTransfers(account, [.. run.Select(j => ops[j].Transfer!)]));
            for (var j = 0; j < run.Count; j++) results[run[j]] = Item(ops[run[j]].Op.Id, r.Results[j]);
            start = end;
        }
    }

    private static BatchItemJson Item(TxId id, TransferOutcome o) => o.Transaction is { } t
        ? new BatchItemJson(id.Value, Views.Status(t.Status), t.Code, Views.Result(t))
        : Refused(id, o.Code!);

    private static BatchItemJson Refused(TxId id, string code) => new(id.Value, "rejected", code, null);
}

public sealed record BatchItemJson(
    string Id,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Result);

public sealed record BatchResultsJson(BatchItemJson[] Results);

/// <summary>At most 8,190 operations; <c>atomic</c>: all commit or none does.</summary>
public sealed record BatchBody(BatchOperationBody[] Operations, bool Atomic = false);

/// <summary>
/// A batch's (or a proposal's) operation: <c>type</c> <c>"transfer"</c> with the fields of <see cref="TransferBody"/>, or
/// <c>"swap"</c> with those of <see cref="SwapBody"/>; a field of the other kind is refused. Fields left out are absent.
/// </summary>
public sealed record BatchOperationBody(
    string Type,
    string Id,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? From = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? To = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Asset = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Amount = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Pending = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? TimeoutMs = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? UserData = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Balancing = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Account = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Route = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AssetIn = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AmountIn = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? MinAmountOut = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AmountOut = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? MaxAmountIn = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Deadline = null);
