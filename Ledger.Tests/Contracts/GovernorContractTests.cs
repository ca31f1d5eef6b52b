using System.Numerics;
using Ledger.Contracts.Governance;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

public class GovernorContractTests(ITestOutputHelper output)
{
    private static readonly AssetId Token = new("GOV");
    private static readonly GovernorId G = new("dao");
    private static readonly AccountId Proposer = new("proposer"), Keeper = new("keeper");

    private static GovernorState Governor(int quorumBps = 800, ulong threshold = 0, long delay = 10, long period = 100, long timelock = 50, long grace = 1_000)
    {
        var s = new GovernorState { Id = G };
        GovernorContract.Apply(s, new GovernorCreated(new GovernorParameters(Token, delay, period, new Amount(threshold), quorumBps, timelock, grace), 0));
        return s;
    }

    private static SagaOp[] Grant(ulong amount = 5) => [new TransferOp(new("grant"), G.Treasury, new("grantee"), Token, new Amount(amount))];

    private static T Do<T>(GovernorState s, T e) where T : IGovernorEvent
    {
        GovernorContract.Apply(s, e);
        return e;
    }

    private static ProposalState State(GovernorState s, string p, long now) => GovernorContract.StateOf(s.Parameters, s.Proposals[p], now);

    /// <summary>
    /// OpenZeppelin's GovernorVotesQuorumFraction: a supply of 100 at the snapshot and a quorum of 8 % make a quorum of
    /// 8; 10 votes for succeed, 7 are defeated (below the quorum).
    /// </summary>
    [Theory]
    [InlineData(10, ProposalState.Succeeded)]
    [InlineData(7, ProposalState.Defeated)]
    public void OpenZeppelin_quorum_fraction(ulong votesFor, ProposalState expected)
    {
        var s = Governor(quorumBps: 800);
        Assert.Equal(new Amount(8), GovernorContract.Quorum(s.Parameters, -100));
        Assert.Null(Do(s, GovernorContract.Propose(s, Proposer, new("p"), "grant", Grant(), Amount.Zero, 0)).Code);
        Assert.Null(Do(s, GovernorContract.Vote(s, new("voter"), new("v"), "p", VoteSupport.For, new Amount(votesFor), new Amount(8), 11)).Code);
        Assert.Equal(expected, State(s, "p", 111));
    }

    /// <summary>
    /// Compound Governor Bravo's sequence: pending → active → succeeded → queued → executed, each step refused out of
    /// its order (a vote while pending, a queue while active, an execution before the eta, a second vote).
    /// </summary>
    [Fact]
    public void Compound_bravo_state_sequence()
    {
        var s = Governor(threshold: 10);
        Assert.Equal(Codes.BelowThreshold, GovernorContract.Propose(s, Proposer, new("p"), "", Grant(), new Amount(9), 0).Code);
        Assert.Null(Do(s, GovernorContract.Propose(s, Proposer, new("p"), "grant", Grant(), new Amount(10), 0)).Code);
        Assert.Equal(Codes.IdConflict, GovernorContract.Propose(s, Keeper, new("p"), "", Grant(), new Amount(10), 1).Code);
        Assert.Equal(ProposalState.Pending, State(s, "p", 10));
        Assert.Equal(Codes.ProposalNotActive, GovernorContract.Vote(s, new("a"), new("v0"), "p", VoteSupport.For, new Amount(50), new Amount(8), 10).Code);
        Assert.Equal(ProposalState.Active, State(s, "p", 11));
        Assert.Null(Do(s, GovernorContract.Vote(s, new("a"), new("v1"), "p", VoteSupport.For, new Amount(50), new Amount(8), 11)).Code);
        Assert.Equal(Codes.AlreadyVoted, GovernorContract.Vote(s, new("a"), new("v2"), "p", VoteSupport.Against, new Amount(50), new Amount(8), 12).Code);
        Assert.Null(Do(s, GovernorContract.Vote(s, new("b"), new("v3"), "p", VoteSupport.Against, new Amount(20), new Amount(8), 110)).Code);
        Assert.Equal(Codes.ProposalNotSucceeded, GovernorContract.Queue(s, Keeper, new("q0"), "p", new Amount(8), 110).Code);
        Assert.Equal(Codes.ProposalNotActive, GovernorContract.Vote(s, new("c"), new("v4"), "p", VoteSupport.For, new Amount(1), new Amount(8), 111).Code);
        Assert.Equal(ProposalState.Succeeded, State(s, "p", 111));
        Assert.Equal(Codes.ProposalNotSucceeded, GovernorContract.Execute(s, Keeper, new("x0"), "p", 111)!.Code);
        Assert.Equal(161, Do(s, GovernorContract.Queue(s, Keeper, new("q1"), "p", new Amount(8), 111)).Eta);
        Assert.Equal(ProposalState.Queued, State(s, "p", 111));
        Assert.Equal(Codes.Timelock, GovernorContract.Execute(s, Keeper, new("x1"), "p", 160)!.Code);
        Assert.Equal(Codes.ProposalNotPending, GovernorContract.Cancel(s, Proposer, new("c"), "p", 160).Code);
        var started = Do(s, GovernorContract.Execute(s, Keeper, new("x2"), "p", 161)!);
        Assert.Equal((1, (string?)null), (started.Attempt, started.Code));
        // While its batch runs, and after it committed, no second attempt starts.
        Assert.Null(GovernorContract.Execute(s, Keeper, new("x3"), "p", 162));
        Do(s, new ExecutionEnded("p", 1, true, [new OpOutcome(new("grant"), G.Treasury, true, null, OpFill.Transfer)], 163));
        Assert.Equal(ProposalState.Executed, State(s, "p", 10_000));
        Assert.Null(GovernorContract.Execute(s, Keeper, new("x4"), "p", 164));
    }

