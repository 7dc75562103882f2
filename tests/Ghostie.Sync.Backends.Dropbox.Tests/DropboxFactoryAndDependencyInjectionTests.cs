using Ghostie.Sync.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.Dropbox.Tests;

/// <summary>The Dropbox factory rebuilds a backend from the settings setup saves; the DI extensions register and validate it;
/// the health check probes it; options reject bad values with messages naming them.</summary>
public sealed class DropboxFactoryAndDependencyInjectionTests(DropboxDoubleFixture fixture) : IClassFixture<DropboxDoubleFixture>
{
    [Fact]
    public async Task Factory_SettingsFromOptions_ReachTheSameFolder_WithTheTokenFromItsVariable()
    {
        DropboxBackendOptions options = TestOptions.For(fixture.Server);
        var factory = new DropboxBackendFactory();
        Dictionary<string, string> settings = factory.GetSettings(options);
        Assert.Equal(new Dictionary<string, string>
        {
            ["folder"] = options.Folder, ["api"] = fixture.Server.ApiUri.ToString(), ["content"] = fixture.Server.ContentUri.ToString(),
            ["token_env"] = "GHOSTIE_DROPBOX_ACCESS_TOKEN",
        }, settings);

        using (var written = new DropboxBackend(options))
        {
            await written.PutAsync("h/one", new MemoryStream([6]));
        }

        var variables = new Dictionary<string, string> { ["GHOSTIE_DROPBOX_ACCESS_TOKEN"] = DropboxDoubleFixture.Token };
        IStorageBackend rebuilt = await factory.CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault));
        using (rebuilt as IDisposable)
        {
            Assert.Equal(new byte[] { 6 }, await StorageReads.ReadAllAsync(rebuilt, "h/one"));
        }

        Assert.Equal("dropbox", factory.Name);
        Assert.Equal($"Dropbox app folder '{options.Folder}'", factory.Describe(settings));
    }

    [Fact]
    public async Task Factory_NoToken_IsMissingCredentialNamingTheVariable_AndCreateStoreAllowsANewFolder()
    {
        var settings = new Dictionary<string, string>
        {
            ["folder"] = "new-" + Guid.NewGuid().ToString("N")[..8], ["api"] = fixture.Server.ApiUri.ToString(), ["content"] = fixture.Server.ContentUri.ToString(), ["token_env"] = "MY_DBX",
        };
        MissingBackendCredentialException error = await Assert.ThrowsAsync<MissingBackendCredentialException>(
            () => new DropboxBackendFactory().CreateAsync(settings, new EnvironmentSecretSource(_ => null)));
        Assert.Contains("MY_DBX", error.Message, StringComparison.Ordinal);

        var variables = new Dictionary<string, string> { ["MY_DBX"] = DropboxDoubleFixture.Token };
        using (var opened = (DropboxBackend)await new DropboxBackendFactory().CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault)))
        {
            GhostieSyncException missing = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => StorageReads.ListAllAsync(opened, ""));
            Assert.Equal(GhostieErrorCode.StorageNotFound, missing.Code);
        }

        using var created = (DropboxBackend)await new DropboxBackendFactory().CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault), createStore: true);
        Assert.Empty(await StorageReads.ListAllAsync(created, ""));
    }

    [Fact]
    public void DependencyInjection_AllOverloads_RegisterTheBackend_AndValidateAtStart()
    {
        string home = Path.GetTempPath();
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = home).AddDropboxBackend(o => Copy(TestOptions.For(fixture.Server, folder: "di"), o));
        using (ServiceProvider provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            var backend = Assert.IsType<DropboxBackend>(provider.GetRequiredService<IStorageBackend>());
            Assert.Equal("Dropbox app folder 'di'", backend.DisplayName);
        }

        var named = new ServiceCollection();
        named.AddGhostieSync(o => o.Home = home).AddDropboxBackend("work", o => Copy(TestOptions.For(fixture.Server, folder: "work"), o));
        using (ServiceProvider provider = named.BuildServiceProvider())
        {
            Assert.IsType<DropboxBackend>(provider.GetRequiredKeyedService<IStorageBackend>("work"));
        }

        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Folder"] = "from-config", ["AccessToken"] = DropboxDoubleFixture.Token, ["UploadChunkSize"] = "2048", ["UploadSessionThreshold"] = "4096",
        }).Build();
        var bound = new ServiceCollection();
        bound.AddGhostieSync(o => o.Home = home).AddDropboxBackend(configuration);
        using (ServiceProvider provider = bound.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            Assert.Equal(2048, provider.GetRequiredService<IOptionsMonitor<DropboxBackendOptions>>().Get(Options.DefaultName).UploadChunkSize);
        }

        var bad = new ServiceCollection();
        bad.AddGhostieSync(o => o.Home = home).AddDropboxBackend(o =>
        {
            o.AccessToken = DropboxDoubleFixture.Token;
            o.Folder = "../up";
            o.UploadSessionThreshold = 200L * 1024 * 1024;
        });
        using ServiceProvider badProvider = bad.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Folder", error.Message, StringComparison.Ordinal);
        Assert.Contains("UploadSessionThreshold", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(DropboxDoubleFixture.Token, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_TokenAndProviderBoth_OrNeither_AreRefused()
    {
        var both = new DropboxBackendOptions { AccessToken = "sl.a", AccessTokenProvider = (_, _) => ValueTask.FromResult("sl.b") };
        Assert.Contains(both.GetValidationErrors(), e => e.Contains("both set", StringComparison.Ordinal));
        if (Environment.GetEnvironmentVariable(DropboxBackendOptions.AccessTokenVariable) is null)
        {
            var neither = new DropboxBackendOptions();
            Assert.Contains(neither.GetValidationErrors(), e => e.Contains(DropboxBackendOptions.AccessTokenVariable, StringComparison.Ordinal));
        }

        var error = Assert.Throws<GhostieSyncException>(() => new DropboxBackend(new DropboxBackendOptions { AccessToken = "sl.x", ApiBaseUri = new Uri("http://example.com/") }));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("plain http", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ArgumentHeader_IsHttpHeaderSafe()
    {
        // https://www.dropbox.com/developers/reference/json-encoding: 0x7F and non-ASCII characters as \uXXXX.
        string arg = Internal.DropboxClient.Arg(w => w.WriteString("field", "some_üñîcødé_and_\u007f"));
        Assert.All(arg, c => Assert.InRange(c, ' ', '~'));
        Assert.Contains("\\u00FC", arg, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\\u007F", arg, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task HealthCheck_GoodToken_IsHealthy_RefusedToken_IsUnhealthyWithoutTheToken()
    {
        HealthReportEntry healthy = await CheckAsync(b => b.AddDropboxBackend(o => Copy(TestOptions.For(fixture.Server), o)));
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Contains("The dropbox backend (Dropbox app folder", healthy.Description, StringComparison.Ordinal);

        const string wrong = "sl.wrongTOKEN9876543210zyxwvuSECRET";
        HealthReportEntry refused = await CheckAsync(b => b.AddDropboxBackend(o => { Copy(TestOptions.For(fixture.Server), o); o.AccessToken = wrong; }));
        Assert.Equal(HealthStatus.Unhealthy, refused.Status);
        Assert.Equal("AccessDenied", refused.Data["code"]);
        Assert.DoesNotContain(wrong, refused.Description + string.Join(";", refused.Data.Values), StringComparison.Ordinal);
    }

    private static void Copy(DropboxBackendOptions from, DropboxBackendOptions to) =>
        (to.AccessToken, to.ApiBaseUri, to.ContentBaseUri, to.Folder, to.CreateFolderIfMissing, to.Retry, to.UploadChunkSize, to.UploadSessionThreshold) =
        (from.AccessToken, from.ApiBaseUri, from.ContentBaseUri, from.Folder, from.CreateFolderIfMissing, from.Retry, from.UploadChunkSize, from.UploadSessionThreshold);

    private static async Task<HealthReportEntry> CheckAsync(Action<IGhostieSyncBuilder> register)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        register(services.AddGhostieSync(o => o.Home = Path.GetTempPath()));
        services.AddHealthChecks().AddGhostieHealthChecks();
        await using ServiceProvider provider = services.BuildServiceProvider();
        return Assert.Single((await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries).Value;
    }
}

/// <summary>The factory's logger overload: what <c>ghostie --verbose</c> relies on.</summary>
public sealed class DropboxFactoryLoggingTests(DropboxDoubleFixture fixture) : IClassFixture<DropboxDoubleFixture>
{
    [Fact]
    public async Task Factory_WithALoggerFactory_GivesTheBackendItsLogger()
    {
        var factory = new DropboxBackendFactory();
        var loggers = new RecordingLoggerFactory();
        var variables = new Dictionary<string, string> { ["GHOSTIE_DROPBOX_ACCESS_TOKEN"] = DropboxDoubleFixture.Token };
        IStorageBackend backend = await ((IStorageBackendFactory)factory).CreateAsync(factory.GetSettings(TestOptions.For(fixture.Server)),
            new EnvironmentSecretSource(variables.GetValueOrDefault), loggers, createStore: true);
        using (backend as IDisposable)
        {
            // A 429 with retry_after 0 is retried at once, and the backend logs the throttling (event 1).
            fixture.Server.InjectRateLimit(1, "too_many_requests", 0);
            await StorageReads.ListAllAsync(backend, "");
        }

        RecordedLog logged = Assert.Single(loggers.Events, e => e.EventId == 1);
        Assert.Equal(typeof(DropboxBackend).FullName, logged.Category);
        Assert.DoesNotContain(DropboxDoubleFixture.Token, logged.Message, StringComparison.Ordinal);
    }
}
