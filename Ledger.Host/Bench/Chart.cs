using ScottPlot;

namespace Ledger.Host.Bench;

/// <summary>Throughput against contention (number of accounts, or of pools), log–log, as a PNG.</summary>
public static class Chart
{
    public static void Render(IReadOnlyList<BenchResult> results, string path, bool overPools = false)
    {
        var plot = new Plot();
        var xs = results.Select(r => Math.Log10(overPools ? r.Pools : r.Accounts)).ToArray();
        void Line(string label, IEnumerable<double?> ys)
        {
            var points = xs.Zip(ys, (x, y) => (X: x, Y: y)).Where(p => p.Y is > 0).Select(p => (p.X, Y: Math.Log10(p.Y!.Value))).ToArray();
            if (points.Length == 0) return;
            var s = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            s.LegendText = label;
            s.LineWidth = 2;
            s.MarkerSize = 7;
        }
        Line($"ledger (committed {(overPools ? "transactions" : "transfers")}/s)", results.Select(r => (double?)r.Tps));
        Line("platform ceiling (bare persistent actors)", results.Select(r => r.PlatformCeilingTps));
        Line("sequential baseline (contracts, 1 thread, no disk)", results.Select(r => (double?)r.SequentialBaselineTps));
        var first = results[0];
        plot.Title($"{first.Workload}, journal {first.Journal}, {first.InFlight:N0} in flight, {first.Machine.Cores} cores");
        plot.XLabel(overPools ? "pools (log scale): fewer pools = more contention" : "accounts (log scale): fewer accounts = more contention");
        plot.YLabel("transactions per second (log scale)");
        static string Power(double v) => Math.Pow(10, v).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            xs.Select(x => new Tick(x, Power(x))).ToArray());
        double[] yTicks = [1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6];
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(yTicks.Select(y => new Tick(Math.Log10(y), y.ToString("N0", System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        plot.ShowLegend(Alignment.MiddleRight);
        plot.SavePng(path, 1000, 560);
    }
}
