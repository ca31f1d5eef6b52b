using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ledger.Tests.Support;

public static class Certificates
{
    public const string Password = "test-pfx-password";

    /// <summary>A self-signed certificate with its key, as an operator would make one with openssl, written to <c>dir/name.pfx</c>.</summary>
    public static string SelfSigned(string dir, string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var path = Path.Combine(dir, name + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return path;
    }
}
