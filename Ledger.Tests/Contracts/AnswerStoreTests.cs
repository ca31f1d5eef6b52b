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
        var (answers, seen, seenAt) = store.ToSnapshot();
        var back = new AnswerStore();
        back.Restore(answers, seen, seenAt);
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
    }
}
