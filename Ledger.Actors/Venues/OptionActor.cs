using Akka.Actor;
using Ledger.Contracts.Options;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Venues;

/// <summary>One option series (<see cref="OptionContract"/>) as a sharded, event-sourced entity on the venue host.</summary>
public sealed class OptionActor(string entityId, TimeProvider time, VenueSettings settings)
    : VenueActor<IOptionEvent>("option", time, settings)
{
    private OptionState _state = new() { Id = new OptionId(entityId) };

    public static Props Props(string entityId, TimeProvider time, VenueSettings settings) =>
        Akka.Actor.Props.Create(() => new OptionActor(entityId, time, settings));

    public override string PersistenceId => "option-" + _state.Id.Value;

    protected override string VenueId => _state.Id.Value;

    protected override AnswerStore Answers => _state.Answers;

    protected override Func<IOptionEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> AnswerOf { get; } =
        static e => e is OptionCallDecided d ? ((d.Account, d.Id), new CallAnswer(d.Out, d.Code)) : null;

    protected override bool IsQuery(object message) => message is GetOption or GetOptionPosition or GetOptionHoldings;

    protected override void Apply(IOptionEvent e) => OptionContract.Apply(_state, e);

    protected override object Persisted(List<IOptionEvent> events) => new OptionWrite([.. events]);

    protected override IReadOnlyList<IOptionEvent> Recovered(object persisted) => persisted is OptionWrite w ? w.Events : [];

    protected override object Snapshot() => OptionSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((OptionSnapshot)snapshot).Restore(new OptionState { Id = _state.Id });

    protected override void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<IOptionEvent> events, List<Action> after)
    {
        switch (message)
        {
            case CreateOption c:
                {
                    var created = !_state.Exists;
                    var (decided, rejection) = OptionContract.Create(_state,
                        new OptionCreated(c.Underlying, c.StrikeAsset, c.Kind, c.Strike, c.Expiry, c.DisputeMs, c.UnderlyingDecimals, c.StrikeDecimals, now));
                    Create(decided, rejection, () => View(created, now), sender, events, after);
                    break;
                }
            case SetExpiryPrice set:
                {
                    var (priced, rejection) = OptionContract.SetExpiryPrice(_state, set.Price, now);
                    if (priced is not null) Record(priced, events);
                    var view = rejection is null ? View(false, now) : null;
                    after.Add(() => sender.Tell(rejection is { } code ? new Rejected(code) : view!));
                    break;
                }
            case GetOption:
                sender.Tell(_state.Exists ? View(false, now) : new Rejected(Codes.OptionNotFound));
                break;
            case GetOptionPosition get:
                {
                    var w = _state.Writers.GetValueOrDefault(get.Account);
                    sender.Tell(_state.Exists
                        ? new OptionPositionView(w?.Written ?? Amount.Zero, w?.Collateral ?? Amount.Zero, w?.Settled ?? false)
                        : new Rejected(Codes.OptionNotFound));
                    break;
                }
            case GetOptionHoldings:
                sender.Tell(new Holdings(OptionContract.Holdings(_state)));
                break;
            case ExecuteOptionCall call:
                {
                    if (AnsweredBefore(call, call.Account, call.Id, sender, after)) break;
                    var d = OptionContract.Decide(_state, call.Account, call.Id, call.Call.Kind, call.Call.In, call.Call.Amount, now);
                    Answer(d, call.Id, d.Out, d.Code, sender, events, after);
                    break;
                }
            default:
                Unhandled(message);
                break;
        }
    }

    private OptionView View(bool created, long now) => new(_state.Id, _state.Underlying, _state.StrikeAsset, _state.Kind, _state.Strike, _state.Expiry,
        _state.DisputeMs, _state.UnderlyingDecimals, _state.StrikeDecimals, _state.Outstanding, _state.CollateralHeld, _state.ExpiryPrice,
        _state.PriceFinal(now), created);
}

/// <summary>What an option series persists: the events of one write (group commit), as one journal row.</summary>
public sealed record OptionWrite(IOptionEvent[] Events);
