using Akka.Actor;
using Ledger.Actors.Accounts;
using Ledger.Actors.Pools;
using Ledger.Actors.Sagas;
using Ledger.Actors.Sharding;
using Ledger.Actors.Venues;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Tests.Support;

/// <summary>Every entity kind under an <see cref="EntityParent"/> in one actor system: the production props, no cluster.</summary>
public sealed class EntityWorld
{
    public IActorRef Accounts => _peers.Accounts;
    public IActorRef Pools => _peers.Pools;
    public IActorRef Sagas => _peers.Sagas;
    public IActorRef Markets => _peers.Markets;
    public IActorRef Farms => _peers.Farms;
    public IActorRef Options => _peers.Options;
    public IActorRef Perps => _peers.Perps;
    public IActorRef Governors => _peers.Governors;
    public IActorRef Channels => _peers.Channels;
    public IActorRef Oracle => _peers.Oracle;

    private readonly Peers _peers = new();

    public EntityWorld(ActorSystem system, TimeProvider time, AccountSettings accounts, PoolSettings pools, SagaSettings sagas, VenueSettings? venues = null)
    {
        var extractor = new EntityMessageExtractor(10);
        var peers = _peers;
        venues ??= new VenueSettings();
        IActorRef Parent(string name, Func<string, Props> props) => system.ActorOf(Props.Create(() => new EntityParent((id, _) => props(id), extractor)), name);
        peers.Pools = Parent("pools", id => PoolActor.Props(id, peers.Sagas, peers.Pools, time, pools));
        peers.Accounts = Parent("accounts", id => AccountActor.Props(id, peers, time, accounts));
        var admission = system.ActorOf(SagaAdmission.Props(sagas.MaxLocking, sagas.AdmissionQueueMax), "saga-admission");
        peers.Sagas = Parent("sagas", id => SagaActor.Props(id, peers.Accounts, peers.Pools, admission, time, sagas));
        peers.Wakers = Parent("wakers", id => AccountWaker.Props(id, peers.Accounts));
        peers.Oracle = Parent("oracle", _ => OracleActor.Props(time));
        peers.Markets = Parent("markets", id => MarketActor.Props(id, peers.Oracle, time, venues));
        peers.Farms = Parent("farms", id => FarmActor.Props(id, time, venues));
        peers.Options = Parent("options", id => OptionActor.Props(id, time, venues));
        peers.Perps = Parent("perps", id => PerpActor.Props(id, peers.Oracle, time, venues));
        peers.Governors = Parent("governors", id => GovernorActor.Props(id, peers, time, venues));
        peers.Channels = Parent("channels", id => ChannelActor.Props(id, peers, time, venues));
    }

    /// <summary>Opens <paramref name="account"/> and mints <paramref name="amount"/> of <paramref name="asset"/> to it from "bank".</summary>
    public void Mint(AssetId asset, string account, ulong amount)
    {
        var wait = TimeSpan.FromSeconds(30);
        Accounts.Ask<IssuerGrantedAck>(new GrantIssuer(new("bank"), asset), wait).GetAwaiter().GetResult();
        Accounts.Ask<AccountView>(new OpenAccount(new(account), account), wait).GetAwaiter().GetResult();
        var mint = new SubmitTransfers(new("bank"), [new TransferRequest(new($"mint-{asset}-{account}-{amount}"), new(account), asset, amount, false, null)]);
        var r = Accounts.Ask<TransferResults>(mint, wait).GetAwaiter().GetResult();
        Assert.Equal(TransferStatus.Committed, r.Results[0].Transaction!.Status);
    }
}
