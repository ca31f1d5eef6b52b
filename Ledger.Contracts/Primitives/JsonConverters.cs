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

/// <summary>An id written as its plain string.</summary>
public abstract class StringIdJsonConverter<T>(Func<string, T> make, Func<T, string> text) : JsonConverter<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        make(reader.GetString()!);

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(text(value));
}

public sealed class AccountIdJsonConverter() : StringIdJsonConverter<AccountId>(v => new(v), id => id.Value);

public sealed class AssetIdJsonConverter() : StringIdJsonConverter<AssetId>(v => new(v), id => id.Value);

public sealed class TxIdJsonConverter() : StringIdJsonConverter<TxId>(v => new(v), id => id.Value);

public sealed class PoolIdJsonConverter() : StringIdJsonConverter<PoolId>(v => new(v), id => id.Value);

public sealed class MarketIdJsonConverter() : StringIdJsonConverter<MarketId>(v => new(v), id => id.Value);

public sealed class OptionIdJsonConverter() : StringIdJsonConverter<OptionId>(v => new(v), id => id.Value);

public sealed class PerpIdJsonConverter() : StringIdJsonConverter<PerpId>(v => new(v), id => id.Value);

public sealed class FarmIdJsonConverter() : StringIdJsonConverter<FarmId>(v => new(v), id => id.Value);
