using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Azure.Core;
using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>
/// OAuth (<see cref="AzureBlobBackendOptions.Credential"/>) against Azurite started with https and <c>--oauth basic</c>.
/// Azurite's basic OAuth decodes the bearer JWT and checks nbf/exp, an issuer starting with https://sts.windows.net/
/// (or another Entra STS), and a storage audience (https://storage.azure.com); it does not check the signature. The
/// certificate is self-signed, made with openssl at start, and trusted by thumbprint only.
/// </summary>
public sealed class AzureBlobOAuthTests : IAsyncLifetime
{
    private const string Issuer = "https://sts.windows.net/00000000-0000-0000-0000-00000000abcd/";
    private const string Audience = "https://storage.azure.com";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ghostie-azoauth-" + Guid.NewGuid().ToString("N")[..8]);
    private ServerProcess? _server;
    private string _thumbprint = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        string cert = Path.Combine(_folder, "cert.pem");
        string key = Path.Combine(_folder, "key.pem");
        var info = new ProcessStartInfo("/usr/bin/openssl") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                     "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost" })
        {
            info.ArgumentList.Add(a);
        }

        using (Process openssl = Process.Start(info)!)
        {
            string error = await openssl.StandardError.ReadToEndAsync();
            await openssl.WaitForExitAsync();
            Assert.True(openssl.ExitCode == 0, "openssl failed: " + error);
        }

        using (X509Certificate2 x509 = X509Certificate2.CreateFromPem(File.ReadAllText(cert)))
        {
            _thumbprint = x509.GetCertHashString(HashAlgorithmName.SHA256);
        }

        _server = await Servers.StartAzuriteOAuthAsync(cert, key);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    private HttpClientHandler PinnedHandler() => new()
    {
        ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            certificate is not null && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), _thumbprint, StringComparison.OrdinalIgnoreCase),
    };

    private AzureBlobBackend Backend(TokenCredential credential, HttpMessageHandler handler, string container) => new(new AzureBlobBackendOptions
    {
        ServiceUri = new Uri($"https://127.0.0.1:{_server!.Port}/{Servers.AzuriteAccount}"),
        Credential = credential,
        Container = container,
        HttpMessageHandler = handler,
    });

    private static string NewContainer() => "oauth-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Credential_PutGetListDelete_Succeed()
    {
        var credential = new FakeEntraCredential(Issuer, Audience, TimeSpan.FromHours(1));
        using HttpClientHandler handler = PinnedHandler();
        using AzureBlobBackend backend = Backend(credential, handler, NewContainer());
        Assert.True(await backend.CreateContainerIfNotExistsAsync());

        await backend.PutAsync("keys/a1", new MemoryStream([1, 2, 3], writable: false));
        await using (Stream? read = await backend.GetAsync("keys/a1"))
        {
            Assert.NotNull(read);
            using var copy = new MemoryStream();
            await read.CopyToAsync(copy);
            Assert.Equal(new byte[] { 1, 2, 3 }, copy.ToArray());
        }

        var names = new List<string>();
        await foreach (string name in backend.ListAsync("keys/"))
        {
            names.Add(name);
        }

        Assert.Equal(["keys/a1"], names);
        Assert.True(await backend.DeleteAsync("keys/a1"));
        Assert.Null(await backend.GetAsync("keys/a1"));
        Assert.True(credential.Issued > 0);
        Assert.All(credential.Scopes, s => Assert.Equal("https://storage.azure.com/.default", s));
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("audience")]
    [InlineData("issuer")]
    public async Task BadToken_IsAccessDenied_WithoutTheToken(string fault)
    {
        using HttpClientHandler handler = PinnedHandler();
        string container = NewContainer();
        using (AzureBlobBackend owner = Backend(new FakeEntraCredential(Issuer, Audience, TimeSpan.FromHours(1)), PinnedHandler(), container))
        {
            Assert.True(await owner.CreateContainerIfNotExistsAsync());
        }

        FakeEntraCredential bad = fault switch
        {
            "expired" => new FakeEntraCredential(Issuer, Audience, TimeSpan.FromMinutes(-5)),
            "audience" => new FakeEntraCredential(Issuer, "https://management.azure.com", TimeSpan.FromHours(1)),
            _ => new FakeEntraCredential("https://evil.example/tenant/", Audience, TimeSpan.FromHours(1)),
        };
        using AzureBlobBackend backend = Backend(bad, handler, container);
        GhostieSyncException error = await Assert.ThrowsAnyAsync<GhostieSyncException>(
            () => backend.PutAsync("keys/a1", new MemoryStream([1], writable: false)));
        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Equal(1, bad.Issued);
        string text = error.ToString();
        Assert.DoesNotContain(bad.LastToken!, text, StringComparison.Ordinal);
        foreach (string part in bad.LastToken!.Split('.').Where(p => p.Length > 0))
        {
            Assert.DoesNotContain(part, text, StringComparison.Ordinal);
        }
    }

    /// <summary>Mints a JWT with the claims Azurite's basic OAuth checks (iss, aud, nbf, exp) and a meaningless signature.</summary>
    private sealed class FakeEntraCredential(string issuer, string audience, TimeSpan lifetime) : TokenCredential
    {
        private int _issued;

        public int Issued => _issued;

        public string? LastToken { get; private set; }

        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (Scopes)
            {
                Scopes.AddRange(requestContext.Scopes);
            }

            Interlocked.Increment(ref _issued);
            DateTimeOffset now = DateTimeOffset.UtcNow;
            DateTimeOffset expires = now + lifetime;
            string header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT" }));
            string payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["aud"] = audience,
                ["iss"] = issuer,
                ["iat"] = (now - TimeSpan.FromHours(2)).ToUnixTimeSeconds(),
                ["nbf"] = (now - TimeSpan.FromHours(2)).ToUnixTimeSeconds(),
                ["exp"] = expires.ToUnixTimeSeconds(),
                ["oid"] = Guid.NewGuid().ToString(),
                ["tid"] = "00000000-0000-0000-0000-00000000abcd",
            }));
            string signature = Base64Url(RandomNumberGenerator.GetBytes(64));
            LastToken = $"{header}.{payload}.{signature}";
            // The SDK refreshes tokens near expiry: report a future expiry so an expired JWT is sent once, as issued.
            return new AccessToken(LastToken, now + TimeSpan.FromHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));

        private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
