using System.Net;
using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>SAS authorization against Azurite, with account SAS tokens built from the development key.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobSasTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset FarFuture = new(2099, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static MemoryStream Bytes(params byte[] data) => new(data, writable: false);

    private async Task<(AzureBlobBackend Backend, string Token)> SasBackendAsync(string permissions, DateTimeOffset expiry,
        Action<AzureBlobBackendOptions>? configure = null, string resourceTypes = "sco")
    {
        using AzureBlobBackend owner = await azurite.NewBackendAsync();
        string token = AccountSas.Create(Servers.AzuriteAccount, Servers.AzuriteKey, permissions, expiry, resourceTypes);
        var options = new AzureBlobBackendOptions { ServiceUri = azurite.ServiceUri, SasToken = "?" + token, Container = owner.Container };
        configure?.Invoke(options);
        return (new AzureBlobBackend(options), token);
    }

    private static void AssertNoSas(Exception error, string token)
    {
        string text = error.ToString();
        Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        foreach (string signature in AccountSas.SignatureOf(token))
        {
            Assert.DoesNotContain(signature, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AccountSas_WithTheDocumentedMinimum_RoundTrip_ListingWithPaging_Conditions_AndDelete()
    {
        (AzureBlobBackend backend, _) = await SasBackendAsync("rwdl", FarFuture, o => o.ListPageSize = 3, resourceTypes: "co");
        using (backend)
        {
            byte[] data = new byte[100_000];
            new Random(3).NextBytes(data);
            await backend.PutAsync("s/data", Bytes(data));
            for (int i = 0; i < 7; i++)
            {
                await backend.PutAsync($"s/n/{i}", Bytes((byte)i));
            }

            Assert.Equal(data, await backend.ReadAllAsync("s/data"));
            Assert.Equal(Enumerable.Range(0, 7).Select(i => $"s/n/{i}"), await backend.ListAsync("s/n/").ToListAsync());
            Assert.True(await backend.TryCreateAsync("s/once", Bytes(1)));
            Assert.False(await backend.TryCreateAsync("s/once", Bytes(2)));
            Assert.True(await backend.DeleteAsync("s/data"));
            Assert.Null(await backend.GetAsync("s/data"));
            Assert.Null(await backend.GetVersionAsync("s/data"));
        }
    }

    [Fact]
    public async Task SasWithUnescapedSignature_PlusAndSlash_IsEscapedBeforeSending()
    {
        // Some tools show the token decoded: a raw '+' in sig would reach the service as a space and fail.
        using AzureBlobBackend owner = await azurite.NewBackendAsync();
        string raw = "";
        for (int seconds = 0; !(raw.Contains('+', StringComparison.Ordinal) && raw.Contains('/', StringComparison.Ordinal)); seconds++)
        {
            string token = AccountSas.Create(Servers.AzuriteAccount, Servers.AzuriteKey, "rwdl", FarFuture.AddSeconds(seconds));
            raw = string.Join('&', token.Split('&').Select(Uri.UnescapeDataString));
        }

        using var backend = new AzureBlobBackend(new AzureBlobBackendOptions { ServiceUri = azurite.ServiceUri, SasToken = raw, Container = owner.Container });
        await backend.PutAsync("u/1", Bytes(4, 2));

        Assert.Equal(new byte[] { 4, 2 }, await backend.ReadAllAsync("u/1"));
        Assert.Equal(["u/1"], await backend.ListAsync("").ToListAsync());
    }

    [Fact]
    public async Task SasPastedIntoServiceUri_IsUsed_AndNeverShown()
    {
        using AzureBlobBackend owner = await azurite.NewBackendAsync();
        string token = AccountSas.Create(Servers.AzuriteAccount, Servers.AzuriteKey, "racwdl", FarFuture);
        using var backend = new AzureBlobBackend(new AzureBlobBackendOptions { ServiceUri = new Uri(azurite.ServiceUri + "?" + token), Container = owner.Container });

        await backend.PutAsync("u/1", Bytes(9));

        Assert.Equal(["u/1"], await backend.ListAsync("").ToListAsync());
        Assert.DoesNotContain("sig", backend.DisplayName, StringComparison.Ordinal);
        Assert.DoesNotContain("?", backend.DisplayName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadOnlySas_WritesAreAccessDenied_WithoutTheToken()
    {
        (AzureBlobBackend backend, string token) = await SasBackendAsync("rl", FarFuture);
        using (backend)
        {
            var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("w/1", Bytes(1)));

            Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
            Assert.Contains("SAS token", error.Message, StringComparison.Ordinal);
            Assert.Contains(backend.DisplayName, error.Message, StringComparison.Ordinal);
            AssertNoSas(error, token);
            Assert.Empty(await backend.ListAsync("").ToListAsync());
        }
    }

    [Fact]
    public async Task ExpiredSas_IsAccessDenied_AtOnce()
    {
        (AzureBlobBackend backend, string token) = await SasBackendAsync("racwdl", new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using (backend)
        {
            var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.GetAsync("x/1"));
            Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
            Assert.Equal(1, backend.RequestCount);
            AssertNoSas(error, token);
        }
    }

    [Fact]
    public async Task NetworkErrorsThatQuoteTheUrl_AreScrubbedOfTheSas()
    {
        string token = AccountSas.Create(Servers.AzuriteAccount, Servers.AzuriteKey, "racwdl", FarFuture);
        using var stub = new StubHandler(request => throw new HttpRequestException(HttpRequestError.ConnectionError,
            $"Connection refused while sending to {request.RequestUri}", new IOException($"reset: {request.RequestUri}")));
        using var backend = new AzureBlobBackend(new AzureBlobBackendOptions
        {
            ServiceUri = azurite.ServiceUri,
            SasToken = token,
            Container = "scrub",
            HttpMessageHandler = stub,
            Retry = new BackendRetryOptions { MaxAttempts = 2, TimeProvider = new RecordingTimeProvider() },
        });

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("n/1", Bytes(1)));

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Equal(2, stub.Calls);
        AssertNoSas(error, token);
        Assert.Contains("ConnectionError", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthenticationErrorDetails_FromTheService_AreNotRepeated()
    {
        const string detail = "The MAC signature found in the HTTP request 'c2VjcmV0LXNpZ25hdHVyZQ==' is not the same as any computed signature.";
        using var stub = new StubHandler(_ => StubHandler.Error(HttpStatusCode.Forbidden, null,
            $"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message><AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail></Error>"));
        using var backend = new AzureBlobBackend(new AzureBlobBackendOptions
        {
            ServiceUri = new Uri("https://myaccount.blob.core.windows.net"),
            AccountKey = Servers.AzuriteKey,
            Container = "repo",
            HttpMessageHandler = stub,
        });

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.DeleteAsync("d/1"));

        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Contains("AuthenticationFailed", error.Message, StringComparison.Ordinal);
        Assert.Contains("account key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LXNpZ25hdHVyZQ", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Servers.AzuriteKey, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, stub.Calls);
        Assert.Equal("Azure container 'repo' at https://myaccount.blob.core.windows.net", backend.DisplayName);
    }
}
