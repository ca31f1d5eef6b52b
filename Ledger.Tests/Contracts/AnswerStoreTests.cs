using Ledger.Contracts.Accounts;
using Ledger.Contracts.Pools;
using Ledger.Contracts.Primitives;

namespace Ledger.Tests.Contracts;

/// <summary>The venues' answer store: bounded in memory, every key recognised, read back from where it was written.</summary>
public class AnswerStoreTests
{
    private static readonly AccountId Alice = new("alice"), Bob = new("bob");
    private static readonly CallAnswer Paid = new([new Leg(new AssetId("USD"), 7)], null);
    private static readonly CallAnswer Refused = new([], Codes.SlippageExceeded);

    private static AnswerStore TwoAnswers()
    {
        var store = new AnswerStore { JournalSeq = 5 };
        store.Remember(Alice, new("a"), Paid);
        store.JournalSeq = 9;
        store.Remember(Bob, new("b"), Refused);
        return store;
    }

    [Fact]
    public void Evicted_answers_are_recognised_and_read_from_where_they_were_written()
    {
        var store = TwoAnswers();
        store.Evict(1);
        Assert.Equal(Known.Evicted, store.Find(Alice, new("a"), out _));
        Assert.Equal(Known.Resident, store.Find(Bob, new("b"), out var kept));
        Assert.Equal(Refused, kept);
        store.Evict(0);
        Assert.Equal(Known.Absent, store.Find(Alice, new("b"), out _));
        Assert.Equal(9, store.ReadFrom([(Bob, new TxId("b"))]));
        Assert.Equal(5, store.ReadFrom([(Bob, new TxId("b")), (Alice, new TxId("a"))]));
        Assert.Equal(2, store.Count);
    }

    [Fact]
    public void A_key_read_back_and_not_found_is_free_until_it_is_answered()
    {
        var store = TwoAnswers();
        store.Evict(0);
        store.Collided(Alice, new("a"));
        Assert.Equal(Known.Absent, store.Find(Alice, new("a"), out _));
        store.Remember(Alice, new("a"), Paid);
        Assert.Equal(Known.Resident, store.Find(Alice, new("a"), out _));
    }

    [Fact]
    public void A_snapshot_keeps_what_is_held_and_where_every_answer_was_written()
    {
        var store = TwoAnswers();
        store.Evict(1);
        var (answers, seen, seenRuns) = store.ToSnapshot();
        var back = new AnswerStore();
        back.Restore(answers, seen, seenRuns);
        Assert.Equal(Known.Evicted, back.Find(Alice, new("a"), out _));
        Assert.Equal(Known.Resident, back.Find(Bob, new("b"), out var kept));
        Assert.Equal(Refused.Code, kept!.Code);
        Assert.Equal(5, back.ReadFrom([(Alice, new TxId("a"))]));
        Assert.Equal(9, back.ReadFrom([(Bob, new TxId("b"))]));

        // A snapshot written before positions were kept: its keys are read from the start of the journal.
        var old = new AnswerStore();
        old.Restore(answers, seen, null);
        Assert.Equal(Known.Evicted, old.Find(Alice, new("a"), out _));
        Assert.Equal(0, old.ReadFrom([(Alice, new TxId("a"))]));

        // One written with a sequence number per hash (little-endian, in the order of the hashes).
        var perHash = new byte[2 * sizeof(long)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(perHash, 5);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(perHash.AsSpan(sizeof(long)), 9);
        var perKey = new AnswerStore();
        perKey.Restore(answers, seen, null, perHash);
        Assert.Equal(9, perKey.ReadFrom([(Bob, new TxId("b"))]));
        Assert.Equal(5, perKey.ReadFrom([(Bob, new TxId("b")), (Alice, new TxId("a"))]));
    }

    [Fact]
    public void The_answers_of_one_write_share_one_position_in_a_snapshot()
    {
        var store = new AnswerStore { JournalSeq = 3 };
        for (var i = 0; i < 1_000; i++) store.Remember(Alice, new TxId("w1-" + i), Paid);
        store.JournalSeq = 4;
        for (var i = 0; i < 500; i++) store.Remember(Bob, new TxId("w2-" + i), Paid);
        store.Evict(0);
        var (_, seen, seenRuns) = store.ToSnapshot();
        Assert.Equal(1_500 * sizeof(ulong), seen.Length);
        // Two runs of (64-bit sequence number, 32-bit length), whatever the number of answers in each.
        Assert.Equal(2 * (sizeof(long) + sizeof(int)), seenRuns.Length);
        var back = new AnswerStore();
        back.Restore([], seen, seenRuns);
        Assert.Equal(4, back.ReadFrom([(Bob, new TxId("w2-499"))]));
        Assert.Equal(3, back.ReadFrom([(Bob, new TxId("w2-0")), (Alice, new TxId("w1-999"))]));
        Assert.Equal(0, back.ReadFrom([(Bob, new TxId("never"))]));
    }
}
