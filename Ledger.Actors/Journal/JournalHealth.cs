using System.Runtime.CompilerServices;
using Ledger.Actors.Hosting;

namespace Ledger.Actors.Journal;

/// <summary>
/// Whether this node's journal database answered its last probe: <see cref="JournalProbe"/> every <see cref="Every"/>,
/// down when a probe fails or takes longer than <see cref="ProbeTimeout"/>. While it is down, a request's asks together
/// wait no longer than <c>LedgerClient.OutageBudget</c>: an entity that must first be read back from the journal cannot
/// answer, and the client is better told 503 at once than at the request timeout.
/// </summary>
public sealed class JournalHealth : IDisposable
{
    public static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromMilliseconds(500);

    private readonly CancellationTokenSource _stop = new();
    /// <summary>Null until the first probe has answered.</summary>
    private volatile StrongBox<bool>? _down;

    private JournalHealth() { }

    public bool Down => _down?.Value == true;

    /// <summary>The last probe answered, and in time (readiness).</summary>
    public bool Up => _down?.Value == false;

    public static JournalHealth Watch(LedgerNodeOptions options)
    {
        var health = new JournalHealth();
        _ = Task.Run(() => health.Run(options));
        return health;
    }

    private async Task Run(LedgerNodeOptions options)
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(ProbeTimeout);
            var probe = Probe(options, timeout.Token);
            try
            {
                if (await Task.WhenAny(probe, Task.Delay(ProbeTimeout, stop)) != probe) _down = Marked(true);
                // A probe that hangs past its cancellation keeps the journal marked down until it returns.
                _down = Marked(!await probe);
                await Task.Delay(Every, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static readonly StrongBox<bool> IsDown = new(true), IsUp = new(false);

    private static StrongBox<bool> Marked(bool down) => down ? IsDown : IsUp;

    private static async Task<bool> Probe(LedgerNodeOptions options, CancellationToken ct)
    {
        try
        {
            return await JournalProbe.IsReachable(options, ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
