using System.Numerics;
using Akka.Actor;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Ledger.Actors.Accounts;
using Ledger.Actors.Hosting;
using Ledger.Actors.Journal;
using Ledger.Actors.Pools;
using Ledger.Actors.Venues;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Farms;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Options;
using Ledger.Contracts.Perps;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Host;

/// <summary>
/// <c>Ledger.Host verify --data DIR</c> (or <c>--pg CONNSTRING</c>): the operator's audit, offline. Replays every
/// account, pool, market and farm from the whole journal through the same contracts the nodes run — no cluster is
/// started — and reports per asset the sum of all holdings (zero, by conservation), every negative balance of an
/// account that is not the asset's issuer, and every reservation or saga hold past its expiry. Value that one
/// entity has sent and the other has durably received, but whose acknowledgement the sender had not yet written when
/// it stopped, is counted once. Exit status 1 on any violation. Sagas between their decision and their last
/// participant are not reconciled: run it on a journal whose nodes have stopped after finishing their work.
/// With <c>--settled</c>, value still on its way is a violation too: a transfer not landed at its payee (or refused there
/// and not yet given back), a venue call whose answer the trader has not recorded — what a node must finish by itself
/// after a crash.
/// </summary>
public static class VerifyCommand
{
    public static async Task<int> Run(string[] args)
    {
        string? dataDir = null, pg = null;
        var settled = args.Contains("--settled");
        args = [.. args.Where(a => a != "--settled")];
        for (var i = 0; i + 1 < args.Length; i += 2)
            (dataDir, pg) = args[i] switch
            {
                "--data" => (args[i + 1], pg),
                "--pg" => (dataDir, args[i + 1]),
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        if (dataDir is null == (pg is null))
        {
            await Console.Error.WriteLineAsync("usage: Ledger.Host verify --data DIR | --pg CONNSTRING [--settled]");
            return 2;
        }
        var options = new LedgerNodeOptions
        {
            SystemName = "verify",
            DataDir = dataDir ?? ".",
            Journal = pg is null ? "sqlite" : "postgres",
            ConnectionString = pg,
            ExtraHocon = "akka.actor.provider = local\nakka.loglevel = WARNING\nakka.persistence.journal.sql.auto-initialize = off",
        };
        if (pg is null && !File.Exists(Path.Combine(dataDir!, "ledger.db")))
        {
            await Console.Error.WriteLineAsync($"no journal at {Path.Combine(dataDir!, "ledger.db")}");
            return 2;
        }
        // The system only deserializes; rows are read as a recovering entity reads its own (JournalReader).
        using var system = ActorSystem.Create("verify", LedgerNode.BuildConfig(options));
        var config = new JournalConfig(LedgerJournal.Section(system)!.WithFallback(SqlPersistence.DefaultJournalConfiguration));
        var reader = JournalReader.For(config);
        var pids = new List<string>();
        await reader.PersistenceIds(pids.Add, CancellationToken.None);
        var world = new World();
        foreach (var pid in pids.Where(World.Accepts).Order(StringComparer.Ordinal))
            await reader.Replay(pid, 0, long.MaxValue, long.MaxValue, row =>
                world.Apply(pid, JournalReader.Deserialize(system.Serialization, row.Payload, row.SerializerId, row.Manifest, config.DefaultSerializer)), CancellationToken.None);
        var violations = world.Check(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), settled);
        Console.WriteLine($"verify: {world.Accounts.Count:N0} accounts, {world.Pools.Count:N0} pools, {world.Markets.Count:N0} markets, {world.Farms.Count:N0} farms, {world.Options.Count:N0} option series, {world.Perps.Count:N0} perps, {world.Channels.Count:N0} channels replayed");
        foreach (var (asset, sum) in world.Sums.OrderBy(kv => kv.Key.Value, StringComparer.Ordinal))
            Console.WriteLine($"  {asset.Value}: sum {sum}");
        foreach (var v in violations) Console.WriteLine("VIOLATION " + v);
        Console.WriteLine(violations.Count == 0 ? "verify: ok" : $"verify: {violations.Count} violation(s)");
        return violations.Count == 0 ? 0 : 1;
    }

