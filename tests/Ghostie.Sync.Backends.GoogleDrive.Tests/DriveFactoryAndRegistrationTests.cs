using Ghostie.Sync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.GoogleDrive.Tests;

/// <summary>The factory ("drive") rebuilds a backend from saved settings and a secret; the DI overloads register it and
/// validate at start; the health check probes it; all on the Drive double.</summary>
public sealed class DriveFactoryAndRegistrationTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-drive-di-" + Guid.NewGuid().ToString("N")[..10]);
    private DriveDouble _drive = null!;

    public Task InitializeAsync()
    {
        _drive = new DriveDouble(TestOptions.Token);
        Directory.CreateDirectory(_root);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _drive.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Factory_SettingsFromOptions_ReachTheSameStore_WithTheTokenFromItsSecret()
    {
        string folder = _drive.SeedFolder("Ghostie");
        GoogleDriveBackendOptions options = TestOptions.For(_drive, folderId: folder);
        var factory = new GoogleDriveBackendFactory();
        Dictionary<string, string> settings = factory.GetSettings(options);
        Assert.Equal("drive", factory.Name);
        Assert.Equal(new Dictionary<string, string> { ["api"] = _drive.BaseUri.ToString(), ["folder"] = folder, ["token_env"] = "GHOSTIE_DRIVE_ACCESS_TOKEN" }, settings);

        using (var written = new GoogleDriveBackend(options))
        {
            await written.PutAsync("h/one", new MemoryStream([6]));
        }

        var variables = new Dictionary<string, string> { ["GHOSTIE_DRIVE_ACCESS_TOKEN"] = TestOptions.Token };
        IStorageBackend rebuilt = await factory.CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault));
        using (rebuilt as IDisposable)
        {
            Assert.Equal(new byte[] { 6 }, await rebuilt.ReadAllAsync("h/one"));
        }

        Assert.Equal($"the Google Drive folder '{folder}'", factory.Describe(settings));
        Assert.Equal("the Google Drive app data folder", factory.Describe(new Dictionary<string, string>()));
    }

    [Fact]
    public async Task Factory_WithoutAToken_IsAMissingCredential_NamingTheVariableAndSetup()
    {
        var settings = new Dictionary<string, string> { ["api"] = _drive.BaseUri.ToString(), ["token_env"] = "MY_DRIVE_TOKEN" };

        MissingBackendCredentialException error = await Assert.ThrowsAsync<MissingBackendCredentialException>(
            () => new GoogleDriveBackendFactory().CreateAsync(settings, new EnvironmentSecretSource(_ => null)));

        Assert.Contains("MY_DRIVE_TOKEN", error.Message, StringComparison.Ordinal);
        Assert.Contains("ghostie sync setup --backend drive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_AllOverloads_RegisterTheBackend_AndValidateAtStart()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = _root)
            .AddGoogleDriveBackend(o => { o.AccessTokenProvider = (_, _) => ValueTask.FromResult(TestOptions.Token); o.ApiBaseUri = _drive.BaseUri; })
            .AddGoogleDriveBackend("work", o => { o.AccessToken = TestOptions.Token; o.ApiBaseUri = _drive.BaseUri; o.FolderId = "1WorkFolder"; });
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.IsType<GoogleDriveBackend>(provider.GetRequiredService<IStorageBackend>());
        Assert.Contains("'1WorkFolder'", provider.GetRequiredKeyedService<IStorageBackend>("work").DisplayName, StringComparison.Ordinal);

        var configured = new ServiceCollection();
        configured.Configure<GoogleDriveBackendOptions>(o => o.AccessToken = TestOptions.Token);
        configured.AddGhostieSync(o => o.Home = _root).AddGoogleDriveBackend();
        using ServiceProvider configuredProvider = configured.BuildServiceProvider();
        configuredProvider.GetRequiredService<IStartupValidator>().Validate();

        var bad = new ServiceCollection();
        bad.AddGhostieSync(o => o.Home = _root).AddGoogleDriveBackend(o => { o.AccessToken = TestOptions.Token; o.ChunkSize = 1000; o.FolderId = "bad id!"; });
        using ServiceProvider badProvider = bad.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("ChunkSize", error.Message, StringComparison.Ordinal);
        Assert.Contains("FolderId", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TestOptions.Token, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_GoodToken_IsHealthy_RefusedToken_IsUnhealthyWithoutTheToken()
    {
        HealthReportEntry healthy = await CheckAsync(b => b.AddGoogleDriveBackend(o => { o.AccessToken = TestOptions.Token; o.ApiBaseUri = _drive.BaseUri; }));
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Contains("The drive backend (the Google Drive app data folder", healthy.Description, StringComparison.Ordinal);

        const string wrong = "ya29.wrongTOKEN9876543210SECRET";
        HealthReportEntry refused = await CheckAsync(b => b.AddGoogleDriveBackend(o => { o.AccessToken = wrong; o.ApiBaseUri = _drive.BaseUri; }));
        Assert.Equal(HealthStatus.Unhealthy, refused.Status);
        Assert.Equal("AccessDenied", refused.Data["code"]);
        Assert.Contains("ghostie sync setup --backend drive", refused.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, refused.Description + string.Join(";", refused.Data.Values), StringComparison.Ordinal);
    }

    private async Task<HealthReportEntry> CheckAsync(Action<IGhostieSyncBuilder> register)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        register(services.AddGhostieSync(o => o.Home = _root));
        services.AddHealthChecks().AddGhostieHealthChecks();
        await using ServiceProvider provider = services.BuildServiceProvider();
        return Assert.Single((await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries).Value;
    }
}

/// <summary>The factory's logger overload: what <c>ghostie --verbose</c> relies on.</summary>
public sealed class DriveFactoryLoggingTests : IAsyncLifetime
{
    private DriveDouble _drive = null!;

    public Task InitializeAsync()
    {
        _drive = new DriveDouble(TestOptions.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _drive.DisposeAsync();

    [Fact]
    public async Task Factory_WithALoggerFactory_GivesTheBackendItsLogger()
    {
        var factory = new GoogleDriveBackendFactory();
        var loggers = new RecordingLoggerFactory();
        var variables = new Dictionary<string, string> { ["GHOSTIE_DRIVE_ACCESS_TOKEN"] = TestOptions.Token };
        IStorageBackend backend = await ((IStorageBackendFactory)factory).CreateAsync(factory.GetSettings(TestOptions.For(_drive)),
            new EnvironmentSecretSource(variables.GetValueOrDefault), loggers);
        using (backend as IDisposable)
        {
            // A rate limit with Retry-After 0 is retried at once, and the backend logs the refused attempt (event 4601).
            _drive.InjectRateLimit(1, 403, "userRateLimitExceeded", retryAfterSeconds: 0);
            await StorageReads.ListAllAsync(backend, "keys/");
        }

        RecordedLog logged = Assert.Single(loggers.Events, e => e.EventId == 4601);
        Assert.Equal(typeof(GoogleDriveBackend).FullName, logged.Category);
        Assert.DoesNotContain(TestOptions.Token, logged.Message, StringComparison.Ordinal);
    }
}