    [Fact]
    public void A_failed_batch_leaves_the_proposal_queued_and_the_next_attempt_has_new_ids_until_the_grace_period_ends()
    {
        var s = Governor();
        Do(s, GovernorContract.Propose(s, Proposer, new("p"), "", Grant(), Amount.Zero, 0));
        Do(s, GovernorContract.Vote(s, new("a"), new("v"), "p", VoteSupport.For, new Amount(10), new Amount(8), 50));
        Do(s, GovernorContract.Queue(s, Keeper, new("q"), "p", new Amount(8), 111));
        var first = Do(s, GovernorContract.Execute(s, Keeper, new("x1"), "p", 161)!);
        Assert.Equal(new TxId("p:1:0"), Assert.Single(GovernorContract.Batch(s.Proposals["p"], first.Attempt)).Id);
        Do(s, new ExecutionEnded("p", 1, false, [new OpOutcome(new("grant"), G.Treasury, false, Codes.InsufficientFunds, null)], 162));
        Assert.Equal(ProposalState.Queued, State(s, "p", 162));
        var second = Do(s, GovernorContract.Execute(s, Keeper, new("x2"), "p", 163)!);
        Assert.Equal(new TxId("p:2:0"), Assert.Single(GovernorContract.Batch(s.Proposals["p"], second.Attempt)).Id);
        // An answer of an attempt that is not the last changes nothing.
        Do(s, new ExecutionEnded("p", 1, true, [], 164));
        Assert.True(s.Proposals["p"].Executing);
        Do(s, new ExecutionEnded("p", 2, false, [], 165));
        Assert.Equal(ProposalState.Expired, State(s, "p", 161 + 1_001));
        Assert.Equal(Codes.ProposalNotSucceeded, GovernorContract.Execute(s, Keeper, new("x3"), "p", 161 + 1_001)!.Code);
    }

    [Fact]
    public void Bad_proposals_and_calls_are_refused_with_their_codes()
    {
        var s = Governor();
        Assert.Equal(Codes.GovernorNotFound, GovernorContract.Propose(new GovernorState { Id = G }, Proposer, new("p"), "", Grant(), Amount.Zero, 0).Code);
        Assert.Equal(Codes.InvalidRequest, GovernorContract.Propose(s, Proposer, new("p"), "", [], Amount.Zero, 0).Code);
        Assert.Equal(Codes.InvalidRequest, GovernorContract.Propose(s, Proposer, new("p"), "", [.. Enumerable.Repeat(Grant()[0], 11)], Amount.Zero, 0).Code);
        Assert.Equal(Codes.InvalidRequest,
            GovernorContract.Propose(s, Proposer, new("p"), "", [new TransferOp(new("t"), Proposer, new("x"), Token, new Amount(1))], Amount.Zero, 0).Code);
        Assert.Equal(Codes.ProposalNotFound, GovernorContract.Vote(s, new("a"), new("v"), "none", VoteSupport.For, new Amount(1), Amount.Zero, 1).Code);
        Do(s, GovernorContract.Propose(s, Proposer, new("p"), "", Grant(), Amount.Zero, 0));
        Assert.Equal(Codes.Forbidden, GovernorContract.Cancel(s, Keeper, new("c"), "p", 5).Code);
        Assert.Null(Do(s, GovernorContract.Cancel(s, Proposer, new("c"), "p", 5)).Code);
        Assert.Equal(ProposalState.Canceled, State(s, "p", 50));
        Assert.Equal(Codes.ProposalNotActive, GovernorContract.Vote(s, new("a"), new("v"), "p", VoteSupport.For, new Amount(1), Amount.Zero, 50).Code);
    }

