using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ledger.Tests.Support;

/// <summary>
/// The real <c>Ledger.Host</c> executable, started as a separate process on a free port and a data
/// directory of its own. <see cref="Kill"/> is SIGKILL (kill -9): no shutdown code runs.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private Process? _process;
    private readonly List<string> _output = [];

    public HostProcess(string? dataDir = null)
    {
        DataDir = dataDir ?? Ports.TempDir("ledger-host");
        Port = Ports.Free();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = RequestTimeout };
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
    }

    /// <summary>
    /// How long a request may take before the client gives up: beyond the host's own longest answer (the audit's two
    /// minutes, <c>AuditApi.AuditTimeout</c>), so a slow answer on a loaded machine is heard rather than cut off.
    /// </summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(3);

    /// <summary>How long a host may take to start, or to stop when asked to, on a loaded machine.</summary>
    private static readonly TimeSpan StartOrStop = TimeSpan.FromSeconds(120);

    /// <summary>The operator's key every test host starts with; <see cref="Http"/> sends it unless a request says otherwise.</summary>
    public const string AdminKey = "test-admin-key-0123456789";

    public string DataDir { get; }
    public int Port { get; }
    public HttpClient Http { get; }
    public string Output { get { lock (_output) return string.Join('\n', _output); } }

    public static string HostDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ledger.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
        var dll = Path.Combine(dir.FullName, "Ledger.Host", "bin", config, "net10.0", "Ledger.Host.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("build Ledger.Host first", dll);
    }

    public async Task Start(params string[] extraArgs)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { HostDll(), "--urls", $"http://127.0.0.1:{Port}", "--Ledger:DataDir=" + DataDir, "--Ledger:AdminKey=" + AdminKey }.Concat(extraArgs))
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("host did not start");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + StartOrStop;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException("host exited at start:\n" + Output);
            try
            {
                using var r = await Http.GetAsync("/healthz/ready");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        Kill();
        throw new TimeoutException($"host not ready within {StartOrStop.TotalSeconds} s:\n" + Output);
    }

    /// <summary>kill -9.</summary>
    public void Kill()
    {
        _process?.Kill(entireProcessTree: true);
        _process?.WaitForExit();
    }

    /// <summary>SIGTERM, as a service manager stops it; waits for a graceful exit.</summary>
    public async Task Stop()
    {
        if (_process is null || _process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(StartOrStop);
        await _process.WaitForExitAsync(cts.Token);
    }

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <param name="key">Another key than the admin's (an owner's), or null.</param>
    public async Task<(int Status, JsonElement Body)> Send(HttpMethod method, string path, object? body = null, string? key = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        if (body is string raw) request.Content = new StringContent(raw, System.Text.Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return ((int)response.StatusCode, json);
    }

    public Task<(int Status, JsonElement Body)> Post(string path, object body) => Send(HttpMethod.Post, path, body);

    public Task<(int Status, JsonElement Body)> Get(string path) => Send(HttpMethod.Get, path);

    public Task<(int Status, JsonElement Body)> PostAs(string key, string path, object body) => Send(HttpMethod.Post, path, body, key);

    public Task<(int Status, JsonElement Body)> GetAs(string key, string path) => Send(HttpMethod.Get, path, null, key);

    public Task<(int Status, JsonElement Body)> Put(string path, object body) => Send(HttpMethod.Put, path, body);

    /// <summary>
    /// A GET asked again while it is answered 503 ("not known yet, retry": a read held while an account recovers, or
    /// an audit that did not finish within the host's timeout), as a client would, for up to a minute.
    /// </summary>
    public async Task<(int Status, JsonElement Body)> GetUntilKnown(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var answer = await Get(path);
            if (answer.Status != 503 || DateTime.UtcNow > deadline) return answer;
            await Task.Delay(250);
        }
    }

    /// <summary>An account's balance of one asset (<c>posted</c>, <c>pending_out</c>, …), or default if never touched.</summary>
    public async Task<JsonElement> Balance(string account, string asset)
    {
        var (status, body) = await GetUntilKnown("/v1/accounts/" + account);
        if (status != 200) throw new InvalidOperationException($"GET account {account}: {status}");
        return body.GetProperty("balances").TryGetProperty(asset, out var b) ? b : default;
    }

    /// <summary>
    /// Creates an asset and accounts, and mints to each account its amount (a transfer from the issuer). Each request is
    /// asked again with the same id while the node answers 503 (a loaded machine can exceed a short request timeout), and
    /// must then succeed: a load that starts on an account whose funding is still unknown would fail for the wrong reason.
    /// </summary>
    public async Task Seed(string asset, string issuer, params (string Account, string Amount)[] holdings)
    {
        await PostUntilKnown("/v1/assets", new { id = asset, decimals = 2, issuer });
        foreach (var (account, amount) in holdings)
        {
            await PostUntilKnown("/v1/accounts", new { id = account, owner = account });
            if (amount == "0") continue;
            var (_, mint) = await PostUntilKnown("/v1/transfers", new { id = "mint-" + account, from = issuer, to = account, asset, amount });
            Assert.Equal("committed", mint.GetProperty("status").GetString());
        }
    }

    /// <summary>The change feed's items after <paramref name="after"/> to its end, in pages of <paramref name="limit"/>, as the admin (or <paramref name="key"/>) sees them.</summary>
    public async Task<List<JsonElement>> ReadFeed(string? after, int limit, string? key = null)
    {
        var items = new List<JsonElement>();
        while (true)
        {
            var path = $"/v1/events?limit={limit}" + (after is null ? "" : "&after=" + after);
            var (status, body) = key is null ? await Get(path) : await GetAs(key, path);
            Assert.Equal(200, status);
            var page = body.GetProperty("items").EnumerateArray().ToList();
            items.AddRange(page);
            after = body.GetProperty("next").GetString();
            if (page.Count < limit) return items;
        }
    }

    /// <summary>
    /// The admin's whole change feed (its transactions), read until <paramref name="complete"/> holds of it — the feed is a
    /// moment behind the journal — for up to 20 seconds.
    /// </summary>
    public async Task<List<JsonElement>> FeedUntil(Func<List<JsonElement>, bool> complete)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var items = (await ReadFeed(null, 1_000)).Select(i => i.GetProperty("transaction")).ToList();
            if (complete(items)) return items;
            Assert.True(DateTime.UtcNow < deadline, "the feed never held what was expected: " + string.Join("\n", items.TakeLast(40)));
            await Task.Delay(100);
        }
    }

    /// <summary>A POST asked again with the same body while it is answered 503, for up to a minute; it must then succeed.</summary>
    public async Task<(int Status, JsonElement Body)> PostUntilKnown(string path, object body)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var answer = await Post(path, body);
            if (answer.Status != 503 || DateTime.UtcNow > deadline)
            {
                Assert.True(answer.Status is >= 200 and < 300, $"POST {path}: {answer.Status} {answer.Body}");
                return answer;
            }
            await Task.Delay(250);
        }
    }

    /// <summary><c>GET /v1/audit/supply</c>: every asset sums to zero with nothing left in flight.</summary>
    public async Task AssertBalanced()
    {
        var (status, body) = await GetUntilKnown("/v1/audit/supply");
        Assert.Equal(200, status);
        foreach (var asset in body.GetProperty("assets").EnumerateObject())
            Assert.Equal((asset.Name, "0", "0"), (asset.Name, asset.Value.GetProperty("sum").GetString(), asset.Value.GetProperty("in_flight").GetString()));
    }

    /// <summary><c>Ledger.Host verify --data DIR</c>: the offline audit of a stopped node's journal.</summary>
    public static async Task<(int Exit, string Output)> Verify(string dataDir, params string[] options)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { HostDll(), "verify", "--data", dataDir }.Concat(options)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (p.ExitCode, await output + await error);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false }) Kill();
        _process?.Dispose();
        Http.Dispose();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
