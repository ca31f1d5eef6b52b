using System.Text.Json;

namespace Ledger.Tests.Support;

/// <summary>What a request answered, as the tests compare it: the status and the problem's <c>code</c> (null if none).</summary>
public static class Problem
{
    public static async Task<(int Status, string? Code)> Code(Task<(int Status, JsonElement Body)> request)
    {
        var (status, body) = await request;
        return (status, body.ValueKind == JsonValueKind.Object && body.TryGetProperty("code", out var c) ? c.GetString() : null);
    }
}
