using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Sagas;

/// <summary>Everything a saga coordinator persists (the durable schema: add fields only with defaults).</summary>
public interface ISagaEvent;

/// <summary>The intent, written before any participant is asked: the operations and when every lock taken for them expires.</summary>
public sealed record SagaStarted(SagaOp[] Ops, long ExpiresAt, long At) : ISagaEvent;

/// <summary>
/// The decision. Committed: <paramref name="Fills"/> says what every operation did. Aborted: operation
/// <paramref name="FailedOp"/> failed with <paramref name="Code"/> (−1: no single operation failed, e.g. the locks expired).
/// </summary>
public sealed record SagaDecided(bool Commit, int FailedOp, string? Code, OpFill[]? Fills, long At) : ISagaEvent;

/// <summary>Every participant has applied the decision: nothing of this saga is held anywhere.</summary>
public sealed record SagaFinished(long At) : ISagaEvent;

public enum SagaPhase
{
    /// <summary>No intent recorded.</summary>
    New,
    /// <summary>Intent recorded; locking pools and preparing accounts.</summary>
    Started,
    /// <summary>Decision recorded; telling participants until each has applied it.</summary>
    Decided,
    Finished,
}

/// <summary>The coordinator's state, folded from its events by <see cref="SagaContract.Apply"/>.</summary>
public sealed class SagaState
{
    public required SagaKey Key { get; init; }
    public SagaPhase Phase { get; set; }
    public SagaOp[] Ops { get; set; } = [];
    public ulong Fingerprint { get; set; }
    public long ExpiresAt { get; set; }
    public long StartedAt { get; set; }
    public bool Commit { get; set; }
    public int FailedOp { get; set; } = -1;
    public string? Code { get; set; }
    public OpFill[]? Fills { get; set; }
    public long? DecidedAt { get; set; }
}

/// <summary>
/// The coordinator's rules: a pure state machine. Intent first; then commit only if every pool locked and every
/// account prepared within the lock expiry; otherwise abort. Once decided, the decision never changes.
/// </summary>
public static class SagaContract
{
    /// <summary>Most operations in one saga (an atomic batch's limit).</summary>
    public const int OpsMax = 8_190;

    public static ulong FingerprintOf(IEnumerable<SagaOp> ops) => Primitives.Fingerprint.Of([.. ops.Select(o => o.Fingerprint().ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    /// <summary>A new request: the intent to record, nothing (a retry of the same saga), or <c>id_conflict</c>.</summary>
    public static (SagaStarted? Start, string? Rejection) Start(SagaState s, SagaOp[] ops, TimeSpan lockTimeout, long now)
    {
        var fingerprint = FingerprintOf(ops);
        if (s.Phase != SagaPhase.New) return (null, s.Fingerprint == fingerprint ? null : Codes.IdConflict);
        if (ops.Length is 0 or > OpsMax || ops[0].Account != s.Key.Account || ops[0].Id != s.Key.Id || SagaPlanner.BalancingCycle(ops))
            return (null, Codes.InvalidRequest);
        return (new SagaStarted(ops, checked(now + (long)lockTimeout.TotalMilliseconds), now), null);
    }

    /// <summary>The outcome of every operation, once decided (api.md: the failing one's code, <c>linked_operation_failed</c> for the rest).</summary>
    public static OpOutcome[] Outcomes(SagaState s) =>
        [.. s.Ops.Select((op, i) => new OpOutcome(op.Id, op.Account, s.Commit, CodeOf(s.Commit, s.FailedOp, s.Code, i), s.Commit ? s.Fills![i] : null))];

    /// <summary>
    /// Operation <paramref name="op"/>'s code under a decision: none when committed; aborted, the failing operation's
    /// own code, <c>linked_operation_failed</c> for the others — or, when no single operation failed (−1), the code for all.
    /// </summary>
    public static string? CodeOf(bool commit, int failedOp, string? code, int op) =>
        commit ? null : failedOp < 0 || op == failedOp ? code : Codes.LinkedOperationFailed;

    public static void Apply(SagaState s, ISagaEvent e)
    {
        switch (e)
        {
            case SagaStarted st:
                s.Phase = SagaPhase.Started;
                s.Ops = st.Ops;
                s.Fingerprint = FingerprintOf(st.Ops);
                s.ExpiresAt = st.ExpiresAt;
                s.StartedAt = st.At;
                break;
            case SagaDecided d:
                if (s.Phase != SagaPhase.Started) throw new InvalidOperationException($"saga {s.Key} decided twice");
                s.Phase = SagaPhase.Decided;
                s.Commit = d.Commit;
                s.FailedOp = d.FailedOp;
                s.Code = d.Code;
                s.Fills = d.Fills;
                s.DecidedAt = d.At;
                break;
            case SagaFinished:
                s.Phase = SagaPhase.Finished;
                break;
            default:
                throw new ArgumentException($"unknown saga event {e.GetType().Name}", nameof(e));
        }
    }
}
