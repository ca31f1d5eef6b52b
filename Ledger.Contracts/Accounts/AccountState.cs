using Ledger.Contracts.Primitives;

namespace Ledger.Contracts.Accounts;

public enum TransferStatus
{
    /// <summary>Debited on the payer; the payee has not yet confirmed the credit.</summary>
    InFlight,
    Pending,
    Committed,
    Rejected,
    Voided,
    Expired,
}

public sealed class Balance
{
    public Int128 Posted { get; set; }
    public Amount PendingOut { get; set; }
    public Amount PendingIn { get; set; }

    /// <summary><c>posted − pending_out</c>: what may still be spent. Never negative for a non-issuer.</summary>
    public Int128 Available => Posted - (Int128)PendingOut.Value;
}

/// <summary>
/// One transfer as an account sees it: the payer's copy (<see cref="From"/> is this account) carries the
/// idempotency fingerprint and the delivery progress; the payee's copy mirrors the outcome.
/// </summary>
public sealed class Transfer
{
    public required TxId Id { get; init; }
    public required AccountId From { get; init; }
    public required AccountId To { get; init; }
    public required AssetId Asset { get; init; }
    public required Amount Amount { get; init; }
    public bool IsPending { get; init; }
    public long? TimeoutMs { get; init; }
    public long? ExpiresAt { get; init; }
    public ulong Fingerprint { get; init; }
    public TransferStatus Status { get; set; }
    public string? Code { get; set; }
    public Amount? PostedAmount { get; set; }
    /// <summary>What the post asked for (null: all); a repeated post with the same request is a retry.</summary>
    public Amount? PostRequested { get; set; }
    public long CreatedAt { get; init; }
    public long? CompletedAt { get; set; }
    /// <summary>Payer only: delivery steps owed to the payee (1: the credit, 2: the resolution of a pending one).</summary>
    public int StepsOwed { get; set; }
    public int StepsAcked { get; set; }

    public bool AwaitsDelivery => StepsAcked < StepsOwed;

    /// <summary>The amount that actually moved (or would move) between the two accounts.</summary>
    public Amount MovedAmount => PostedAmount ?? Amount;
}

/// <summary>The state of one account. Mutated only by <see cref="AccountContract.Apply"/>.</summary>
public sealed class AccountState
{
    public required AccountId Id { get; init; }
    public bool Exists { get; set; }
    public string Owner { get; set; } = "";
    public long OpenedAt { get; set; }
    public Dictionary<AssetId, Balance> Balances { get; } = [];
    public HashSet<AssetId> IssuerOf { get; } = [];
    /// <summary>Transfers this account initiated, by id: the idempotency records.</summary>
    public Dictionary<TxId, Transfer> Outgoing { get; } = [];
    /// <summary>Transfers received, by (payer, id): de-duplicates redelivered credits.</summary>
    public Dictionary<(AccountId From, TxId Id), Transfer> Incoming { get; } = [];
    /// <summary>Every transfer touching this account, oldest first (the transaction list).</summary>
    public List<Transfer> History { get; } = [];
    /// <summary>Deadlines of this account's open reservations, earliest first (kept by <see cref="AccountContract.Apply"/>).</summary>
    public SortedSet<(long ExpiresAt, string Id)> Deadlines { get; } = [];

    public Balance BalanceOf(AssetId asset)
    {
        if (!Balances.TryGetValue(asset, out var b)) Balances[asset] = b = new Balance();
        return b;
    }

    /// <summary>The earliest deadline of an open reservation, if any.</summary>
    public long? NextExpiry() => Deadlines.Count > 0 ? Deadlines.Min.ExpiresAt : null;

    /// <summary>
    /// Value this account has debited from <c>posted</c> whose credit it has not yet seen confirmed, with the
    /// delivery step that carries it. Until the payee applies that step the value is "in flight": per asset,
    /// all <c>posted</c> balances plus everything in flight sum to zero.
    /// </summary>
    public IEnumerable<(Transfer Transfer, int Step, Amount Amount)> Unconfirmed()
    {
        foreach (var t in Outgoing.Values)
        {
            if (t.Status == TransferStatus.InFlight && !t.IsPending) yield return (t, 1, t.Amount);
            else if (t.IsPending && t.Status == TransferStatus.Committed && t.AwaitsDelivery) yield return (t, 2, t.PostedAmount!.Value);
        }
    }

    /// <summary>Payee side: has delivery <paramref name="step"/> of this payer's transfer been applied here?</summary>
    public bool HasApplied(AccountId payer, TxId id, int step) =>
        Incoming.TryGetValue((payer, id), out var t) && t.Status != TransferStatus.Rejected && (step == 1 || t.Status != TransferStatus.Pending);
}
