using Akka.Actor;

namespace Ledger.Actors.Sagas;

/// <summary>
/// How many sagas of one node may be taking their locks at once; the rest wait here, in arrival order, before they
/// record anything. A saga waiting for its second pool holds its first, so sagas beyond what the pools can serve
/// only lengthen the queues at the locks — each waits behind others that wait in turn, and with a thousand in flight
/// some wait out the lock expiry. Waiting here holds nothing: swaps go on in the pools, and a saga's lock clock
/// starts only once it is admitted. A saga holds its place from admission until its decision is durable; one that
/// stops gives it back (the admission watches it).
/// </summary>
public sealed class SagaAdmission : UntypedActor
{
    private readonly int _max;
    private readonly int _queueMax;
    private readonly HashSet<IActorRef> _admitted = [];
    private readonly Queue<IActorRef> _queue = new();
    /// <summary>The sagas in <see cref="_queue"/> still waiting (one that left or stopped stays in the queue until its turn, and is skipped).</summary>
    private readonly HashSet<IActorRef> _waiting = [];

    public SagaAdmission(int max, int queueMax)
    {
        _max = max;
        _queueMax = queueMax;
    }

    public static Props Props(int max, int queueMax) => Akka.Actor.Props.Create(() => new SagaAdmission(max, queueMax));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case AdmitSaga:
                if (_admitted.Contains(Sender) || _waiting.Contains(Sender)) break;
                Context.Watch(Sender);
                if (_admitted.Count < _max) Admit(Sender);
                else if (_waiting.Count < _queueMax)
                {
                    _waiting.Add(Sender);
                    _queue.Enqueue(Sender);
                }
                else
                {
                    Context.Unwatch(Sender);
                    Sender.Tell(SagaAdmissionFull.Instance);
                }
                break;
            case LeaveSaga:
                Context.Unwatch(Sender);
                Leave(Sender);
                break;
            case Terminated t:
                Leave(t.ActorRef);
                break;
        }
    }

    private void Admit(IActorRef saga)
    {
        _admitted.Add(saga);
        saga.Tell(SagaAdmitted.Instance);
    }

    private void Leave(IActorRef saga)
    {
        _waiting.Remove(saga);
        if (!_admitted.Remove(saga)) return;
        while (_admitted.Count < _max && _queue.TryDequeue(out var next))
            if (_waiting.Remove(next)) Admit(next);
    }
}

/// <summary>Saga → its node's admission: may I take my locks?</summary>
public sealed class AdmitSaga : INoSerializationVerificationNeeded
{
    public static readonly AdmitSaga Instance = new();
}

/// <summary>Admission → saga: go on.</summary>
public sealed class SagaAdmitted : INoSerializationVerificationNeeded
{
    public static readonly SagaAdmitted Instance = new();
}

/// <summary>Admission → saga: the queue is full; the request is answered 503, to be retried.</summary>
public sealed class SagaAdmissionFull : INoSerializationVerificationNeeded
{
    public static readonly SagaAdmissionFull Instance = new();
}

/// <summary>Saga → admission: decided (or not going on): my place is free.</summary>
public sealed class LeaveSaga : INoSerializationVerificationNeeded
{
    public static readonly LeaveSaga Instance = new();
}
