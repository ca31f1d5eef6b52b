namespace Ledger.Host.Bench;

/// <summary>
/// Who pays whom: uniform over the accounts, or Zipf-distributed (s = 1.1) so that a few accounts are hot.
/// Deterministic for a seed, so every phase of a run replays the same kind of traffic.
/// </summary>
public sealed class Workload
{
    public const double ZipfExponent = 1.1;

    private readonly int _accounts;
    private readonly double[]? _cdf;

    public Workload(string name, int accounts)
    {
        _accounts = accounts;
        if (name != "transfers-zipf") return;
        _cdf = new double[accounts];
        double sum = 0;
        for (var k = 0; k < accounts; k++) _cdf[k] = sum += 1 / Math.Pow(k + 1, ZipfExponent);
        for (var k = 0; k < accounts; k++) _cdf[k] /= sum;
    }

    public (int From, int To) Next(Random random)
    {
        var from = Pick(random);
        int to;
        do to = Pick(random); while (to == from);
        return (from, to);
    }

    private int Pick(Random random)
    {
        if (_cdf is null) return random.Next(_accounts);
        var i = Array.BinarySearch(_cdf, random.NextDouble());
        return Math.Min(i < 0 ? ~i : i, _accounts - 1);
    }
}
