using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ledger.Tests.Generated;

/// <summary>How the generated client writes its requests; kept apart from the generated file, which is written anew.</summary>
public partial class LedgerApiClient
{
    /// <summary>
    /// An optional field left unset is left out, not sent as null: a batch's operation carries only the fields of its own
    /// type (the gateway refuses a swap's field in a transfer even when null), as api.md writes it.
    /// </summary>
    static partial void UpdateJsonSerializerSettings(JsonSerializerOptions settings) =>
        settings.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
}
