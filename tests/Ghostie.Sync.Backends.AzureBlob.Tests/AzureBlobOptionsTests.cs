using System.Net;
using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Tests;

/// <summary>Options, connection strings, environment variables, error mapping of service codes, and DI; no server.</summary>
public sealed class AzureBlobOptionsTests
{
    private static readonly Uri Endpoint = new("https://myaccount.blob.core.windows.net");

    private static AzureBlobBackendOptions Valid() => new() { ServiceUri = Endpoint, AccountKey = Servers.AzuriteKey, Container = "repo" };

    public static TheoryData<string, string> InvalidOptions => new()
    {
        { "no-endpoint", "ServiceUri is not set" },
        { "ftp", "absolute http or https" },
        { "no-credential", "No Azure credential" },
        { "both", "not both" },
        { "bad-key", "AccountKey is not valid base64" },
        { "bad-sas", "no 'sig' parameter" },
        { "container", "Container 'My_Repo'" },
        { "short-container", "Container 'ab'" },
        { "prefix", "Prefix '/lead'" },
        { "dot-prefix", "Prefix 'a/../b'" },
        { "block", "BlockSize" },
        { "threshold", "SinglePutThreshold" },
        { "page", "ListPageSize" },
        { "retry", "MaxAttempts" },
        { "account", "AccountName 'Bad-Name'" },
        { "no-account", "AccountName is not set" },
        { "connection", "part 2" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidOptions_AreRejectedWithAClearMessage_AndNoSecret(string what, string expected)
    {
        AzureBlobBackendOptions options = Valid();
        switch (what)
        {
            case "no-endpoint": options.ServiceUri = null; break;
            case "ftp": options.ServiceUri = new Uri("ftp://example.com"); break;
            case "no-credential": options.AccountKey = null; break;
            case "both": options.SasToken = "sv=1&sig=abc"; break;
            case "bad-key": options.AccountKey = "not base64 at all!"; break;
            case "bad-sas": options.AccountKey = null; options.SasToken = "sv=2021-12-02&sp=r"; break;
            case "container": options.Container = "My_Repo"; break;
            case "short-container": options.Container = "ab"; break;
            case "prefix": options.Prefix = "/lead"; break;
            case "dot-prefix": options.Prefix = "a/../b"; break;
            case "block": options.BlockSize = 1000; break;
            case "threshold": options.SinglePutThreshold = options.BlockSize + 1; break;
            case "page": options.ListPageSize = 5001; break;
            case "retry": options.Retry = new BackendRetryOptions { MaxAttempts = 0 }; break;
            case "account": options.AccountName = "Bad-Name"; break;
            case "no-account": options.ServiceUri = new Uri("https://storage.example.com"); break;
            case "connection": options.AccountKey = null; options.ConnectionString = "AccountName=x;" + Servers.AzuriteKey.TrimEnd('='); break;
        }

        var error = Assert.Throws<GhostieSyncException>(() => new AzureBlobBackend(options));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Servers.AzuriteKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not base64 at all", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConnectionStrings_FillEndpointAccountAndCredential()
    {
        using var standard = new AzureBlobBackend(new AzureBlobBackendOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey={Servers.AzuriteKey};EndpointSuffix=core.windows.net",
            Container = "repo",
        });
        Assert.Equal("Azure container 'repo' at https://myaccount.blob.core.windows.net", standard.DisplayName);

        using var development = new AzureBlobBackend(new AzureBlobBackendOptions { ConnectionString = "UseDevelopmentStorage=true", Container = "repo" });
        Assert.Equal("Azure container 'repo' at http://127.0.0.1:10000/devstoreaccount1", development.DisplayName);

        using var sas = new AzureBlobBackend(new AzureBlobBackendOptions
        {
            ConnectionString = "BlobEndpoint=https://other.blob.core.windows.net/;SharedAccessSignature=sv=2021-12-02&sp=racwdl&sig=c2ln",
            Container = "repo",
        });
        Assert.Equal("Azure container 'repo' at https://other.blob.core.windows.net", sas.DisplayName);
    }

    [Fact]
    public void LoadFromEnvironment_FillsOnlyUnsetCredentials()
    {
        var environment = new Dictionary<string, string>
        {
            [AzureBlobBackendOptions.AccountKeyVariable] = Servers.AzuriteKey,
            [AzureBlobBackendOptions.AccountNameVariable] = "envaccount",
            [AzureBlobBackendOptions.SasTokenVariable] = "sv=1&sig=x",
        };
        Func<string, string?> read = name => environment.GetValueOrDefault(name);

        AzureBlobBackendOptions fromEnvironment = new AzureBlobBackendOptions { ServiceUri = Endpoint, Container = "repo" }.LoadFromEnvironment(read);
        Assert.Equal(Servers.AzuriteKey, fromEnvironment.AccountKey);
        Assert.Null(fromEnvironment.SasToken);
        Assert.Equal("envaccount", fromEnvironment.AccountName);

        AzureBlobBackendOptions explicitSas = new AzureBlobBackendOptions { SasToken = "sv=2&sig=y", AccountName = "mine" }.LoadFromEnvironment(read);
        Assert.Null(explicitSas.AccountKey);
        Assert.Equal("sv=2&sig=y", explicitSas.SasToken);
        Assert.Equal("mine", explicitSas.AccountName);

        environment[AzureBlobBackendOptions.ConnectionStringVariable] = "UseDevelopmentStorage=true";
        AzureBlobBackendOptions connection = new AzureBlobBackendOptions { Container = "repo" }.LoadFromEnvironment(read);
        Assert.Equal("UseDevelopmentStorage=true", connection.ConnectionString);
        Assert.Null(connection.AccountKey);
        connection.Validate();
    }

    public static TheoryData<HttpStatusCode, string, GhostieErrorCode> ServiceErrors => new()
    {
        { HttpStatusCode.Forbidden, "AuthorizationFailure", GhostieErrorCode.AccessDenied },
        { HttpStatusCode.Forbidden, "AuthorizationPermissionMismatch", GhostieErrorCode.AccessDenied },
        { HttpStatusCode.Unauthorized, "InvalidAuthenticationInfo", GhostieErrorCode.AccessDenied },
        { HttpStatusCode.NotFound, "ContainerNotFound", GhostieErrorCode.StorageNotFound },
        { HttpStatusCode.BadRequest, "InvalidHeaderValue", GhostieErrorCode.BackendUnavailable },
        { HttpStatusCode.Conflict, "LeaseIdMissing", GhostieErrorCode.BackendUnavailable },
    };

    [Theory]
    [MemberData(nameof(ServiceErrors))]
    public async Task ServiceErrorCodes_MapToTypedErrors_WithoutRetrying(HttpStatusCode status, string code, GhostieErrorCode expected)
    {
        using var stub = new StubHandler(_ => StubHandler.Error(status, code));
        var clock = new RecordingTimeProvider();
        AzureBlobBackendOptions options = Valid();
        options.HttpMessageHandler = stub;
        options.Retry = new BackendRetryOptions { TimeProvider = clock };
        using var backend = new AzureBlobBackend(options);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("e/1", new MemoryStream([1])));

        Assert.Equal(expected, error.Code);
        Assert.False(error.IsTransient);
        Assert.Contains(code, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, stub.Calls);
        Assert.Empty(clock.Waits);
    }

    [Fact]
    public async Task ErrorCode_IsReadFromTheXmlBody_WhenTheHeaderIsAbsent()
    {
        using var stub = new StubHandler(_ => StubHandler.Error(HttpStatusCode.NotFound, null,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ContainerNotFound</Code><Message>The specified container does not exist.</Message></Error>"));
        AzureBlobBackendOptions options = Valid();
        options.HttpMessageHandler = stub;
        using var backend = new AzureBlobBackend(options);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.GetAsync("e/1"));

        Assert.Equal(GhostieErrorCode.StorageNotFound, error.Code);
        Assert.Contains(backend.DisplayName, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task ConditionalCommit_RefusedAsInvalidBlockList_ChecksTheCondition_ThenUploadsAgain(bool blobExistsNow, bool expectError)
    {
        using var stub = new StubHandler(request =>
        {
            string query = request.RequestUri!.Query;
            if (request.Method == HttpMethod.Head)
            {
                var head = blobExistsNow ? new HttpResponseMessage(HttpStatusCode.OK) : StubHandler.Error(HttpStatusCode.NotFound, "BlobNotFound");
                head.Headers.TryAddWithoutValidation("ETag", "\"0x1\"");
                return head;
            }

            return query.Contains("comp=blocklist", StringComparison.Ordinal)
                ? StubHandler.Error(HttpStatusCode.BadRequest, "InvalidBlockList")
                : new HttpResponseMessage(HttpStatusCode.Created);
        });
        AzureBlobBackendOptions options = Valid();
        options.HttpMessageHandler = stub;
        options.BlockSize = AzureBlobBackendOptions.MinBlockSize;
        options.SinglePutThreshold = AzureBlobBackendOptions.MinBlockSize;
        using var backend = new AzureBlobBackend(options);
        byte[] large = new byte[(3 * AzureBlobBackendOptions.MinBlockSize) + 1];

        if (expectError)
        {
            var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.TryCreateAsync("k/1", new MemoryStream(large)));
            Assert.Contains("InvalidBlockList", error.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.False(await backend.TryCreateAsync("k/1", new MemoryStream(large)));
        }

        // Each upload: 4 blocks, the refused commit, the check (one HEAD). A condition that still holds means the
        // blocks were discarded by a racing commit: the whole upload is done again, up to Retry.MaxAttempts times.
        Assert.Equal(expectError ? 6 * options.Retry.MaxAttempts : 6, stub.Calls);
    }

    [Fact]
    public async Task ServerBusy_IsRetried_HonouringRetryAfter_ThenGivesUpAsTransient()
    {
        using var stub = new StubHandler(_ => StubHandler.Error(HttpStatusCode.ServiceUnavailable, "ServerBusy", null, ("Retry-After", "2")));
        var clock = new RecordingTimeProvider();
        AzureBlobBackendOptions options = Valid();
        options.HttpMessageHandler = stub;
        options.Retry = new BackendRetryOptions { MaxAttempts = 3, TimeProvider = clock };
        using var backend = new AzureBlobBackend(options);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(async () =>
        {
            await foreach (string _ in backend.ListAsync(""))
            {
            }
        });

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Equal(3, stub.Calls);
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2)], clock.Waits);
    }

    [Fact]
    public void AddAzureBlobBackend_RegistersOneBackend_ResolvableByBothTypes()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.GetTempPath()).AddAzureBlobBackend(o =>
        {
            o.ServiceUri = Endpoint;
            o.AccountKey = Servers.AzuriteKey;
            o.Container = "repo";
        });
        using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        provider.GetRequiredService<IStartupValidator>().Validate();

        AzureBlobBackend backend = provider.GetRequiredService<AzureBlobBackend>();
        Assert.Same(backend, provider.GetRequiredService<IStorageBackend>());
        Assert.Same(backend, provider.GetRequiredService<GhostieSyncClient>().Backend);
        Assert.Equal("Azure container 'repo' at https://myaccount.blob.core.windows.net", backend.DisplayName);
    }

    [Fact]
    public void AddAzureBlobBackend_InvalidOptions_FailAtStart_WithTheReason()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.GetTempPath()).AddAzureBlobBackend(o =>
        {
            o.ServiceUri = Endpoint;
            o.AccountKey = Servers.AzuriteKey;
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("AzureBlobBackendOptions.Container ''", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Servers.AzuriteKey, error.Message, StringComparison.Ordinal);
    }
}
