using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ledger.Contracts.Primitives;

/// <summary>Amounts and signed balances travel as JSON strings of decimal digits (api.md), ids as plain strings.</summary>
public sealed class AmountJsonConverter : JsonConverter<Amount>
{
    public override Amount Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && Amount.TryParse(reader.GetString(), out var a)
            ? a
            : throw new JsonException("an amount is a string of decimal digits below 2^128");

    public override void Write(Utf8JsonWriter writer, Amount value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

public sealed class Int128JsonConverter : JsonConverter<Int128>
{
    public override Int128 Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Int128.Parse(reader.GetString() ?? throw new JsonException("expected a signed amount"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    public override void Write(Utf8JsonWriter writer, Int128 value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
}

public sealed class AccountIdJsonConverter : JsonConverter<AccountId>
{
    public override AccountId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);
    public override void Write(Utf8JsonWriter writer, AccountId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}

public sealed class AssetIdJsonConverter : JsonConverter<AssetId>
{
    public override AssetId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);
    public override void Write(Utf8JsonWriter writer, AssetId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}

public sealed class TxIdJsonConverter : JsonConverter<TxId>
{
    public override TxId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);
    public override void Write(Utf8JsonWriter writer, TxId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}

public sealed class PoolIdJsonConverter : JsonConverter<PoolId>
{
    public override PoolId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);
    public override void Write(Utf8JsonWriter writer, PoolId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}

public sealed class MarketIdJsonConverter : JsonConverter<MarketId>
{
    public override MarketId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);
    public override void Write(Utf8JsonWriter writer, MarketId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}

public sealed class FarmIdJsonConverter : JsonConverter<FarmId>
{
    public override FarmId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);
    public override void Write(Utf8JsonWriter writer, FarmId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}
