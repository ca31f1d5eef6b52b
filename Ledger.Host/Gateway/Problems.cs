using Ledger.Contracts.Primitives;

namespace Ledger.Host.Gateway;

/// <summary>Malformed input, found at the edge before anything reaches an actor.</summary>
/// <summary>A refusal found deep in a handler, answered as the problem it names.</summary>
public sealed class ProblemException(int status, string code, string detail) : Exception(detail)
{
    public int Status => status;
    public string Code => code;
}

public sealed class BadRequestException(string code, string detail) : Exception(detail)
{
    public string Code { get; } = code;
}

/// <summary>Errors as RFC 9457 problem details with a stable <c>code</c>.</summary>
public static class Problems
{
    public static IResult Of(int status, string code, string? detail = null) =>
        Results.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Type = "urn:ledger:problem:" + code,
            Title = Title(code),
            Status = status,
            Detail = detail ?? Title(code),
            Extensions = { ["code"] = code },
        });

    /// <summary>A refusal from the ledger: <c>409</c> for conflicts, <c>503</c> for retry-later, else <c>422</c>.</summary>
    public static IResult Rejection(string code, string? detail = null) => code switch
    {
        Codes.IdConflict or Codes.AccountExists or Codes.AssetExists => Of(StatusCodes.Status409Conflict, code, detail),
        Codes.Unavailable => Unavailable(detail ?? "the outcome is not known yet; retry with the same id"),
        _ => Of(StatusCodes.Status422UnprocessableEntity, code, detail),
    };

    /// <summary>For a <c>GET</c>: what does not exist is <c>404</c>.</summary>
    public static IResult NotFound(string code) => Of(StatusCodes.Status404NotFound, code);

    public static IResult Unavailable(string detail) => new RetryLater(Of(StatusCodes.Status503ServiceUnavailable, Codes.Unavailable, detail));

    private static string Title(string code) => code.Replace('_', ' ') switch
    {
        var t when t.Length > 0 => char.ToUpperInvariant(t[0]) + t[1..],
        _ => "Error",
    };

    /// <summary>After a 503 the outcome is unknown: the client retries with the same id.</summary>
    private sealed class RetryLater(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = "1";
            return inner.ExecuteAsync(httpContext);
        }
    }
}
