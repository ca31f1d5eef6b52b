namespace Ledger.Host.Gateway;

/// <summary>
/// <c>GET /console</c>: the operator console, three static files next to the program, which speak only to the public
/// API with a key the operator types (kept in the tab's session storage). No key is needed to load them.
/// </summary>
public static class ConsoleApi
{
    private static readonly Dictionary<string, string> Files = new(StringComparer.Ordinal)
    {
        ["console.js"] = "text/javascript; charset=utf-8",
        ["console.css"] = "text/css; charset=utf-8",
    };

    public static void MapConsole(this IEndpointRouteBuilder app)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Console");
        app.MapGet("/console", () => Results.File(Path.Combine(folder, "index.html"), "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/console/{file}", (string file) =>
            Files.TryGetValue(file, out var type) ? Results.File(Path.Combine(folder, file), type) : Results.NotFound()).ExcludeFromDescription();
    }
}