    /// <summary>Every entity's state, folded from the journal.</summary>
    private sealed class World
    {
        public Dictionary<AccountId, AccountState> Accounts { get; } = [];
        public Dictionary<PoolId, PoolState> Pools { get; } = [];
        public Dictionary<MarketId, MarketState> Markets { get; } = [];
        public Dictionary<FarmId, FarmState> Farms { get; } = [];
        public Dictionary<OptionId, OptionState> Options { get; } = [];
        public Dictionary<PerpId, PerpState> Perps { get; } = [];
        public Dictionary<ChannelId, ChannelState> Channels { get; } = [];
        public Dictionary<AssetId, BigInteger> Sums { get; } = [];

        public static bool Accepts(string pid) => pid.StartsWith("account-", StringComparison.Ordinal) || pid.StartsWith("pool-", StringComparison.Ordinal)
            || pid.StartsWith("market-", StringComparison.Ordinal) || pid.StartsWith("farm-", StringComparison.Ordinal)
            || pid.StartsWith("option-", StringComparison.Ordinal) || pid.StartsWith("perp-", StringComparison.Ordinal)
            || pid.StartsWith("channel-", StringComparison.Ordinal);

        public void Apply(string pid, object e)
        {
            var id = pid[(pid.IndexOf('-', StringComparison.Ordinal) + 1)..];
            switch (e)
            {
                case AccountWrite w:
                    foreach (var x in w.Events)
                    {
                        var account = Account(id);
                        if (x is BalancesRecorded r) CheckRecorded(account, r);
                        AccountContract.Apply(account, x);
                    }
                    break;
                case IAccountEvent x:
                    AccountContract.Apply(Account(id), x);
                    break;
                case PoolWrite w:
                    foreach (var x in w.Events) PoolContract.Apply(Pool(id), x);
                    break;
                case MarketWrite w:
                    foreach (var x in w.Events) MarketContract.Apply(Market(id), x);
                    break;
                case FarmWrite w:
                    foreach (var x in w.Events) FarmContract.Apply(Farm(id), x);
                    break;
                case OptionWrite w:
                    foreach (var x in w.Events) OptionContract.Apply(Get(Options, new OptionId(id), k => new OptionState { Id = k }), x);
                    break;
                case PerpWrite w:
                    foreach (var x in w.Events) PerpContract.Apply(Get(Perps, new PerpId(id), k => new PerpState { Id = k }), x);
                    break;
                case ChannelWrite w:
                    foreach (var x in w.Events) ChannelContract.Apply(Get(Channels, new ChannelId(id), k => new ChannelState { Id = k }), x);
                    break;
            }
        }

        /// <summary>Records of the balances (what <c>balances?at=</c> reads) that differ from the fold of the events before them.</summary>
        private readonly List<string> _misrecorded = [];

        private void CheckRecorded(AccountState account, BalancesRecorded r)
        {
            foreach (var b in r.Balances)
            {
                var held = account.Balances.GetValueOrDefault(b.Asset) ?? new Balance();
                if ((held.Posted, held.PendingOut, held.PendingIn) != (b.Posted, b.PendingOut, b.PendingIn))
                    _misrecorded.Add($"account {account.Id}: the balance of {b.Asset} recorded at {r.At} is {b.Posted}, its events make {held.Posted}");
            }
            if (r.Full && r.Balances.Length != account.Balances.Count)
                _misrecorded.Add($"account {account.Id}: the checkpoint at {r.At} holds {r.Balances.Length} balances of {account.Balances.Count}");
        }

