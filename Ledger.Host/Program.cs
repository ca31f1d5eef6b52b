using Akka.Actor;
using Akka.Hosting;
using Ledger.Actors.Accounts;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Primitives;
using Ledger.Host.Gateway;
using Ledger.Host.Logging;
using Prometheus;

if (args is ["bench", .. var benchArgs]) return await Ledger.Host.Bench.BenchCommand.Run(benchArgs);
if (args is ["verify", .. var verifyArgs]) return await Ledger.Host.VerifyCommand.Run(verifyArgs);
if (args is ["channel", .. var channelArgs]) return Ledger.Host.ChannelCommand.Run(channelArgs);

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls("http://127.0.0.1:5080");

var ledger = builder.Configuration.GetSection("Ledger");
// Ledger:LogFormat=json: one JSON object per line, for ASP.NET and (through AkkaSourceLogger) Akka alike.
var jsonLogs = string.Equals(ledger["LogFormat"], "json", StringComparison.OrdinalIgnoreCase);
if (jsonLogs)
{
    builder.Logging.ClearProviders();
    builder.Logging.AddJsonConsole();
}
var options = new LedgerNodeOptions
{
    DataDir = ledger["DataDir"] ?? "data",
    Journal = ledger["Journal"] ?? "sqlite",
    ConnectionString = ledger["ConnectionString"],
    Host = ledger["Cluster:Host"] ?? "127.0.0.1",
    Port = int.Parse(ledger["Cluster:Port"] ?? "0", System.Globalization.CultureInfo.InvariantCulture),
    Seeds = Split(ledger["Cluster:Seeds"]),
    Roles = Split(ledger["Cluster:Roles"]) is { Count: > 0 } roles ? roles : ["ledger", "gateway"],
    TlsCertificate = ledger["Cluster:Tls:Certificate"],
    TlsPassword = ledger["Cluster:Tls:Password"],
    TlsPeers = Split(ledger["Cluster:Tls:Peers"]),
};
var requestTimeout = TimeSpan.FromMilliseconds(ledger.GetValue("RequestTimeoutMs", 10_000));
// Ledger:DeferredFlushAfterMs: how long an account's record of an outcome may wait for another write to ride along.
var accountSettings = new AccountSettings { DeferredFlushAfter = TimeSpan.FromMilliseconds(ledger.GetValue("DeferredFlushAfterMs", 2_000)) };

// The ActorSystem starts with the host, before Kestrel, and leaves the cluster (handing its shards off) when the host stops.
builder.Services.AddLedgerNode(options, (akka, services) =>
{
    if (jsonLogs) akka.WithHostLogging();
    // Every region starts with the node: a ledger node hosts its share of the shards before the gateway serves.
    akka.WithActors((system, _) =>
    {
        var regions = services.GetRequiredService<LedgerRegions>();
        if (Akka.Cluster.Cluster.Get(system).SelfRoles.Contains(LedgerSharding.LedgerRole))
            system.ActorOf(OwingResumer.Props(options, regions.Accounts, regions.Sagas), "owing-resumer");
        // The gateway's key cache polls the key store from the start, not from the first request.
        services.GetRequiredService<Auth>();
    });
});
builder.Services.AddSingleton(services => LedgerSharding.Start(services.GetRequiredService<ActorSystem>(), options.Shards, TimeProvider.System, accountSettings));
builder.Services.AddSingleton(options);
builder.Services.AddSingleton(services => new Ledger.Actors.Feed.ChangeFeed(services.GetRequiredService<ActorSystem>()));
builder.Services.AddSingleton(TimeProvider.System);
var journalHealth = JournalHealth.Watch(options);
builder.Services.AddSingleton(journalHealth);
builder.Services.AddSingleton(services => new LedgerClient(services.GetRequiredService<LedgerRegions>(), requestTimeout, journalHealth));
var adminKey = Auth.AdminKey(ledger["AdminKey"], options.DataDir);
builder.Services.AddSingleton(services => new Auth(adminKey, services.GetRequiredService<LedgerClient>(), TimeProvider.System));
builder.Services.AddProblemDetails();
// Hostile input: a body above Ledger:MaxRequestBytes is 413; more than Ledger:RateLimitPerSecond requests a second
// from one key (a token bucket, bursts up to a second's worth) are 429 with Retry-After.
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = ledger.GetValue("MaxRequestBytes", 4L * 1024 * 1024));
builder.Services.AddRateLimiter(o => Limits.Configure(o, ledger.GetValue("RateLimitPerSecond", 20_000)));
builder.Services.AddOpenApi(OpenApiDocument.Configure);
builder.Services.AddHostedService<ShardGauges>();
builder.Services.ConfigureHttpJsonOptions(o => Views.ConfigureJson(o.SerializerOptions));

var app = builder.Build();

app.Use(async (context, next) =>
{
    LedgerClient.BeginRequest();
    try
    {
        await next(context);
    }
    catch (BadRequestException e)
    {
        await Problems.Of(StatusCodes.Status400BadRequest, e.Code, e.Message).ExecuteAsync(context);
    }
    catch (ProblemException e)
    {
        await (e.Status == StatusCodes.Status503ServiceUnavailable ? Problems.Unavailable(e.Message) : Problems.Of(e.Status, e.Code, e.Message)).ExecuteAsync(context);
    }
    catch (LedgerUnavailableException e)
    {
        await Problems.Unavailable(e.Message).ExecuteAsync(context);
    }
    catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
    {
        await Problems.Of(StatusCodes.Status413PayloadTooLarge, "request_too_large", e.Message).ExecuteAsync(context);
    }
    catch (UnauthorizedException e)
    {
        await Problems.Of(StatusCodes.Status401Unauthorized, "unauthorized", e.Message).ExecuteAsync(context);
    }
    catch (ForbiddenException e)
    {
        await Problems.Of(StatusCodes.Status403Forbidden, Codes.Forbidden, e.Message).ExecuteAsync(context);
    }
});

app.UseRateLimiter();

// Every /v1 request carries a key; who it belongs to travels with the request.
app.Use(async (context, next) =>
{
    if (context.Request.Path.StartsWithSegments("/v1"))
        context.Items[typeof(Caller)] = await context.RequestServices.GetRequiredService<Auth>().Identify(context.Request);
    await next(context);
});

app.UseHttpMetrics();
app.MapHealth();
app.MapMetrics("/metrics");
app.MapOpenApi("/openapi/{documentName}.json");
app.MapConsole();
var v1 = app.MapGroup("/v1");
v1.MapAssets();
v1.MapAccounts();
v1.MapTransfers();
v1.MapBatches();
v1.MapPools();
v1.MapSwaps();
v1.MapLending();
v1.MapFarms();
v1.MapOptions();
v1.MapPerps();
v1.MapGovernance();
v1.MapChannels();
v1.MapEvents();
v1.MapOperations();
v1.MapKeys();
v1.MapAudit();
app.MapFallback(() => Problems.NotFound(Codes.NotFound));

var dataDir = Path.GetFullPath(options.DataDir);
app.Lifetime.ApplicationStarted.Register(() =>
{
    var clusterAddress = Akka.Cluster.Cluster.Get(app.Services.GetRequiredService<ActorSystem>()).SelfAddress.ToString();
    Log.NodeStarted(app.Logger, dataDir, options.Journal, clusterAddress);
});
await app.RunAsync();
return 0;

static IReadOnlyList<string> Split(string? list) =>
    list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

public partial class Program;

internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger node: data in {DataDir}, journal {Journal}, cluster at {Address}")]
    public static partial void NodeStarted(ILogger logger, string dataDir, string journal, string address);
}
