using Akka.Actor;

namespace Ledger.Actors.Journal;

/// <summary>One entity's write, named by its (last) row.</summary>
public readonly record struct WriteRef(string PersistenceId, long SequenceNr);

/// <summary>
/// What an entity persists when its write must wait for others' writes not yet durable, or when it releases messages as
/// soon as the write is queued: <see cref="LedgerJournal"/> stores <see cref="Payload"/> alone, commits the write only if
/// every write in <see cref="After"/> committed (they were queued before it, on the same appender), and once the write is
/// queued tells each released message as <see cref="Released"/>.
/// </summary>
public sealed record Staged(object Payload, WriteRef[] After, (IActorRef To, object Message, IActorRef Sender)[] Release)
    : INoSerializationVerificationNeeded;

/// <summary>
/// A message sent before the writes it was decided after are durable (early lock release): whatever its receiver writes
/// next commits only if they did (<see cref="Staged.After"/>). Only ever sent to an entity of the same node, whose writes
/// go through the same appender and so are queued after them.
/// </summary>
public sealed record Released(WriteRef[] After, object Message) : INoSerializationVerificationNeeded;
