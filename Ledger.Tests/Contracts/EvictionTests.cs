using Ledger.Contracts.Accounts;
using Ledger.Contracts.Primitives;
using Ledger.Tests.Support;

namespace Ledger.Tests.Contracts;

/// <summary>Settled records leave memory and are read back from the journal when a request names them.</summary>
public class EvictionTests
{
    private readonly ContractWorld _w = ContractWorld.AliceBobAndBank(keepSettled: 0);
    private static readonly AccountId Alice = new("alice");

    private AccountState AliceState => _w.State(Alice);

    [Fact]
    public void Settled_records_leave_memory_and_open_ones_stay()
    {
        _w.Transfer("alice", "bob", "USD", 100, "t1");
        _w.Transfer("alice", "bob", "USD", 50, "p1", pending: true);
        _w.DeliverAll();
        Assert.False(AliceState.Outgoing.ContainsKey(new("t1")));
        Assert.True(AliceState.Outgoing.ContainsKey(new("p1")));
        Assert.Equal(Known.Evicted, AliceState.FindOutgoing(new("t1"), out _));
        Assert.Equal(Known.Absent, AliceState.FindOutgoing(new("never"), out _));
        Assert.Equal(TransferStatus.Committed, _w.Record(Alice, Alice, new("t1"))!.Status);
    }

    [Fact]
    public void A_retry_of_an_evicted_transfer_is_answered_from_the_journal_and_a_changed_body_is_a_conflict()
    {
        _w.Transfer("alice", "bob", "USD", 100, "t1");
        _w.DeliverAll();
        var retry = _w.Transfer("alice", "bob", "USD", 100, "t1");
        Assert.Equal(1, _w.ReadBacks);
        Assert.Empty(retry.Events);
        Assert.Equal(new TxId("t1"), retry.Awaits);
        _w.DeliverAll();
        Assert.Equal(Codes.IdConflict, _w.Transfer("alice", "bob", "USD", 101, "t1").Rejection);
        Assert.Equal(900, _w.Balance("alice", "USD").Posted);
        Assert.Equal(100, _w.Balance("bob", "USD").Posted);
    }

    [Fact]
    public void Posting_an_evicted_voided_reservation_reads_it_back_and_is_already_voided()
    {
        _w.Transfer("alice", "bob", "USD", 100, "p1", pending: true);
        _w.DeliverAll();
        _w.Void("alice", "p1");
        _w.DeliverAll();
        Assert.False(AliceState.Outgoing.ContainsKey(new("p1")));
        Assert.Equal(Codes.AlreadyVoided, _w.Post("alice", "p1").Rejection);
        Assert.True(_w.ReadBacks > 0);
        Assert.Equal(1_000, _w.Balance("alice", "USD").Posted);
    }

    [Fact]
    public void A_late_duplicate_credit_of_an_evicted_record_is_acknowledged_and_not_credited_again()
    {
        _w.Transfer("alice", "bob", "USD", 100, "t1");
        var delivery = _w.Network.Single();
        _w.DeliverAll();
        _w.Network.Add(delivery);
        _w.DeliverAll();
        Assert.Equal(100, _w.Balance("bob", "USD").Posted);
        Assert.Equal(0, _w.Sums()[new AssetId("USD")]);
    }

    [Fact]
    public void A_hash_collision_is_found_out_by_the_read_and_the_id_is_used_as_new()
    {
        AliceState.Seen.Add(AccountState.KeyHash(Alice, new("fresh")), 0);
        var d = _w.Transfer("alice", "bob", "USD", 10, "fresh");
        Assert.Equal(1, _w.ReadBacks);
        Assert.IsType<TransferDebited>(Assert.Single(d.Events));
        _w.DeliverAll();
        Assert.Equal(10, _w.Balance("bob", "USD").Posted);
    }

    [Fact]
    public void Old_history_is_read_back_by_record_hash_and_by_position_alike()
    {
        for (var i = 0; i < 10; i++) _w.Transfer("alice", "bob", "USD", 1, "t" + i);
        _w.DeliverAll();
        var s = AliceState;
        Assert.Equal(11, s.HistoryCount); // the mint and ten transfers
        var byHash = _w.Page(Alice, 1, 4);
        Assert.Equal(["t0", "t1", "t2"], byHash.Select(t => t.Id.Value));
        Assert.All(byHash, t => Assert.Equal(TransferStatus.Committed, t.Status));
        var byPosition = _w.Replay(Alice, new AccountReplay(Alice, [], null, 1, 4)).Positions;
        Assert.Equivalent(byPosition, byHash, strict: true);
    }

