using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Ledger.Actors.Journal;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Hosting;

/// <summary>
/// After this node comes up, and after any member leaves or is removed (its entities now live elsewhere), starts every
/// account and saga the <see cref="OwingIndex"/> lists: each account resends what it had in flight, each saga goes on
/// from where its journal says it is, and what a crash cut short finishes without any client touching it. Waking one
/// that is already running, or owes nothing, is harmless. Then watches the index until every entity it woke has cleared
/// itself (waking again, every <see cref="WakeAgainEvery"/>, what is still listed), and logs how long that took.
/// Besides, every <see cref="SweepEvery"/> it wakes what is listed, quietly: a shard handed off to a member that joined
/// stops its entities, and nothing else would start a saga or an account that was in the middle of something (no entity
/// of those regions is remembered by sharding).
/// </summary>
public sealed class OwingResumer : ReceiveActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    public const string AccountPrefix = "account-";
    public const string SagaPrefix = "saga-";
    public static readonly TimeSpan WatchFor = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(100);
    /// <summary>While it watches, how often it wakes again what is still listed.</summary>
    public static readonly TimeSpan WakeAgainEvery = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(30);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimeSpan _sweepEvery;

    public OwingResumer(LedgerNodeOptions options, IActorRef accounts, IActorRef sagas, TimeSpan? sweepEvery = null)
    {
        _sweepEvery = sweepEvery ?? SweepEvery;
        var running = false;
        void Begin(Func<Task> work)
        {
            if (running) return;
            running = true;
            work().PipeTo(Self, success: () => Finished.Instance, failure: e => new Failed(e));
        }
        Receive<Run>(_ => Begin(() => Resume(options, accounts, sagas)));
        Receive<Sweep>(_ => Begin(() => Wake(options, accounts, sagas)));
        Receive<ClusterEvent.MemberRemoved>(_ => Self.Tell(Run.Instance));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<Finished>(_ => { running = false; });
        Receive<Failed>(f =>
        {
            running = false;
            _log.Warning("could not read the owing index ({0}); trying again in 1 s", f.Cause.Message);
            Timers.StartSingleTimer(Run.Instance, Run.Instance, TimeSpan.FromSeconds(1));
        });
    }

    public static Props Props(LedgerNodeOptions options, IActorRef accounts, IActorRef sagas, TimeSpan? sweepEvery = null) =>
        Akka.Actor.Props.Create(() => new OwingResumer(options, accounts, sagas, sweepEvery));

    protected override void PreStart()
    {
        var cluster = Cluster.Get(Context.System);
        var self = Self;
        cluster.RegisterOnMemberUp(() => self.Tell(Run.Instance));
        cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.MemberRemoved));
        Timers.StartPeriodicTimer(Sweep.Instance, Sweep.Instance, _sweepEvery);
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private async Task Resume(LedgerNodeOptions options, IActorRef accounts, IActorRef sagas)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var owing = await Wake(options, accounts, sagas);
        if (owing.Count == 0)
        {
            _log.Info("no account or saga owed a step when its node stopped");
            return;
        }
        _log.Info("woke {0} accounts and sagas that owed a step when their node stopped", owing.Count);
        var wokenAt = clock.Elapsed;
        while (clock.Elapsed < WatchFor)
        {
            await Task.Delay(PollEvery);
            owing.IntersectWith(await OwingIndex.Read(options, CancellationToken.None));
            if (owing.Count == 0)
            {
                _log.Info("every account and saga woken has finished what it had in flight, {0} ms after waking them", clock.ElapsedMilliseconds);
                return;
            }
            // A wake sent just as a member is removed can go to the shard's old home, if the region has not yet learnt of
            // the removal; and it is not sent again. So what is still listed is woken again.
            if (clock.Elapsed - wokenAt < WakeAgainEvery) continue;
            foreach (var pid in owing) WakeOne(pid, accounts, sagas);
            wokenAt = clock.Elapsed;
        }
        _log.Warning("{0} accounts and sagas woken still owe a step after {1} s (a payee, venue or participant not answering)", owing.Count, WatchFor.TotalSeconds);
    }

    /// <summary>Starts every account and saga the index lists; returns their persistence ids.</summary>
    private static async Task<HashSet<string>> Wake(LedgerNodeOptions options, IActorRef accounts, IActorRef sagas)
    {
        var owing = new HashSet<string>();
        foreach (var pid in await OwingIndex.Read(options, CancellationToken.None))
            if (WakeOne(pid, accounts, sagas))
                owing.Add(pid);
        return owing;
    }

    /// <summary>Starts the account or saga of <paramref name="pid"/>; false if it is neither.</summary>
    private static bool WakeOne(string pid, IActorRef accounts, IActorRef sagas)
    {
        if (pid.StartsWith(AccountPrefix, StringComparison.Ordinal)) accounts.Tell(new WakeUp(new AccountId(pid[AccountPrefix.Length..])));
        else if (pid.StartsWith(SagaPrefix, StringComparison.Ordinal)) sagas.Tell(new WakeSaga(SagaKey.Parse(pid[SagaPrefix.Length..])));
        else return false;
        return true;
    }

    private sealed class Sweep
    {
        public static readonly Sweep Instance = new();
    }

    private sealed class Run
    {
        public static readonly Run Instance = new();
    }

    private sealed class Finished
    {
        public static readonly Finished Instance = new();
    }

    private sealed record Failed(Exception Cause);
}
