using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Hosting;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ledger.Tests.Actors;

/// <summary>
/// Balances at an instant, against the test's own ledger of what moved when: hundreds of transfers between four
/// accounts and their issuer over simulated hours, the accounts restarted from snapshots along the way, then every
/// account read at every instant a transfer happened, just before it, and between — each exactly the sum of the
/// transfers at or before that instant. No read folds more than a checkpoint's worth of rows.
/// </summary>
public class BalancesAtSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AssetId Usd = new("USD"), Eur = new("EUR");
    private static readonly string[] Holders = ["alice", "bob", "carol", "dave"];
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly EntityWorld _world;

    public BalancesAtSpecs() : base(SpecConfig.Local(), "balances-at-" + Guid.NewGuid().ToString("N")[..8])
    {
        _world = new EntityWorld(Sys, _time, new AccountSettings { SnapshotEveryEvents = 40, KeepSettled = 0 }, new PoolSettings(), new SagaSettings());
    }

    private T Ask<T>(object message) => _world.Accounts.Ask<T>(message, Wait).GetAwaiter().GetResult();

    [Fact]
    public async Task Every_account_at_every_instant_holds_exactly_what_moved_at_or_before_it_across_snapshots_and_restarts()
    {
        var moves = new List<(long At, string From, string To, AssetId Asset, ulong Amount)>();
        long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (asset, holder) in new[] { (Usd, "alice"), (Usd, "bob"), (Eur, "carol") })
        {
            _world.Mint(asset, holder, 1_000_000);
            moves.Add((Now(), "bank", holder, asset, 1_000_000));
        }
        Ask<AccountView>(new OpenAccount(new("dave"), "dave"));

        var random = new Random(24);
        var held = new Dictionary<(string, AssetId), long>
        {
            [("alice", Usd)] = 1_000_000,
            [("bob", Usd)] = 1_000_000,
            [("carol", Eur)] = 1_000_000,
        };
        var committed = 0;
        for (var i = 0; i < 300; i++)
        {
            // Several transfers share an instant now and then; most are seconds apart.
            _time.Advance(TimeSpan.FromMilliseconds(random.Next(4) == 0 ? 0 : random.Next(1, 60_000)));
            var from = Holders[random.Next(Holders.Length)];
            var to = Holders[(Array.IndexOf(Holders, from) + 1 + random.Next(Holders.Length - 1)) % Holders.Length];
            var asset = random.Next(3) == 0 ? Eur : Usd;
            var have = held.GetValueOrDefault((from, asset));
            if (have == 0) continue;
            var amount = (ulong)random.NextInt64(1, have + 1);
            var result = Ask<TransferResults>(new SubmitTransfers(new(from), [new TransferRequest(new($"t{i}"), new(to), asset, amount, false, null)]));
            Assert.Equal(TransferStatus.Committed, result.Results[0].Transaction!.Status);
            moves.Add((Now(), from, to, asset, amount));
            held[(from, asset)] = have - (long)amount;
            held[(to, asset)] = held.GetValueOrDefault((to, asset)) + (long)amount;
            committed++;
            if (i % 70 == 69)
                foreach (var h in Holders.Append("bank")) _world.Accounts.Tell(new EntityParent.Kill(h));
        }
        // Enough to cross several checkpoints on every holder, not a run of refusals.
        Assert.True(committed >= 250, $"{committed} transfers committed");

        // Bursts: four payers credit alice at once, so that her writes also start on the completion of the one before.
        for (var burst = 0; burst < 40; burst++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(random.Next(1, 60_000)));
            var sent = new List<(Task<TransferResults> Result, string From, ulong Amount)>();
            foreach (var from in new[] { "bank", "bob", "carol", "dave" })
            {
                var amount = (ulong)random.Next(1, 10);
                if (from != "bank" && held.GetValueOrDefault((from, Usd)) < (long)amount) continue;
                sent.Add((_world.Accounts.Ask<TransferResults>(new SubmitTransfers(new(from), [new TransferRequest(new($"b{burst}"), new("alice"), Usd, amount, false, null)]), Wait), from, amount));
            }
            foreach (var (result, from, amount) in sent)
            {
                Assert.Equal(TransferStatus.Committed, (await result).Results[0].Transaction!.Status);
                moves.Add((Now(), from, "alice", Usd, amount));
                if (from != "bank") held[(from, Usd)] -= (long)amount;
                held[("alice", Usd)] = held.GetValueOrDefault(("alice", Usd)) + (long)amount;
            }
        }

        var rows = new List<long>();
        var reads = CreateTestProbe();
        Sys.EventStream.Subscribe(reads.Ref, typeof(JournalReadBack));
        foreach (var h in Holders.Append("bank")) _world.Accounts.Tell(new EntityParent.Kill(h));
        var instants = moves.Select(m => m.At).Distinct().SelectMany(t => new[] { t - 1, t, t + 1 }).Prepend(Start.ToUnixTimeMilliseconds() - 60_000).ToArray();
        foreach (var at in instants)
            foreach (var holder in Holders.Append("bank"))
            {
                var expected = moves.Where(m => m.At <= at && (m.From == holder || m.To == holder))
                    .GroupBy(m => m.Asset)
                    .ToDictionary(g => g.Key, g => g.Aggregate(Int128.Zero, (sum, m) => m.To == holder ? sum + m.Amount : sum - m.Amount));
                var view = Ask<BalancesAtView>(new GetBalancesAt(new(holder), at));
                var actual = view.Balances.ToDictionary(b => b.Asset, b => b.Posted);
                foreach (var asset in new[] { Usd, Eur })
                    Assert.True(expected.GetValueOrDefault(asset) == actual.GetValueOrDefault(asset),
                        $"{holder} {asset} at {at}: expected {expected.GetValueOrDefault(asset)}, read {actual.GetValueOrDefault(asset)}");
                Assert.All(view.Balances, b => Assert.Equal(Amount.Zero, b.PendingOut));
            }
        while (reads.HasMessages) rows.Add(reads.ExpectMsg<JournalReadBack>().Rows);
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.InRange(r, 1, AccountState.BalanceCheckpointRows));
    }

    [Fact]
    public void An_unknown_account_is_refused_and_an_instant_before_the_first_change_is_empty()
    {
        Assert.Equal(Codes.AccountNotFound, Ask<Rejected>(new GetBalancesAt(new("nobody"), Start.ToUnixTimeMilliseconds())).Code);
        _time.Advance(TimeSpan.FromSeconds(5));
        _world.Mint(Usd, "erin", 10);
        Assert.Empty(Ask<BalancesAtView>(new GetBalancesAt(new("erin"), Start.ToUnixTimeMilliseconds())).Balances);
        Assert.Equal((Int128)10, Assert.Single(Ask<BalancesAtView>(new GetBalancesAt(new("erin"), _time.GetUtcNow().ToUnixTimeMilliseconds())).Balances).Posted);
    }
}
