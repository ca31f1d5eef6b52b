using System.Numerics;
using Akka.Actor;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Venues;

/// <summary>One lending market (<see cref="MarketContract"/>) as a sharded, event-sourced entity.</summary>
public sealed class MarketActor(string entityId, IActorRef oracle, TimeProvider time, VenueSettings settings)
    : VenueActor<IMarketEvent>("market", time, settings, oracle, settings.OracleTimeout)
{
    private MarketState _state = new() { Id = new MarketId(entityId) };

    public static Props Props(string entityId, IActorRef oracle, TimeProvider time, VenueSettings settings) =>
        Akka.Actor.Props.Create(() => new MarketActor(entityId, oracle, time, settings));

    public override string PersistenceId => "market-" + _state.Id.Value;

    protected override string VenueId => _state.Id.Value;

    protected override AnswerStore Answers => _state.Answers;

    protected override Func<IMarketEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> AnswerOf { get; } =
        static e => e is MarketCallDecided d ? ((d.Account, d.Id), new CallAnswer(d.Out, d.Code)) : null;

    protected override AssetId[]? PricesFor(object message) => message switch
    {
        ExecuteMarketCall call when MarketContract.NeedsPrices(call.Call.Kind) && _state.Exists => [_state.LoanAsset, _state.CollateralAsset],
        GetMarketPosition when _state.Exists => [_state.LoanAsset, _state.CollateralAsset],
        _ => null,
    };

    protected override bool IsQuery(object message) => message is GetMarket or GetMarketPosition or GetMarketHoldings;

    protected override void Apply(IMarketEvent e) => MarketContract.Apply(_state, e);

    protected override object Persisted(List<IMarketEvent> events) => new MarketWrite([.. events]);

    protected override IReadOnlyList<IMarketEvent> Recovered(object persisted) => persisted is MarketWrite w ? w.Events : [];

    protected override object Snapshot() => MarketSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((MarketSnapshot)snapshot).Restore(new MarketState { Id = _state.Id });

    protected override void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<IMarketEvent> events, List<Action> after)
    {
        switch (message)
        {
            case CreateMarket c:
                {
                    var created = !_state.Exists;
                    var (decided, rejection) = MarketContract.Create(_state, new MarketCreated(c.LoanAsset, c.CollateralAsset, c.LoanDecimals,
                        c.CollateralDecimals, c.LltvBps, c.Rate, c.ReserveFactorBps, c.LiquidationBonusBps, now));
                    Create(decided, rejection, () => View(now, created), sender, events, after);
                    break;
                }
            case GetMarket:
                sender.Tell(_state.Exists ? View(now, false) : new Rejected(Codes.MarketNotFound));
                break;
            case GetMarketPosition get:
                {
                    if (!_state.Exists)
                    {
                        sender.Tell(new Rejected(Codes.MarketNotFound));
                        break;
                    }
                    var (supplyIndex, borrowIndex, _, _) = MarketContract.Accrued(_state, now);
                    var p = _state.Positions.GetValueOrDefault(get.Account) ?? new Position();
                    var (supplied, debt) = MarketContract.Balances(p, supplyIndex, borrowIndex);
                    var health = Reading(prices) is { } r && !r.Loan.IsZero && !r.Collateral.IsZero ? MarketContract.HealthFactor(_state, p.Collateral, debt, r) : null;
                    sender.Tell(new PositionView(Narrow(supplied), Narrow(debt), p.Collateral, health is { } h ? Narrow(BigInteger.Min(h, (BigInteger)UInt128.MaxValue)) : null));
                    break;
                }
            case GetMarketHoldings:
                sender.Tell(new Holdings(_state.Exists
                    ? [new(_state.LoanAsset, (Int128)_state.Cash.Value, default, default), new(_state.CollateralAsset, (Int128)_state.CollateralHeld.Value, default, default)]
                    : []));
                break;
            case ExecuteMarketCall call:
                {
                    if (AnsweredBefore(call, call.Account, call.Id, sender, after)) break;
                    var c = call.Call;
                    var d = MarketContract.Decide(_state, call.Account, call.Id, c.Kind, c.In, c.Amount, c.Borrower,
                        MarketContract.NeedsPrices(c.Kind) ? Reading(prices) : null, now);
                    Answer(d, call.Id, d.Out, d.Code, sender, events, after);
                    break;
                }
            default:
                Unhandled(message);
                break;
        }
    }

    private MarketView View(long now, bool created)
    {
        var (supplyIndex, borrowIndex, _, _) = MarketContract.Accrued(_state, now);
        var supplied = Fixed.MulDivDown(_state.TotalScaledSupply, supplyIndex, Fixed.Ray);
        var borrowed = Fixed.MulDivUp(_state.TotalScaledDebt, borrowIndex, Fixed.Ray);
        var utilization = RateModel.Utilization((BigInteger)_state.Cash.Value, borrowed);
        var borrowRate = _state.Rate.BorrowRate(utilization);
        // Suppliers earn the borrow rate on the borrowed share, less the reserve factor.
        var supplyRate = borrowRate * utilization / Fixed.Ray * (Fixed.Bps - _state.ReserveFactorBps) / Fixed.Bps;
        int Bps(BigInteger ray) => (int)(ray * Fixed.Bps / Fixed.Ray);
        return new MarketView(_state.Id, _state.LoanAsset, _state.CollateralAsset, _state.LltvBps, _state.Rate, _state.ReserveFactorBps,
            _state.LiquidationBonusBps, Narrow(supplied), Narrow(borrowed), _state.Cash, _state.CollateralHeld,
            Narrow(BigInteger.Max(0, (BigInteger)_state.Cash.Value + borrowed - supplied)), Bps(utilization), Bps(borrowRate), Bps(supplyRate), created);
    }

    private static Amount Narrow(BigInteger v) => new((UInt128)v);
}

/// <summary>What a market persists: the events of one write (group commit), as one journal row.</summary>
public sealed record MarketWrite(IMarketEvent[] Events);
