using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Ledger.Host.Bench;

/// <summary>
/// A PostgreSQL server of its own for a test or a bench run: the Debian package's <c>initdb</c> and
/// <c>pg_ctl</c> into a temporary directory, listening on a free loopback port, fsync on. As root it runs the
/// server as the <c>postgres</c> user (PostgreSQL refuses to run as root). Disposing stops it and deletes it.
/// </summary>
internal sealed class ThrowawayPostgres : IDisposable
{
    public const string BinDir = "/usr/lib/postgresql/15/bin";

    private readonly string _dir;

    private ThrowawayPostgres(string dir, int port)
    {
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50";

    /// <summary>Creates an empty database on this server; returns its connection string.</summary>
    public async Task<string> CreateDatabase(string name)
    {
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    public static bool Available => File.Exists(Path.Combine(BinDir, "initdb"));

    public static ThrowawayPostgres Start()
    {
        if (!Available) throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDir}); apt-get install postgresql-15");
        var dir = Path.Combine(Path.GetTempPath(), "ledger-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var port = FreePort();
        if (Environment.UserName == "root") Run("chown", "-R", "postgres:postgres", dir);
        Pg("initdb", "-D", Path.Combine(dir, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
        var pg = new ThrowawayPostgres(dir, port);
        pg.Resume();
        return pg;
    }

    /// <summary>Stops the server at once, as if it crashed (<c>pg_ctl stop -m immediate</c>); <see cref="Resume"/> starts it again.</summary>
    public void Halt() => Pg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop");

    public void Resume() =>
        Pg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-l", Path.Combine(_dir, "log"), "-w", "-t", "60", "start",
            "-o", $"-p {Port.ToString(CultureInfo.InvariantCulture)} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200 -c shared_buffers=256MB");

    public void Dispose()
    {
        try
        {
            Halt();
        }
        catch (InvalidOperationException)
        {
            // Already halted.
        }
        finally
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static void Pg(string tool, params string[] args)
    {
        var exe = Path.Combine(BinDir, tool);
        if (Environment.UserName == "root") Run("runuser", ["-u", "postgres", "--", exe, .. args]);
        else Run(exe, args);
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {error.Result}{output.Result}");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
