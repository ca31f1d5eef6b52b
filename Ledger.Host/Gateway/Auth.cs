using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Ledger.Actors.Security;
using Ledger.Contracts.Primitives;
using Ledger.Contracts.Protocol;

namespace Ledger.Host.Gateway;

/// <summary>Who is calling: the operator (admin key) or the owner a key was issued to.</summary>
public sealed record Caller(bool IsAdmin, string? Owner);

/// <summary>No key, or an unknown one: <c>401</c>.</summary>
public sealed class UnauthorizedException(string detail) : Exception(detail);

/// <summary>A known key acting outside what it may: <c>403</c>.</summary>
public sealed class ForbiddenException(string detail) : Exception(detail);

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c> on every <c>/v1</c> request (api.md). The admin key comes from
/// <c>Ledger:AdminKey</c>, or is created once in the data directory; other keys are issued by <c>POST /v1/keys</c> and
/// stored only as SHA-256 hashes (a key is 32 random bytes, so a fast hash is enough), and revoked by
/// <c>DELETE /v1/keys/{key_id}</c>: the node's <see cref="KeyCache"/> drops a revoked key within a second. A key may act
/// only on accounts whose owner is its owner; reads of assets, pools, markets and farms are open to any key; the rest
/// is the admin's.
/// </summary>
public sealed class Auth(string adminKey, LedgerClient ledger, TimeProvider time) : IDisposable
{
    private readonly byte[] _admin = Encoding.UTF8.GetBytes(adminKey);
    private readonly KeyCache _keys = new(ledger.Regions.Keys, time);
    private readonly ConcurrentDictionary<AccountId, string> _accountOwners = new();

    public const string AdminKeyFile = "admin.key";

    /// <summary>The configured admin key, or the one in the data directory (created, and its location printed, the first time).</summary>
    public static string AdminKey(string? configured, string dataDir)
    {
        if (!string.IsNullOrEmpty(configured)) return configured;
        var path = Path.GetFullPath(Path.Combine(dataDir, AdminKeyFile));
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        Directory.CreateDirectory(dataDir);
        var key = NewKey();
        File.WriteAllText(path, key);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Console.WriteLine($"ledger: no Ledger:AdminKey configured; created an admin key in {path}");
        return key;
    }

    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A key's public name: random, so it says nothing about the key.</summary>
    public static string NewKeyId() => "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The caller of a <c>/v1</c> request, from its bearer key.</summary>
    public async Task<Caller> Identify(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || header.Length == 7)
            throw new UnauthorizedException("send 'Authorization: Bearer <key>'");
        var key = header[7..].Trim();
        if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), _admin)) return new Caller(true, null);
        return await _keys.Owner(Hash(key), ledger.Ask) is { } owner
            ? new Caller(false, owner)
            : throw new UnauthorizedException("unknown or revoked key");
    }

    public static Caller Of(HttpContext context) => context.Items[typeof(Caller)] as Caller ?? throw new UnauthorizedException("no caller");

    public static void RequireAdmin(HttpContext context)
    {
        if (!Of(context).IsAdmin) throw new ForbiddenException("only the admin key may do this");
    }

    /// <summary>The caller may act on <paramref name="account"/>: the admin, or a key of the account's owner.</summary>
    public async Task RequireAccount(HttpContext context, AccountId account)
    {
        if (!Of(context).IsAdmin && !await Owns(context, account)) throw new ForbiddenException($"this key may not act on '{account}'");
    }

    /// <summary>Whether the caller's key is one of <paramref name="account"/>'s owner (the admin key owns no account).</summary>
    public async Task<bool> Owns(HttpContext context, AccountId account)
    {
        var caller = Of(context);
        if (caller.IsAdmin) return false;
        if (!_accountOwners.TryGetValue(account, out var owner))
        {
            // An account's owner never changes, so what was read once holds.
            if (await ledger.Find(new GetAccount(account)) is not { } view) return false;
            owner = _accountOwners.GetOrAdd(account, view.Owner);
        }
        return owner == caller.Owner;
    }

    /// <summary>
    /// The caller may move value out of <paramref name="account"/>: as <see cref="RequireAccount"/>, except that a
    /// governor's treasury is spent only by its proposals' execution, never through the API — not even by the admin.
    /// </summary>
    public async Task RequireInitiator(HttpContext context, AccountId account)
    {
        if (account.Value.StartsWith(GovernorId.TreasuryPrefix, StringComparison.Ordinal))
            throw new ForbiddenException($"'{account}' is a treasury: only its governor's proposals spend from it");
        await RequireAccount(context, account);
    }

    public async Task RequireInitiators(HttpContext context, IEnumerable<AccountId> accounts)
    {
        foreach (var account in accounts.Distinct()) await RequireInitiator(context, account);
    }

    public void Dispose() => _keys.Dispose();
}
