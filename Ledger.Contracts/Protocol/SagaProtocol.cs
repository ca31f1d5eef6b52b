using Ledger.Contracts.Primitives;
using Ledger.Contracts.Sagas;

namespace Ledger.Contracts.Protocol;

// ---- sagas: multi-party transactions (routes, atomic batches) -------------------------------------------

public interface ISagaMessage : IEntityMessage
{
    SagaKey Key { get; }
    string IEntityMessage.EntityId => Key.EntityId;
}

/// <summary>Run <see cref="Ops"/> all or nothing; answered with <see cref="SagaOutcome"/> once every participant applied the decision.</summary>
public sealed record StartSaga(SagaKey Key, SagaOp[] Ops) : ISagaMessage, IRejectableAsk<SagaOutcome>;

public sealed record SagaOutcome(SagaKey Key, bool Committed, OpOutcome[] Results) : ILedgerMessage;

/// <summary>Participant → saga: my hold or lock expired and I have no decision (presumed abort: undecided means abort).</summary>
public sealed record QuerySaga(SagaKey Key, AccountId? Account, PoolId? Pool) : ISagaMessage;

/// <summary>
/// The node's resumer → saga, after a crash or a hand-off: the owing index lists you as unfinished. Starting is all it asks: a saga
/// read back mid-way goes on by itself; one with nothing left to do clears its mark.
/// </summary>
public sealed record WakeSaga(SagaKey Key) : ISagaMessage;
