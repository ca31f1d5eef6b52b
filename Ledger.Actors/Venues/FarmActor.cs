using Akka.Actor;
using Ledger.Contracts.Farms;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Venues;

/// <summary>One staking farm (<see cref="FarmContract"/>) as a sharded, event-sourced entity.</summary>
public sealed class FarmActor(string entityId, TimeProvider time, VenueSettings settings)
    : VenueActor<IFarmEvent>("farm", time, settings)
{
    private FarmState _state = new() { Id = new FarmId(entityId) };

    public static Props Props(string entityId, TimeProvider time, VenueSettings settings) =>
        Akka.Actor.Props.Create(() => new FarmActor(entityId, time, settings));

    public override string PersistenceId => "farm-" + _state.Id.Value;

    protected override string VenueId => _state.Id.Value;

    protected override AnswerStore Answers => _state.Answers;

    protected override Func<IFarmEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> AnswerOf { get; } =
        static e => e is FarmCallDecided d ? ((d.Account, d.Id), new CallAnswer(d.Out, d.Code)) : null;

    protected override bool IsQuery(object message) => message is GetFarm or GetFarmPosition or GetFarmHoldings;

    protected override void Apply(IFarmEvent e) => FarmContract.Apply(_state, e);

    protected override object Persisted(List<IFarmEvent> events) => new FarmWrite([.. events]);

    protected override IReadOnlyList<IFarmEvent> Recovered(object persisted) => persisted is FarmWrite w ? w.Events : [];

    protected override object Snapshot() => FarmSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((FarmSnapshot)snapshot).Restore(new FarmState { Id = _state.Id });

    protected override void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<IFarmEvent> events, List<Action> after)
    {
        switch (message)
        {
            case CreateFarm c:
                {
                    var created = !_state.Exists;
                    var (decided, rejection) = FarmContract.Create(_state, new FarmCreated(c.StakeAsset, c.RewardAsset, c.DurationMs, now));
                    Create(decided, rejection, () => View(created), sender, events, after);
                    break;
                }
            case GetFarm:
                sender.Tell(_state.Exists ? View(false) : new Rejected(Codes.FarmNotFound));
                break;
            case GetFarmPosition get:
                sender.Tell(_state.Exists
                    ? new FarmPositionView(_state.Stakes.GetValueOrDefault(get.Account)?.Staked ?? Amount.Zero, new Amount((UInt128)FarmContract.Earned(_state, get.Account, now)))
                    : new Rejected(Codes.FarmNotFound));
                break;
            case GetFarmHoldings:
                sender.Tell(new Holdings(_state.Exists
                    ? [new(_state.StakeAsset, (Int128)_state.TotalStaked.Value, default, default), new(_state.RewardAsset, (Int128)_state.RewardHeld.Value, default, default)]
                    : []));
                break;
            case ExecuteFarmCall call:
                {
                    if (AnsweredBefore(call, call.Account, call.Id, sender, after)) break;
                    var d = FarmContract.Decide(_state, call.Account, call.Id, call.Call.Kind, call.Call.In, call.Call.Amount, now);
                    Answer(d, call.Id, d.Out, d.Code, sender, events, after);
                    break;
                }
            default:
                Unhandled(message);
                break;
        }
    }

    private FarmView View(bool created) => new(_state.Id, _state.StakeAsset, _state.RewardAsset, _state.DurationMs, _state.TotalStaked,
        _state.RewardHeld, _state.PeriodFinish, created);
}

/// <summary>What a farm persists: the events of one write (group commit), as one journal row.</summary>
public sealed record FarmWrite(IFarmEvent[] Events);