        private AccountState Account(string id) => Get(Accounts, new AccountId(id), k => new AccountState { Id = k, HistoryKeep = 1 });
        private PoolState Pool(string id) => Get(Pools, new PoolId(id), k => new PoolState { Id = k });
        private MarketState Market(string id) => Get(Markets, new MarketId(id), k => new MarketState { Id = k });
        private FarmState Farm(string id) => Get(Farms, new FarmId(id), k => new FarmState { Id = k });

        private static TState Get<TKey, TState>(Dictionary<TKey, TState> all, TKey key, Func<TKey, TState> create) where TKey : notnull
        {
            if (!all.TryGetValue(key, out var s)) all[key] = s = create(key);
            return s;
        }

        private void Add(AssetId asset, BigInteger amount) => Sums[asset] = Sums.GetValueOrDefault(asset) + amount;

        public List<string> Check(long now, bool settled)
        {
            var violations = new List<string>(_misrecorded);
            foreach (var a in Accounts.Values)
            {
                foreach (var (asset, b) in a.Balances)
                {
                    Add(asset, (BigInteger)b.Posted);
                    if (!a.IssuerOf.Contains(asset) && (b.Posted < 0 || b.Available < 0))
                        violations.Add($"account {a.Id}: {asset} posted {b.Posted}, available {b.Available} (not its issuer)");
                }
                foreach (var (expiresAt, id) in a.Deadlines)
                    if (expiresAt < now && a.Outgoing.TryGetValue(new TxId(id), out var t) && t.Status == TransferStatus.Pending)
                        violations.Add($"account {a.Id}: reservation {id} past its expiry ({Gateway.Views.Time(expiresAt)})");
                foreach (var hold in a.Holds.Values)
                    if (hold.ExpiresAt < now) violations.Add($"account {a.Id}: saga {hold.Key} still held past its expiry");
                foreach (var (t, step, asset, amount) in a.Unconfirmed())
                    if (t.Call is null && t.Venue is null && !Landed(a, t, step))
                    {
                        Add(asset, amount.Value);
                        if (settled) violations.Add($"account {a.Id}: transfer {t.Id} step {step} still on its way to {t.To}");
                    }
                foreach (var t in a.Outgoing.Values.Where(t => (t.Call is not null || t.Venue is not null) && t.Status == TransferStatus.InFlight))
                {
                    // Decided by the venue: it has the inputs and owes the answer's legs; undecided: the inputs are on their way.
                    foreach (var leg in AnswerOf(a.Id, t)?.Out ?? t.Call?.In ?? t.Venue!.In) Add(leg.Asset, leg.Amount.Value);
                    if (settled) violations.Add($"account {a.Id}: call {t.Id} not yet answered on the account");
                }
            }
            foreach (var p in Pools.Values)
            {
                foreach (var h in PoolContract.Holdings(p, withOwed: false)) Add(h.Asset, (BigInteger)h.Held);
                // A route batch's hops still owed to another pool count here until that pool has applied them (its unlock's tombstone).
                foreach (var (batch, pool, hop) in PoolContract.RouteHopsOwed(p))
                    if (Pools.GetValueOrDefault(pool)?.Answers.Find(batch.Account, batch.Id, out _) is not (Known.Resident or Known.Evicted))
                    {
                        Add(hop.AssetIn, hop.AmountIn.Value);
                        Add(hop.AssetOut, -(BigInteger)hop.AmountOut.Value);
                        if (settled) violations.Add($"pool {p.Id}: route batch {batch} still owes {pool} its hops");
                    }
            }
            foreach (var m in Markets.Values.Where(m => m.Exists))
            {
                Add(m.LoanAsset, (BigInteger)m.Cash.Value);
                Add(m.CollateralAsset, (BigInteger)m.CollateralHeld.Value);
            }
            foreach (var f in Farms.Values.Where(f => f.Exists))
            {
                Add(f.StakeAsset, (BigInteger)f.TotalStaked.Value);
                Add(f.RewardAsset, (BigInteger)f.RewardHeld.Value);
            }
            foreach (var o in Options.Values.Where(o => o.Exists))
            {
                foreach (var h in OptionContract.Holdings(o)) Add(h.Asset, (BigInteger)h.Held);
                // What the series still owes: every unsettled writer's collateral before the price is final; after it, the
                // payout of the tokens outstanding and what unsettled writers get back. The rest is rounding dust.
                var claims = o.ExpiryPrice is not { } price
                    ? o.Writers.Values.Aggregate(BigInteger.Zero, (sum, w) => sum + w.Collateral.Value)
                    : OptionContract.Payout(o, o.Outstanding.Value, price.Value, roundUp: false) + o.Writers.Values.Where(w => !w.Settled)
                        .Aggregate(BigInteger.Zero, (sum, w) => sum + w.Collateral.Value - OptionContract.Payout(o, w.Written.Value, price.Value, roundUp: true));
                var dust = (BigInteger)o.CollateralHeld.Value - claims;
                if (dust < 0) violations.Add($"option {o.Id}: holds {o.CollateralHeld} {o.CollateralAsset}, owes {claims}");
                else if (dust > 0) Console.WriteLine($"  option {o.Id}: {dust} {o.CollateralAsset} of rounding dust held");
            }
            foreach (var perp in Perps.Values)
            {
                foreach (var h in PerpContract.Holdings(perp)) Add(h.Asset, (BigInteger)h.Held);
                if (perp.Vault.Sign < 0) violations.Add($"perp {perp.Id}: vault {perp.Vault}");
            }
            foreach (var c in Channels.Values.Where(c => c.Exists))
            {
                Add(c.Asset, (BigInteger)c.Held.Value);
                if (c.Status == ChannelStatus.Settled && (BigInteger)c.SettleA.Value + c.SettleB.Value != (BigInteger)c.DepositA.Value + c.DepositB.Value)
                    violations.Add($"channel {c.Id}: settled {c.SettleA} + {c.SettleB}, deposits {c.DepositA} + {c.DepositB}");
            }
            foreach (var (asset, sum) in Sums)
                if (!sum.IsZero) violations.Add($"asset {asset}: holdings sum to {sum}, not zero");
            return violations;
        }

