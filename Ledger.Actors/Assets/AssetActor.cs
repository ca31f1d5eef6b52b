using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Assets;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Assets;

/// <summary>
/// Hosts an asset's definition. Creation is two steps: persist the definition, then make the issuer account
/// hold the issuer right (retried until it answers). The asset is usable — and creation is answered — only
/// once the issuer is linked; a retry or read of a half-created asset finishes the link first.
/// </summary>
public sealed class AssetActor : UntypedPersistentActor, IWithTimers
{
    private static readonly TimeSpan LinkRetry = TimeSpan.FromSeconds(1);

    private readonly AssetState _state;
    private readonly IActorRef _accounts;
    private readonly TimeProvider _time;
    private readonly List<Answer> _waitingForLink = [];

    public AssetActor(string entityId, IActorRef accounts, TimeProvider time)
    {
        _state = new AssetState { Id = new AssetId(entityId) };
        _accounts = accounts;
        _time = time;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, IActorRef accounts, TimeProvider time) =>
        Akka.Actor.Props.Create(() => new AssetActor(entityId, accounts, time));

    public override string PersistenceId => "asset-" + _state.Id.Value;

    protected override void OnRecover(object message)
    {
        if (message is IAssetEvent e) AssetContract.Apply(_state, e);
        else if (message is RecoveryCompleted) Context.SetReceiveTimeout(TimeSpan.FromMinutes(2));
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case CreateAsset create:
                {
                    var (events, rejection) = AssetContract.Create(_state, create.Decimals, create.Issuer, _time.GetUtcNow().ToUnixTimeMilliseconds());
                    if (rejection is not null)
                    {
                        Sender.Tell(new Rejected(rejection));
                        break;
                    }
                    var created = events.Count > 0;
                    var sender = Sender;
                    PersistAll(events, AssetContract.ApplyTo(_state));
                    DeferAsync(created, _ => AnswerWhenLinked(new Answer(sender, created)));
                    break;
                }
            case GetAsset:
                if (!_state.Exists) Sender.Tell(new Rejected(Codes.AssetNotFound));
                else AnswerWhenLinked(new Answer(Sender, false));
                break;
            case IssuerGrantedAck when !_state.Linked:
                Persist(new IssuerLinked(), e =>
                {
                    AssetContract.Apply(_state, e);
                    foreach (var answer in _waitingForLink) Reply(answer);
                    _waitingForLink.Clear();
                });
                break;
            case LinkTick when !_state.Linked && _waitingForLink.Count > 0:
                RequestLink();
                break;
            case ReceiveTimeout when _waitingForLink.Count == 0:
                Context.Parent.Tell(new Passivate(StopEntity.Instance));
                break;
            case StopEntity:
                // Persist stashes commands, so this runs only between writes.
                Context.Stop(Self);
                break;
        }
    }

    private void AnswerWhenLinked(Answer answer)
    {
        if (_state.Linked)
        {
            Reply(answer);
            return;
        }
        _waitingForLink.Add(answer);
        RequestLink();
    }

    private void RequestLink()
    {
        _accounts.Tell(new GrantIssuer(_state.Issuer, _state.Id), Self);
        Timers.StartSingleTimer(LinkTick.Instance, LinkTick.Instance, LinkRetry);
    }

    private void Reply(Answer answer) => answer.To.Tell(new AssetView(_state.Id, _state.Decimals, _state.Issuer, answer.Created));

    private sealed record Answer(IActorRef To, bool Created) : INoSerializationVerificationNeeded;

    private sealed class LinkTick : INoSerializationVerificationNeeded
    {
        public static readonly LinkTick Instance = new();
    }
}