    /// <summary>
    /// Random holders with random balances at the snapshot, and random votes at random times, some twice, some outside
    /// the window: every vote accepted is exactly one the reference accepts (the first of its voter, inside the window),
    /// the tallies are the reference's sums of snapshot balances, and the state after the deadline is the reference's
    /// (for + abstain ≥ floor(supply · bps / 10000) and for > against, computed over big integers).
    /// </summary>
    [Fact]
    public void Tallies_and_outcomes_match_a_reference_count()
    {
        var seen = new Coverage();
        PropertyRun.Check(Gens.Script(Gens.Word, 1, 60), script => Holds(script, seen), maxTest: 400, seed: 25_12_04, shrink: PropertyRun.ShrinkScript);
        seen.AssertFloors(output, ("vote counted", 2_000), ("already_voted", 200), ("proposal_not_active", 200), ("succeeded", 80), ("defeated", 80));
    }

    private static bool Holds(uint[] script, Coverage seen)
    {
        var v0 = Scripts.Mix(script[0]);
        var bps = (int)(v0 % 10_001);
        var s = Governor(quorumBps: bps, delay: 100, period: 1_000);
        var holders = Enumerable.Range(0, 8).Select(i => new AccountId($"h{i}")).ToArray();
        var balances = holders.ToDictionary(h => h, h => (ulong)(Scripts.Mix(v0 + (uint)h.Value[1]) % 1_000));
        // The rest of the supply sits with holders who never vote.
        var supply = balances.Values.Aggregate(BigInteger.Zero, (sum, b) => sum + b) + Scripts.Mix(v0 ^ 0x5555) % 2_000;
        var quorum = GovernorContract.Quorum(s.Parameters, -(Int128)supply);
        if ((BigInteger)quorum.Value != supply * bps / 10_000) return false;
        Do(s, GovernorContract.Propose(s, Proposer, new("p"), "", Grant(), Amount.Zero, 0));
        var reference = new Dictionary<AccountId, VoteSupport>();
        for (var i = 1; i < script.Length; i++)
        {
            var v = Scripts.Mix(script[i] + (uint)i * 0x9E3779B9);
            var voter = holders[v % 8];
            var support = (VoteSupport)((v >> 3) % 3);
            var at = (long)((v >> 8) % 1_300);
            var e = Do(s, GovernorContract.Vote(s, voter, new($"v{i}"), "p", support, new Amount(balances[voter]), quorum, at));
            var inWindow = at > 100 && at <= 1_100;
            var expected = !inWindow ? Codes.ProposalNotActive : reference.ContainsKey(voter) ? Codes.AlreadyVoted : null;
            if (e.Code != expected) return false;
            if (expected is null) reference[voter] = support;
            seen.Add(e.Code ?? "vote counted");
        }
        BigInteger Sum(VoteSupport k) => reference.Where(r => r.Value == k).Aggregate(BigInteger.Zero, (sum, r) => sum + balances[r.Key]);
        var p = s.Proposals["p"];
        if ((BigInteger)p.For.Value != Sum(VoteSupport.For) || (BigInteger)p.Against.Value != Sum(VoteSupport.Against)
            || (BigInteger)p.Abstain.Value != Sum(VoteSupport.Abstain)) return false;
        var passes = reference.Count > 0 && Sum(VoteSupport.For) + Sum(VoteSupport.Abstain) >= supply * bps / 10_000 && Sum(VoteSupport.For) > Sum(VoteSupport.Against);
        var state = GovernorContract.StateOf(s.Parameters, p, 1_101);
        seen.Add(state.ToString().ToLowerInvariant());
        return state == (passes ? ProposalState.Succeeded : ProposalState.Defeated);
    }
}
