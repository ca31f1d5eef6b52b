using System.Numerics;
using Akka.Actor;
using Ledger.Contracts.Perps;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Venues;

/// <summary>
/// One perpetual futures market (<see cref="PerpContract"/>) on the venue host: a batch that holds a call or a read is
/// decided against one oracle reading of the underlying and the margin asset, whose ratio is the mark price.
/// </summary>
public sealed class PerpActor(string entityId, IActorRef oracle, TimeProvider time, VenueSettings settings)
    : VenueActor<IPerpEvent>("perp", time, settings, oracle, settings.OracleTimeout)
{
    private PerpState _state = new() { Id = new PerpId(entityId) };

    public static Props Props(string entityId, IActorRef oracle, TimeProvider time, VenueSettings settings) =>
        Akka.Actor.Props.Create(() => new PerpActor(entityId, oracle, time, settings));

    public override string PersistenceId => "perp-" + _state.Id.Value;

    protected override string VenueId => _state.Id.Value;

    protected override AnswerStore Answers => _state.Answers;

    protected override Func<IPerpEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> AnswerOf { get; } =
        static e => e is PerpCallDecided d ? ((d.Account, d.Id), new CallAnswer(d.Out, d.Code)) : null;

    protected override AssetId[]? PricesFor(object message) => message is ExecutePerpCall or GetPerp or GetPerpPosition && _state.Exists
        ? [_state.Parameters.Underlying, _state.Parameters.MarginAsset]
        : null;

    protected override bool IsQuery(object message) => message is GetPerp or GetPerpPosition or GetPerpHoldings;

    protected override void Apply(IPerpEvent e) => PerpContract.Apply(_state, e);

    protected override object Persisted(List<IPerpEvent> events) => new PerpWrite([.. events]);

    protected override IReadOnlyList<IPerpEvent> Recovered(object persisted) => persisted is PerpWrite w ? w.Events : [];

    protected override object Snapshot() => PerpSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((PerpSnapshot)snapshot).Restore(new PerpState { Id = _state.Id });

    /// <summary>The mark price in WAD, whole margin units per whole underlying; zero when either price is not set.</summary>
    private static BigInteger Mark(PricesRead? prices) =>
        prices is { Prices: [var u, var m] } && !u.IsZero && !m.IsZero ? (BigInteger)u.Value * PerpMath.Wad / m.Value : BigInteger.Zero;

    protected override void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<IPerpEvent> events, List<Action> after)
    {
        switch (message)
        {
            case CreatePerp c:
                {
                    var created = !_state.Exists;
                    var same = !_state.Exists || _state.Parameters == c.Parameters;
                    IPerpEvent[] decided = _state.Exists ? [] : [new PerpCreated(c.Parameters, now)];
                    Create(decided, same ? null : Codes.PerpExists, () => View(created, now, BigInteger.Zero), sender, events, after);
                    break;
                }
            case GetPerp:
                sender.Tell(_state.Exists ? View(false, now, Mark(prices)) : new Rejected(Codes.PerpNotFound));
                break;
            case GetPerpPosition get:
                sender.Tell(_state.Exists ? Position(get.Account, now, Mark(prices)) : new Rejected(Codes.PerpNotFound));
                break;
            case GetPerpHoldings:
                sender.Tell(new Holdings(PerpContract.Holdings(_state)));
                break;
            case ExecutePerpCall call:
                {
                    if (AnsweredBefore(call, call.Account, call.Id, sender, after)) break;
                    var c = call.Call;
                    var amount = c.Kind == PerpCallKind.Order ? (BigInteger)c.SizeDelta : (BigInteger)c.Amount.Value;
                    var d = PerpContract.Decide(_state, call.Account, call.Id, c.Kind, c.In, amount, c.Target, Mark(prices), now);
                    Answer(d, call.Id, d.Out, d.Code, sender, events, after);
                    break;
                }
            default:
                Unhandled(message);
                break;
        }
    }

    private PerpView View(bool created, long now, BigInteger price)
    {
        var (rate, _) = price.IsZero ? (_state.Book.Rate, _state.Book.Funding) : PerpMath.Accrued(_state.Parameters, _state.Book, now, price);
        return new PerpView(_state.Id, _state.Parameters, (Int128)_state.Book.Skew, new Amount((UInt128)_state.Book.LongInterest),
            new Amount((UInt128)_state.Book.ShortInterest), (Int128)rate, (Int128)PerpMath.Velocity(_state.Parameters, _state.Book),
            new Amount((UInt128)_state.Vault), price.IsZero ? null : new Amount((UInt128)price), created);
    }

    private PerpPositionView Position(AccountId account, long now, BigInteger price)
    {
        var p = _state.Parameters;
        var pos = _state.PositionOf(account);
        var funding = price.IsZero ? _state.Book.Funding : PerpMath.Accrued(p, _state.Book, now, price).Funding;
        var pnl = price.IsZero ? BigInteger.Zero : PerpMath.Pnl(p, pos, price, funding);
        return new PerpPositionView((Int128)pos.Size, new Amount((UInt128)pos.Entry), new Amount((UInt128)pos.Margin), (Int128)pnl,
            (Int128)PerpMath.FundingPnl(p, pos, funding), (Int128)(pos.Margin + pnl),
            PerpMath.LiquidationPrice(p, pos, funding) is { } liq ? new Amount((UInt128)liq) : null,
            new Amount((UInt128)_state.Shares.GetValueOrDefault(account)));
    }
}

/// <summary>What a perpetual futures market persists: the events of one write (group commit), as one journal row.</summary>
public sealed record PerpWrite(IPerpEvent[] Events);
