using Ledger.Actors.Hosting;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ledger.Actors.Journal;

/// <summary>Answers whether the journal's database takes a query right now (for readiness).</summary>
public static class JournalProbe
{
    public static async Task<bool> IsReachable(LedgerNodeOptions o, CancellationToken ct)
    {
        if (o.Journal == "memory") return true;
        try
        {
            await using System.Data.Common.DbConnection c = o.Journal == "postgres"
                ? new NpgsqlConnection(o.ConnectionString)
                : new SqliteConnection(LedgerNode.SqliteConnectionString(o));
            await c.OpenAsync(ct);
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT 1";
            return await cmd.ExecuteScalarAsync(ct) is not null;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            return false;
        }
    }
}