        /// <summary>The venue's recorded answer to an account's call, if it decided it.</summary>
        private CallAnswer? AnswerOf(AccountId account, Transfer t) => t.Call is { } call ? Pools.GetValueOrDefault(call.Pool)?.Answers.GetValueOrDefault((account, t.Id))
            : t.Venue is MarketCall m ? Markets.GetValueOrDefault(m.Market)?.Answers.GetValueOrDefault((account, t.Id))
            : t.Venue is FarmCall f ? Farms.GetValueOrDefault(f.Farm)?.Answers.GetValueOrDefault((account, t.Id))
            : t.Venue is OptionCall o ? Options.GetValueOrDefault(o.Series)?.Answers.GetValueOrDefault((account, t.Id))
            : t.Venue is PerpCall pc ? Perps.GetValueOrDefault(pc.Perp)?.Answers.GetValueOrDefault((account, t.Id))
            : t.Venue is ChannelCall ch ? Channels.GetValueOrDefault(ch.Channel)?.Answers.GetValueOrDefault((account, t.Id))
            : null;

        /// <summary>
        /// Whether the payee durably has a delivery step the payer has not yet seen acknowledged (the acknowledgement
        /// was not yet written when the payer stopped): then the value is counted where it landed, not in flight.
        /// </summary>
        private bool Landed(AccountState payer, Transfer t, int step)
        {
            var received = Accounts.GetValueOrDefault(t.To)?.Incoming.GetValueOrDefault((payer.Id, t.Id));
            return step == 1 ? received is { Status: not TransferStatus.Rejected } : received is { Status: not TransferStatus.Pending };
        }
    }
}
