using System.Numerics;
using Ledger.Contracts.Accounts;
using Ledger.Contracts.Farms;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;
using Xunit.Abstractions;

namespace Ledger.Tests.Contracts;

/// <summary>api.md 1.1's transfer options: balancing transfers, user data, and closing accounts.</summary>
public class TransferOptionsTests(ITestOutputHelper output)
{
    private static readonly AssetId Usd = new("USD");
    private readonly ContractWorld _w = ContractWorld.AliceBobAndBank();

    private static TransferRequest Request(string id, string to, ulong amount, bool balancing = false, string? userData = null, bool pending = false) =>
        new(new TxId(id), new AccountId(to), Usd, amount, pending, null, userData, balancing);

    private Transfer Tx(string account, string id) => _w.Record(new(account), new(account), new(id))!;

    [Fact]
    public void A_balancing_transfer_moves_what_is_available_and_an_issuers_moves_all()
    {
        // alice holds 1,000; 300 of them reserved by a pending transfer: 700 are available.
        _w.Transfer("alice", "bob", "USD", 300, "hold", pending: true);
        _w.DeliverAll();
        _w.Submit("alice", Request("b1", "bob", 5_000, balancing: true));
        _w.DeliverAll();
        Assert.Equal((new Amount(700), TransferStatus.Committed), (Tx("alice", "b1").Amount, Tx("alice", "b1").Status));
        Assert.Equal(0, _w.Balance("alice", "USD").Available);
        var none = _w.Submit("alice", Request("b2", "bob", 10, balancing: true));
        Assert.Equal((TransferStatus.Rejected, Codes.ZeroAmount), (Tx("alice", "b2").Status, Tx("alice", "b2").Code));
        Assert.Single(none.Events);
        // The same id and body again is a retry; the same id as a plain transfer is another request.
        Assert.Empty(_w.Submit("alice", Request("b1", "bob", 5_000, balancing: true)).Events);
        Assert.Equal(Codes.IdConflict, _w.Submit("alice", Request("b1", "bob", 5_000)).Rejection);
        _w.Submit("bank", Request("b3", "bob", 2_500, balancing: true));
        _w.DeliverAll();
        Assert.Equal(new Amount(2_500), Tx("bank", "b3").Amount);
        Assert.Equal(0, _w.Sums()[Usd]);
    }

    [Fact]
    public void User_data_is_kept_on_both_records_and_is_part_of_the_fingerprint()
    {
        _w.Submit("alice", Request("u1", "bob", 10, userData: "invoice 42"));
        _w.DeliverAll();
        Assert.Equal("invoice 42", Tx("alice", "u1").UserData);
        Assert.Equal("invoice 42", _w.State(new("bob")).Incoming[(new("alice"), new("u1"))].UserData);
        Assert.Equal(Codes.IdConflict, _w.Submit("alice", Request("u1", "bob", 10, userData: "invoice 43")).Rejection);
        Assert.Equal(Codes.IdConflict, _w.Submit("alice", Request("u1", "bob", 10)).Rejection);
        // Without user data or balancing the fingerprint is what it was before either existed.
        Assert.Equal(new TransferRequest(new("x"), new("bob"), Usd, 5, false, null).Fingerprint(new("alice")),
            Fingerprint.Of("transfer", "alice", "bob", "USD", "5", "0", null));
    }

    [Fact]
    public void An_account_closes_only_when_empty_and_then_refuses_value_in_and_out()
    {
        Assert.Equal(Codes.AccountNotEmpty, _w.Close("alice").Rejection);
        _w.Transfer("alice", "bob", "USD", 1_000, "all");
        Assert.Equal(Codes.AccountNotEmpty, _w.Close("alice").Rejection);   // still on its way to bob
        _w.DeliverAll();
        Assert.Null(_w.Close("alice").Rejection);
        Assert.True(_w.State(new("alice")).Closed);
        Assert.Empty(_w.Close("alice").Events);
        Assert.Equal(Codes.AccountClosed, _w.Transfer("alice", "bob", "USD", 1, "out").Rejection);
        Assert.Equal(Codes.AccountClosed, _w.CallPool("alice", "swap", new PoolCall(new("p"), PoolCallKind.SwapExactIn, [new Leg(Usd, 1)], Usd)).Rejection);
        // A credit to it is refused at the payee and comes back to the payer.
        _w.Transfer("bob", "alice", "USD", 5, "in");
        _w.DeliverAll();
        Assert.Equal((TransferStatus.Rejected, Codes.AccountClosed), (Tx("bob", "in").Status, Tx("bob", "in").Code));
        Assert.Equal(1_000, _w.Balance("bob", "USD").Posted);
        Assert.Equal(0, _w.Balance("alice", "USD").Posted);
        // It survives a snapshot.
        Assert.True(AccountSnapshot.Of(_w.State(new("alice"))).Restore(new("alice"), 100).Closed);
        Assert.Equal(Codes.AccountNotEmpty, _w.Close("bank").Rejection);
        Assert.Equal(Codes.AccountNotFound, _w.Close("nobody").Rejection);
    }

