using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Sharding;
using Ledger.Actors.Venues;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Governance;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;
using Ledger.Contracts.Sagas;
using Ledger.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ledger.Tests.Actors;

/// <summary>
/// A governor executing a grant from its treasury through the real accounts and sagas, with the saga region seen
/// through a probe: the batch commits, the governor is stopped before it hears so, and the governor that recovers asks
/// the same saga again and records the execution — the grantee is paid once. Executing again moves nothing.
/// </summary>
public class GovernorActorSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly AssetId Gov = new("GOV");
    private static readonly GovernorId G = new("dao");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
    private readonly EntityWorld _world;

    public GovernorActorSpecs() : base(SpecConfig.Local(), "governor-spec-" + Guid.NewGuid().ToString("N")[..8])
    {
        _world = new EntityWorld(Sys, _time, new AccountSettings { RedeliverAfter = TimeSpan.FromMilliseconds(200) }, new PoolSettings(), new SagaSettings());
    }

    private static T Ask<T>(IActorRef to, object message) => to.Ask<T>(message, Wait).GetAwaiter().GetResult();

    private Int128 Posted(string account) =>
        Ask<AccountView>(_world.Accounts, new GetAccount(new(account))).Balances.FirstOrDefault(b => b.Asset == Gov)?.Posted ?? 0;

    /// <summary>
    /// A governor keeps only its newest answers in memory (here one): a vote repeated after its answer left memory is read
    /// back and answered as it was (decided again it would be <c>already_voted</c>), and with another body it is <c>id_conflict</c>.
    /// </summary>
    [Fact]
    public void A_vote_whose_answer_left_memory_is_answered_from_the_journal()
    {
        var peers = new Peers { Accounts = _world.Accounts, Sagas = CreateTestProbe().Ref };
        var governor = Sys.ActorOf(GovernorActor.Props("small", peers, _time, new VenueSettings { AnswersKeep = 1 }));
        var g = new GovernorId("small");
        Ask<GovernorView>(governor, new CreateGovernor(g, new GovernorParameters(Gov, 1_000, 10_000, Amount.Zero, 400, 2_000, 60_000)));
        SagaOp[] grant = [new TransferOp(new("grant"), g.Treasury, new("grantee"), Gov, new Amount(30))];
        Assert.Null(Ask<ProposalView>(governor, new Propose(g, new("voter"), new("p1"), "a grant", grant, new Amount(100))).Code);
        _time.Advance(TimeSpan.FromSeconds(2));
        var first = new CastVote(g, "p1", new("v0"), new("v"), VoteSupport.For, new Amount(10), new Amount(6));
        Assert.Null(Ask<ProposalView>(governor, first).Code);
        for (var i = 1; i <= 3; i++)
            Assert.Null(Ask<ProposalView>(governor, new CastVote(g, "p1", new("v" + i), new("v"), VoteSupport.Against, new Amount(1), new Amount(6))).Code);
        var again = Ask<ProposalView>(governor, first);
        Assert.Equal((null, new Amount(10), new Amount(3)), (again.Code, again.For, again.Against));
        Assert.Equal(Codes.IdConflict, Ask<ProposalView>(governor, first with { Support = VoteSupport.Against }).Code);
    }

    [Fact]
    public void A_crash_between_the_batch_and_the_governors_record_pays_the_grantee_once()
    {
        _world.Mint(Gov, "voter", 100);
        _world.Mint(Gov, G.Treasury.Value, 50);
        Ask<AccountView>(_world.Accounts, new OpenAccount(new("grantee"), "grantee"));
        var sagas = CreateTestProbe();
        var peers = new Peers { Accounts = _world.Accounts, Sagas = sagas.Ref };
        IActorRef Start() => Sys.ActorOf(GovernorActor.Props(G.Value, peers, _time, new VenueSettings()));
        var governor = Start();
        Ask<GovernorView>(governor, new CreateGovernor(G, new GovernorParameters(Gov, 1_000, 10_000, Amount.Zero, 400, 2_000, 60_000)));
        SagaOp[] grant = [new TransferOp(new("grant"), G.Treasury, new("grantee"), Gov, new Amount(30))];
        Assert.Null(Ask<ProposalView>(governor, new Propose(G, new("voter"), new("p1"), "a grant", grant, new Amount(100))).Code);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(Ask<ProposalView>(governor, new CastVote(G, "p1", new("voter"), new("v1"), VoteSupport.For, new Amount(100), new Amount(6))).Code);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(ProposalState.Queued, Ask<ProposalView>(governor, new QueueProposal(G, "p1", new("keeper"), new("q1"), new Amount(6))).State);
        _time.Advance(TimeSpan.FromSeconds(3));

        // The governor records the attempt and starts its batch; the batch commits, but its answer never reaches the governor.
        governor.Tell(new ExecuteProposal(G, "p1", new("keeper"), new("x1")), CreateTestProbe().Ref);
        var start = sagas.ExpectMsg<StartSaga>(Wait);
        Assert.Equal(new TxId("p1:1:0"), start.Key.Id);
        Assert.True(Ask<SagaOutcome>(_world.Sagas, start).Committed);
        Assert.Equal((Int128)30, Posted("grantee"));
        Watch(governor);
        Sys.Stop(governor);
        ExpectTerminated(governor, Wait);

        // Recovered, it asks the same saga for the outcome (which it answers from its record, moving nothing) and records it.
        governor = Start();
        governor.Tell(new GetGovernor(G));
        ExpectMsg<GovernorView>(Wait);
        var again = sagas.ExpectMsg<StartSaga>(Wait);
        Assert.Equal(start.Key, again.Key);
        sagas.Reply(Ask<SagaOutcome>(_world.Sagas, again));
        AwaitAssert(() => Assert.Equal(ProposalState.Executed, Ask<ProposalView>(governor, new GetProposal(G, "p1")).State), Wait);
        var executed = Ask<ProposalView>(governor, new GetProposal(G, "p1"));
        Assert.Equal([new TxId("grant")], executed.Results!.Select(r => r.Id));
        Assert.True(executed.Results![0].Committed);

        // Executing again answers the executed proposal and starts no batch.
        Assert.Equal(ProposalState.Executed, Ask<ProposalView>(governor, new ExecuteProposal(G, "p1", new("keeper"), new("x2"))).State);
        sagas.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal(((Int128)30, (Int128)20), (Posted("grantee"), Posted(G.Treasury.Value)));
    }

    [Fact]
    public void A_batch_that_fails_leaves_the_proposal_queued_with_its_results_and_a_later_attempt_pays()
    {
        _world.Mint(Gov, "voter", 100);
        Ask<AccountView>(_world.Accounts, new OpenAccount(new("grantee"), "grantee"));
        var governor = _world.Governors;
        Ask<AccountView>(_world.Accounts, new OpenAccount(G.Treasury, G.Treasury.Value));
        Ask<GovernorView>(governor, new CreateGovernor(G, new GovernorParameters(Gov, 1_000, 10_000, Amount.Zero, 400, 2_000, 60_000)));
        SagaOp[] grant = [new TransferOp(new("grant"), G.Treasury, new("grantee"), Gov, new Amount(30))];
        Ask<ProposalView>(governor, new Propose(G, new("voter"), new("p1"), "a grant", grant, new Amount(100)));
        _time.Advance(TimeSpan.FromSeconds(2));
        Ask<ProposalView>(governor, new CastVote(G, "p1", new("voter"), new("v1"), VoteSupport.For, new Amount(100), new Amount(6)));
        _time.Advance(TimeSpan.FromSeconds(10));
        Ask<ProposalView>(governor, new QueueProposal(G, "p1", new("keeper"), new("q1"), new Amount(6)));
        _time.Advance(TimeSpan.FromSeconds(3));

        // The treasury is empty: the batch fails, the proposal stays queued and answers why.
        var failed = Ask<ProposalView>(governor, new ExecuteProposal(G, "p1", new("keeper"), new("x1")));
        Assert.Equal(ProposalState.Queued, failed.State);
        Assert.Equal((false, Codes.InsufficientFunds), (failed.Results![0].Committed, failed.Results[0].Code));
        _world.Mint(Gov, G.Treasury.Value, 50);
        var paid = Ask<ProposalView>(governor, new ExecuteProposal(G, "p1", new("keeper"), new("x2")));
        Assert.Equal(ProposalState.Executed, paid.State);
        Assert.Equal((Int128)30, Posted("grantee"));
        // The first call, repeated, hears what it heard then; the proposal is as it is now.
        Assert.Equal(ProposalState.Executed, Ask<ProposalView>(governor, new ExecuteProposal(G, "p1", new("keeper"), new("x1"))).State);
        Assert.Equal((Int128)30, Posted("grantee"));
    }
}
