using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Ledger.Host.Gateway;

/// <summary>
/// Rate limiting per key: every <c>/v1</c> request spends a token from its key's bucket (bucket size and refill both
/// <c>Ledger:RateLimitPerSecond</c>, refilled every 100 ms); an empty bucket answers <c>429 rate_limited</c> with
/// <c>Retry-After</c> and does nothing. A batch is one request, so clients that need speed batch. Health, metrics and
/// the OpenAPI document are not limited.
/// </summary>
public static class Limits
{
    public static void Configure(RateLimiterOptions o, int perSecond)
    {
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            context.Request.Path.StartsWithSegments("/v1")
                ? RateLimitPartition.GetTokenBucketLimiter(Auth.Hash(context.Request.Headers.Authorization.ToString()), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = perSecond,
                    TokensPerPeriod = Math.Max(1, perSecond / 10),
                    ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                })
                : RateLimitPartition.GetNoLimiter("operations"));
        o.OnRejected = async (rejected, cancel) =>
        {
            rejected.HttpContext.Response.Headers.RetryAfter = "1";
            await Problems.Of(StatusCodes.Status429TooManyRequests, "rate_limited", "too many requests for this key; retry after a second")
                .ExecuteAsync(rejected.HttpContext);
        };
    }
}
