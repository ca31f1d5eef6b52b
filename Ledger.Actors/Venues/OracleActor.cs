using Akka.Actor;
using Akka.Persistence;
using Ledger.Contracts.Markets;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Venues;

/// <summary>
/// The price oracle: one entity holding every asset's price, so that a market reads both of its prices in one
/// consistent reading, numbered by <see cref="PricesRead.Version"/> (the count of updates so far). Updates are
/// persisted without holding reads back: a read is answered at once from the updates already durable, which include
/// every update acknowledged before it was asked, so a market never waits behind the oracle's writes.
/// </summary>
public sealed class OracleActor(TimeProvider time) : UntypedPersistentActor
{
    private readonly Dictionary<AssetId, Amount> _prices = [];
    private long _version;
    /// <summary>Versions handed to updates not yet durable; they become readable in this order.</summary>
    private long _assigned;

    public static Props Props(TimeProvider time) => Akka.Actor.Props.Create(() => new OracleActor(time));

    public override string PersistenceId => "oracle";

    protected override void OnRecover(object message)
    {
        if (message is PriceSet p) Apply(p);
        else if (message is RecoveryCompleted) _assigned = _version;
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case SetPrice set:
                var sender = Sender;
                PersistAsync(new PriceSet(set.Asset, set.Price, ++_assigned, time.GetUtcNow().ToUnixTimeMilliseconds()), e =>
                {
                    Apply(e);
                    sender.Tell(new PricesRead([e.Price], e.Version));
                });
                break;
            case ReadPrices read:
                Sender.Tell(new PricesRead([.. read.Assets.Select(a => _prices.GetValueOrDefault(a))], _version));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Apply(PriceSet p)
    {
        _prices[p.Asset] = p.Price;
        _version = p.Version;
    }
}
