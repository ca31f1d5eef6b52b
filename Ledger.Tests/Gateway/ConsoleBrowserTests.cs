using System.Diagnostics;
using Ledger.Tests.Support;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Ledger.Tests.Gateway;

/// <summary>
/// The operator console in a real browser: headless Chromium from Debian's package (<c>.ci/run</c> installs it; another
/// one through <c>LEDGER_CHROMIUM</c>), driven by Playwright. The console loads without a key, takes one into the tab's
/// session storage (never the URL), shows the audit's verdict, follows the live feed to a transfer made through the
/// API, charts the prices of a pool's swaps and looks up an account. A screenshot goes to the test's output folder.
/// </summary>
public class ConsoleBrowserTests(HostFixture fixture, ITestOutputHelper output) : IClassFixture<HostFixture>
{
    private readonly HostProcess _host = fixture.Host;
    private readonly string _p = Guid.NewGuid().ToString("N")[..6] + "-";

    [Fact]
    public async Task The_console_takes_a_key_follows_the_feed_and_charts_a_pool()
    {
        var (usd, eur, pool) = (_p + "USD", _p + "EUR", _p + "pool");
        await _host.Seed(usd, _p + "fed", (_p + "alice", "100000"), (_p + "bob", "0"));
        await _host.Seed(eur, _p + "ecb", (_p + "alice", "100000"));
        await _host.PostUntilKnown("/v1/pools", new { id = pool, asset_a = usd, asset_b = eur, fee_bps = 30 });
        await _host.PostUntilKnown($"/v1/pools/{pool}/deposits", new { id = "d", account = _p + "alice", amount_a_desired = "50000", amount_b_desired = "50000" });
        for (var i = 0; i < 4; i++)
            await _host.PostUntilKnown("/v1/swaps", new { id = $"s{i}", account = _p + "alice", route = new[] { pool }, asset_in = i % 2 == 0 ? usd : eur, amount_in = "2000" });

        var chromium = Environment.GetEnvironmentVariable("LEDGER_CHROMIUM") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"no Chromium at {chromium}: install Debian's chromium package (.ci/run does) or set LEDGER_CHROMIUM");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 }, BaseURL = _host.Http.BaseAddress!.ToString() });
        Assert.Equal(200, (await page.GotoAsync("/console"))!.Status);
        await page.FillAsync("#key", HostProcess.AdminKey);
        await page.ClickAsync("#connect");
        await page.WaitForSelectorAsync("#audit-verdict.good", new() { Timeout = 30_000 });
        Assert.DoesNotContain(HostProcess.AdminKey, page.Url, StringComparison.Ordinal);
        Assert.Equal(HostProcess.AdminKey, await page.EvaluateAsync<string>("sessionStorage.getItem('ledger.key')"));
        Assert.Contains("ledger", await page.InnerTextAsync("#cluster"), StringComparison.Ordinal);

        // A transfer made through the API appears on the live feed.
        var sent = Stopwatch.StartNew();
        await _host.PostUntilKnown("/v1/transfers", new { id = _p + "live", from = _p + "alice", to = _p + "bob", asset = usd, amount = "7" });
        var answered = sent.ElapsedMilliseconds;
        await page.Locator("#feed li", new() { HasText = _p + "live" }).First.WaitForAsync(new() { Timeout = 15_000 });
        output.WriteLine($"on the live feed {sent.ElapsedMilliseconds - answered} ms after the transfer was answered");

        // The pool's price after each of its four swaps, drawn as a line.
        var line = page.Locator($".pool[data-pool='{pool}'] polyline");
        await line.WaitForAsync(new() { Timeout = 15_000 });
        await page.WaitForFunctionAsync($"document.querySelector(\".pool[data-pool='{pool}'] polyline\").getAttribute('points').split(' ').length >= 4",
            null, new() { Timeout = 15_000 });
        Assert.Contains(usd, await page.InnerTextAsync($".pool[data-pool='{pool}']"), StringComparison.Ordinal);

        await page.FillAsync("#account", _p + "bob");
        await page.ClickAsync("#account-form button");
        await page.Locator("#account-view", new() { HasText = _p + "live" }).WaitForAsync(new() { Timeout = 15_000 });

        var shot = Path.Combine(AppContext.BaseDirectory, "console.png");
        await page.ScreenshotAsync(new() { Path = shot });
        output.WriteLine("screenshot: " + shot);
    }
}
