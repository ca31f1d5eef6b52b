using Akka.Actor;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Governance;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;

namespace Ledger.Host.Bench;

/// <summary>
/// The <c>votes</c> workload: one governor over BENCH, which every account holds, and proposals voted one after another
/// by all the accounts at once — the governor is the hot key. Each vote is what the gateway does for one: the voter's
/// balance at the snapshot read from its account, then the vote (the quorum is read once a proposal).
/// </summary>
public static class VotePhases
{
    private static readonly GovernorId Governor = new("bench-gov");
    private const int Proposals = 100;

    public static async Task<(LoadResult Load, bool ConservationOk)> Ledger(BenchOptions o, LedgerRegions regions)
    {
        var token = new AssetId(Phases.Asset);
        await Phases.Fund(regions, o.Accounts, Phases.Asset);
        await regions.Accounts.Ask<object>(new OpenAccount(Governor.Treasury, Governor.Treasury.Value), Phases.AskTimeout);
        await regions.Governors.Ask<object>(new CreateGovernor(Governor, new GovernorParameters(token, 1, 3_600_000, Amount.Zero, 400, 0, 3_600_000)),
            Phases.AskTimeout);
        var snapshots = new long[Proposals];
        var quorums = new Amount[Proposals];
        for (var k = 0; k < Proposals; k++)
        {
            SagaOp[] grant = [new TransferOp(new("g"), Governor.Treasury, new(Phases.Issuer), token, new Amount(1))];
            var view = await regions.Governors.Ask<ProposalView>(new Propose(Governor, new(Phases.AccountId(0)), new($"p{k}"), "", grant, Amount.Zero),
                Phases.AskTimeout);
            snapshots[k] = view.Snapshot;
        }
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() <= snapshots[^1]) await Task.Delay(5);
        for (var k = 0; k < Proposals; k++)
        {
            var issuer = await regions.Accounts.Ask<BalancesAtView>(new GetBalancesAt(new(Phases.Issuer), snapshots[k]), Phases.AskTimeout);
            quorums[k] = GovernorContract.Quorum(new GovernorParameters(token, 0, 0, Amount.Zero, 400, 0, 0),
                issuer.Balances.FirstOrDefault(b => b.Asset == token)?.Posted ?? 0);
        }

        var ids = Enumerable.Range(0, o.Accounts).Select(i => new AccountId(Phases.AccountId(i))).ToArray();
        long seq = -1;
        var load = await LoadRunner.Run("ledger", o.InFlight, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.Seconds), async random =>
        {
            // Every account votes once on a proposal before the next one's turn.
            var n = Interlocked.Increment(ref seq);
            var (voter, k) = (ids[n % ids.Length], (int)(n / ids.Length % Proposals));
            var balances = await regions.Accounts.Ask<BalancesAtView>(new GetBalancesAt(voter, snapshots[k]), Phases.AskTimeout);
            var weight = balances.Balances.FirstOrDefault(b => b.Asset == token)?.Posted ?? 0;
            var vote = new CastVote(Governor, $"p{k}", voter, new($"v{k}"), (VoteSupport)random.Next(3), weight > 0 ? new Amount((UInt128)weight) : Amount.Zero,
                quorums[k]);
            return (await regions.Governors.Ask<ProposalView>(vote, Phases.AskTimeout)).Code is null ? OpResult.One : OpResult.Refused;
        });
        return (load, await Phases.HoldingsConserved(regions, [.. ids, Governor.Treasury, new(Phases.Issuer)], []));
    }
}