    [Fact]
    public void A_read_back_starts_where_the_record_was_made_and_stops_once_it_is_settled()
    {
        for (var i = 0; i < 30; i++)
        {
            _w.Transfer("alice", "bob", "USD", 1, "t" + i);
            _w.DeliverAll();
        }
        var rowsBefore = _w.RowsRead;
        Assert.Equal(TransferStatus.Committed, _w.Record(Alice, Alice, new("t27"))!.Status);
        // t27's debit and its acknowledgement: two rows of alice's 61 (a read from the start would take 57).
        Assert.Equal(2, _w.RowsRead - rowsBefore);
        rowsBefore = _w.RowsRead;
        Assert.Equal(["t25", "t26", "t27"], _w.Page(Alice, 26, 29).Select(t => t.Id.Value));
        Assert.Equal(6, _w.RowsRead - rowsBefore);
    }

    [Fact]
    public void A_snapshot_holds_what_memory_holds_and_restores_it()
    {
        for (var i = 0; i < 5; i++) _w.Transfer("alice", "bob", "USD", 1, "t" + i);
        _w.Transfer("alice", "bob", "USD", 50, "p1", pending: true, timeoutMs: 1_000);
        _w.DeliverAll();
        var snap = AccountSnapshot.Of(AliceState);
        var restored = snap.Restore(Alice, AliceState.HistoryKeep);
        Assert.Equivalent(snap, AccountSnapshot.Of(restored), strict: true);
        Assert.Equal(AliceState.Seen.OrderBy(kv => kv.Key), restored.Seen.OrderBy(kv => kv.Key));
        Assert.Equal(AliceState.HistoryKeys, restored.HistoryKeys);
        Assert.Contains(restored.Seen.Values, seq => seq > 1);
        Assert.Null(snap.HistoryKeys); // marked among the hashes, a bit each
        Assert.Equal(Known.Evicted, restored.FindOutgoing(new("t3"), out _));
        Assert.Equal(AliceState.NextExpiry(), restored.NextExpiry());
        Assert.Single(snap.Resident!);
    }

    [Fact]
    public void A_snapshot_from_before_journal_positions_reads_its_records_from_the_start_and_its_history_by_counting()
    {
        for (var i = 0; i < 6; i++) _w.Transfer("alice", "bob", "USD", 1, "t" + i);
        _w.DeliverAll();
        var old = AccountSnapshot.Of(AliceState) with { SeenAt = null, HistoryKeys = null, HistoryKeysFrom = 0, HistoryMarks = null };
        var restored = old.Restore(Alice, AliceState.HistoryKeep);
        Assert.All(restored.Seen.Values, seq => Assert.Equal(0, seq));
        Assert.Equal(restored.HistoryCount, restored.HistoryKeysFrom);
        Assert.Null(restored.HistoryKeyAt(2));
        _w.Accounts[Alice] = restored;
        Assert.Equal(["t1", "t2", "t3"], _w.Page(Alice, 2, 5).Select(t => t.Id.Value));
        Assert.Equal(TransferStatus.Committed, _w.Record(Alice, Alice, new("t1"))!.Status);
    }

    [Fact]
    public void A_snapshot_whose_history_is_not_in_the_order_of_its_hashes_writes_the_history_hashes_out()
    {
        // A hash known before its record is made (as a collision would be): the history lists it after "x", Seen before.
        AliceState.Seen.Add(AccountState.KeyHash(Alice, new("fresh")), 0);
        _w.Transfer("alice", "bob", "USD", 1, "x");
        _w.Transfer("alice", "bob", "USD", 1, "fresh");
        _w.DeliverAll();
        var snap = AccountSnapshot.Of(AliceState);
        Assert.Null(snap.HistoryMarks);
        Assert.NotNull(snap.HistoryKeys);
        Assert.Equal(AliceState.HistoryKeys, snap.Restore(Alice, AliceState.HistoryKeep).HistoryKeys);
    }
}