    [Fact]
    public void A_close_checked_against_the_venues_is_refused_if_the_account_called_a_venue_since()
    {
        _w.Transfer("alice", "bob", "USD", 1_000, "all");
        _w.DeliverAll();
        var alice = _w.State(new("alice"));
        var claim = new FarmCall(new("f"), FarmCallKind.Claim, [], Amount.Zero);
        AccountContract.Apply(alice, new VenueCallSent(new("claim"), claim, claim.Fingerprint(alice.Id), _w.Now));
        AccountContract.Apply(alice, new PoolCallAnswered(new("claim"), [], null, _w.Now));
        Assert.Equal((1L, new VenueRef("farm", "f")), (alice.VenueCalls, Assert.Single(alice.Venues)));
        // What the gateway checked (the venues after 0 calls) is not what is there now.
        Assert.Equal(Codes.AccountNotEmpty, AccountContract.Close(alice, _w.Now, venueCallsSeen: 0).Rejection);
        var restored = AccountSnapshot.Of(alice).Restore(alice.Id, 100);
        Assert.Equal((1L, new VenueRef("farm", "f")), (restored.VenueCalls, Assert.Single(restored.Venues)));
        Assert.Null(AccountContract.Close(restored, _w.Now, venueCallsSeen: 1).Rejection);
    }

    /// <summary>
    /// Random plain and balancing transfers of random amounts between two accounts, against a reference of what each
    /// has: a balancing transfer moves exactly min(amount, available) (refused with zero_amount at 0), a plain one all
    /// or nothing, and the two balances always sum to what was minted.
    /// </summary>
    [Fact]
    public void Balancing_transfers_move_min_of_amount_and_available()
    {
        var seen = new Coverage();
        PropertyRun.Check(Gens.Script(Gens.Word, 1, 40), script => Holds(script, seen), maxTest: 200, seed: 27_12_04, shrink: PropertyRun.ShrinkScript);
        seen.AssertFloors(output, ("balancing partial", 400), ("balancing whole", 300), ("balancing zero", 40), ("plain committed", 300), ("plain refused", 100));
    }

    private static bool Holds(uint[] script, Coverage seen)
    {
        var w = ContractWorld.AliceBobAndBank();
        var have = new Dictionary<string, BigInteger> { ["alice"] = 1_000, ["bob"] = 0 };
        for (var i = 0; i < script.Length; i++)
        {
            var v = Scripts.Mix(script[i] + (uint)i * 0x9E3779B9);
            var (from, to) = v % 2 == 0 ? ("alice", "bob") : ("bob", "alice");
            var amount = (ulong)((v >> 1) % 1_200 + 1);
            var balancing = (v >> 12) % 3 != 0;
            var id = "t" + i;
            w.Submit(from, Request(id, to, amount, balancing));
            w.DeliverAll();
            var t = w.Record(new(from), new(from), new(id))!;
            var expected = balancing ? BigInteger.Min(amount, have[from]) : have[from] >= amount ? amount : 0;
            if (expected == 0)
            {
                if (t.Status != TransferStatus.Rejected || t.Code != (balancing ? Codes.ZeroAmount : Codes.InsufficientFunds)) return false;
                seen.Add(balancing ? "balancing zero" : "plain refused");
                continue;
            }
            if (t.Status != TransferStatus.Committed || (BigInteger)t.Amount.Value != expected) return false;
            seen.Add(!balancing ? "plain committed" : expected == amount ? "balancing whole" : "balancing partial");
            (have[from], have[to]) = (have[from] - expected, have[to] + expected);
        }
        return w.Balance("alice", "USD").Posted == have["alice"] && w.Balance("bob", "USD").Posted == have["bob"];
    }
}
