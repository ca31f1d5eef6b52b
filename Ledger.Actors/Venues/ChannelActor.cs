using Akka.Actor;
using Ledger.Actors.Sharding;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Channels;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Actors.Venues;

/// <summary>
/// A payment channel (<see cref="ChannelContract"/>) on the venue host. Deposits arrive as venue calls of the
/// participants' accounts. Settling is recorded first (<see cref="ChannelSettled"/>); then the channel asks each
/// participant's account to call it for its payout, under one id per channel, and the channel pays each side once
/// (its payout decision is recorded). After a crash anywhere in between, the recovered channel asks again for every
/// payout not yet decided: the accounts answer a repeated call from their record, so each side is paid exactly once.
/// Only the newest answers stay in memory, as at every venue: an older one is read back from the journal when its call is
/// repeated (a close, update or settle included), so that refused updates sent without end cannot fill the memory.
/// </summary>
public sealed class ChannelActor(string entityId, Peers peers, TimeProvider time, VenueSettings settings)
    : VenueActor<IChannelEvent>("channel", time, settings)
{
    private static readonly TimeSpan PayoutAskTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PayoutRetryAfter = TimeSpan.FromSeconds(1);

    private ChannelState _state = new() { Id = new ChannelId(entityId) };
    /// <summary>Participants whose payout call is asked for and not yet confirmed by their account.</summary>
    private readonly HashSet<AccountId> _paying = [];
    /// <summary>Participants whose account refused its payout for good (closed): not asked again by this incarnation.</summary>
    private readonly HashSet<AccountId> _refused = [];
    /// <summary>Settle and close calls waiting for the payouts to be confirmed.</summary>
    private readonly List<IActorRef> _waiting = [];

    public static Props Props(string entityId, Peers peers, TimeProvider time, VenueSettings settings) =>
        Akka.Actor.Props.Create(() => new ChannelActor(entityId, peers, time, settings));

    /// <summary>The id of a participant's payout call: not a valid client id (<c>~</c>), so it never meets one of theirs.</summary>
    public static TxId PayoutId(ChannelId channel) => new("payout~" + channel.Value);

    public override string PersistenceId => "channel-" + _state.Id.Value;

    protected override string VenueId => _state.Id.Value;

    protected override AnswerStore Answers => _state.Answers;

    protected override Func<IChannelEvent, ((AccountId, TxId) Key, CallAnswer Answer)?> AnswerOf { get; } =
        static e => e is IChannelCall c ? (ChannelContract.AnswerKey(c), ChannelContract.AnswerOf(c)) : null;

    protected override bool IsQuery(object message) => message is GetChannel or GetChannelHoldings;

    protected override void Apply(IChannelEvent e) => ChannelContract.Apply(_state, e);

    protected override object Persisted(List<IChannelEvent> events) => new ChannelWrite([.. events]);

    protected override IReadOnlyList<IChannelEvent> Recovered(object persisted) => persisted is ChannelWrite w ? w.Events : [];

    protected override object Snapshot() => ChannelSnapshot.Of(_state);

    protected override void Restore(object snapshot) => _state = ((ChannelSnapshot)snapshot).Restore(new ChannelState { Id = _state.Id });

    protected override bool Busy => base.Busy || _paying.Count > 0;

    /// <summary>Settled before the last incarnation stopped with payouts not yet decided: ask for them again.</summary>
    protected override void OnRecovered()
    {
        base.OnRecovered();
        Pay();
    }

    protected override void OnMessage(object message)
    {
        switch (message)
        {
            case PayoutConfirmed confirmed:
                _paying.Remove(confirmed.Account);
                if (confirmed.Refused) _refused.Add(confirmed.Account);
                AnswerWhenPaid();
                break;
            case PayoutRetry retry:
                _paying.Remove(retry.Account);
                if (_state.Owed().Any(o => o.Account == retry.Account)) Timers.StartSingleTimer(retry, PayAgain.Instance, PayoutRetryAfter);
                AnswerWhenPaid();
                break;
            case PayAgain:
                Pay();
                break;
            default:
                base.OnMessage(message);
                break;
        }
    }

    protected override void Decide(object message, IActorRef sender, long now, PricesRead? prices, List<IChannelEvent> events, List<Action> after)
    {
        switch (message)
        {
            case OpenChannel o:
                {
                    var created = !_state.Exists;
                    var opened = new ChannelOpened(o.Asset, o.A, o.B, o.KeyA, o.KeyB, o.ChallengeMs, now);
                    var rejection = ChannelContract.Open(_state, opened);
                    Create(rejection is null && created ? [opened] : [], rejection, () => View(created), sender, events, after);
                    break;
                }
            case GetChannel:
                sender.Tell(_state.Exists ? View(false) : new Rejected(Codes.ChannelNotFound));
                break;
            case GetChannelHoldings:
                sender.Tell(new Holdings(_state.Exists ? [new Holding(_state.Asset, (Int128)_state.Held.Value, default, default)] : []));
                break;
            case ExecuteChannelCall call:
                {
                    if (AnsweredBefore(call, call.Account, call.Id, sender, after)) break;
                    var d = call.Call.Kind == ChannelCallKind.Deposit
                        ? ChannelContract.Deposit(_state, call.Account, call.Id, call.Call.In, call.Call.Amount, now)
                        : ChannelContract.Payout(_state, call.Account, call.Id, now);
                    Answer(d, call.Id, d.Out, d.Code, sender, events, after);
                    break;
                }
            case CloseChannel c:
                if (!Repeated(c, c.Account, c.Id, sender, after, out var fp))
                    Decided(ChannelContract.Close(_state, c.Account, c.Id, c.Proof, now) with { Fingerprint = fp }, sender, events, after);
                break;
            case UpdateChannel u:
                if (!Repeated(u, u.Account, u.Id, sender, after, out fp))
                    Decided(ChannelContract.Update(_state, u.Account, u.Id, u.Proof, now) with { Fingerprint = fp }, sender, events, after);
                break;
            case CloseChannelTogether t:
                if (!Repeated(t, t.Account, t.Id, sender, after, out fp))
                    Settled(ChannelContract.CloseCooperatively(_state, t.Account, t.Id, t.BalanceA, t.BalanceB, t.SignatureA, t.SignatureB, now) with { Fingerprint = fp },
                        sender, events, after);
                break;
            case SettleChannel s:
                if (!Repeated(s, s.Account, s.Id, sender, after, out fp))
                    Settled(ChannelContract.Settle(_state, s.Account, s.Id, now) is { } settled ? settled with { Fingerprint = fp } : null, sender, events, after);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// A call made before under the same (account, id): <c>id_conflict</c> if it asked for something else, else its refusal
    /// again, or the channel as it is now. Not made before: the request's <paramref name="fingerprint"/> to record.
    /// </summary>
    private bool Repeated(IChannelMessage command, AccountId account, TxId id, IActorRef sender, List<Action> after, out ulong fingerprint)
    {
        fingerprint = ChannelContract.FingerprintOf(command);
        if (!MadeBefore((IVenueCommand)command, account, ChannelContract.CommandKey(id), fingerprint, sender, out var known)) return false;
        if (known is null) return true;
        if (known.Code is null && _state.Status == ChannelStatus.Settled) WaitForPayouts(sender, after);
        else after.Add(() => sender.Tell(known.Code is { } code ? new Rejected(code) : View(false)));
        return true;
    }

    private void Decided<TCall>(TCall decided, IActorRef sender, List<IChannelEvent> events, List<Action> after) where TCall : IChannelCall
    {
        Record(decided, events);
        after.Add(() => sender.Tell(decided.Code is { } code ? new Rejected(code) : View(false)));
    }

    /// <summary>A settlement (or a settled channel, when null): answered once every payout is confirmed.</summary>
    private void Settled(ChannelSettled? settled, IActorRef sender, List<IChannelEvent> events, List<Action> after)
    {
        if (settled is { Code: { } code })
        {
            Decided(settled, sender, events, after);
            return;
        }
        if (settled is not null)
        {
            Record(settled, events);
            after.Add(Pay);
        }
        WaitForPayouts(sender, after);
    }

    private void WaitForPayouts(IActorRef sender, List<Action> after)
    {
        _waiting.Add(sender);
        after.Add(AnswerWhenPaid);
    }

    /// <summary>Asks each participant still owed its payout to call for it (the same call every time: idempotent).</summary>
    private void Pay()
    {
        foreach (var (account, amount) in _state.Owed())
        {
            if (_refused.Contains(account) || !_paying.Add(account)) continue;
            var call = new CallVenue(account, PayoutId(_state.Id), new ChannelCall(_state.Id, ChannelCallKind.Payout, [], amount));
            // A closed account refuses for good: its payout stays in the channel, and asking again would never end.
            peers.Accounts.Ask<ILedgerMessage>(call, PayoutAskTimeout).ContinueWith(t => !t.IsCompletedSuccessfully ? new PayoutRetry(account)
                : t.Result is TransferOutcome { Transaction.Status: not TransferStatus.InFlight } ? new PayoutConfirmed(account, false)
                : t.Result is TransferOutcome { Transaction: null, Code: Codes.AccountClosed } ? new PayoutConfirmed(account, true)
                : (object)new PayoutRetry(account)).PipeTo(Self);
        }
    }

    private void AnswerWhenPaid()
    {
        if (_paying.Count > 0 || _state.Owed().Any(o => !_refused.Contains(o.Account)) || _waiting.Count == 0) return;
        var view = View(false);
        foreach (var w in _waiting) w.Tell(view);
        _waiting.Clear();
    }

    private ChannelView View(bool created) => new(_state.Id, _state.Asset, _state.A, _state.B, _state.KeyA, _state.KeyB, _state.ChallengeMs, _state.DepositA,
        _state.DepositB, _state.Status, _state.ClosesAt, _state.ProofA, _state.ProofB, _state.SettleA, _state.SettleB, created);

    /// <summary>The account answered the payout call: paid, or (<paramref name="Refused"/>) refused for good.</summary>
    private sealed record PayoutConfirmed(AccountId Account, bool Refused) : INoSerializationVerificationNeeded;

    private sealed record PayoutRetry(AccountId Account) : INoSerializationVerificationNeeded;

    private sealed class PayAgain : INoSerializationVerificationNeeded
    {
        public static readonly PayAgain Instance = new();
    }
}

/// <summary>What a channel persists: the events of one write (group commit), as one journal row.</summary>
public sealed record ChannelWrite(IChannelEvent[] Events);
