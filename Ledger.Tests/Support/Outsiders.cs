namespace Outsiders;

/// <summary>A type that is neither Akka's nor ours (its namespace says so): what an attacker would name on the wire.</summary>
public sealed record Gadget(string Command);
