using Ghostie.Sync.Backends.FileSystem;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Tests;

/// <summary>The folder backend's registration overloads, its factory from saved settings, named repositories, and its health check.</summary>
public sealed class FileSystemRegistrationAndHealthTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-fsreg-" + Guid.NewGuid().ToString("N")[..10]);

    public FileSystemRegistrationAndHealthTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Factory_SettingsFromOptions_BuildTheSameFolder_AndDescribeIt()
    {
        var factory = new FileSystemBackendFactory();
        Dictionary<string, string> settings = factory.GetSettings(new FileSystemBackendOptions { Path = Path.Combine(_root, "repo"), SharedWithGroup = true });

        Assert.Equal(new Dictionary<string, string> { ["path"] = Path.Combine(_root, "repo"), ["shared_with_group"] = "true" }, settings);
        var backend = Assert.IsType<FileSystemBackend>(await factory.CreateAsync(settings, EnvironmentSecretSource.Instance));
        Assert.Equal((Path.Combine(_root, "repo"), true), (backend.RootPath, backend.SharedWithGroup));
        Assert.Equal(Path.Combine(_root, "repo"), factory.Describe(settings));
    }

    [Fact]
    public async Task Factory_SettingsWithoutPath_AreNotConfigured_NamingTheSetting()
    {
        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(
            () => new FileSystemBackendFactory().CreateAsync(new Dictionary<string, string>(), EnvironmentSecretSource.Instance));

        Assert.Equal(GhostieErrorCode.NotConfigured, error.Code);
        Assert.Contains("folder backend", error.Message, StringComparison.Ordinal);
        Assert.Contains("'path'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddFileSystemBackend_FromConfigurationSection_BindsPathAndGroupSharing()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ghostie:Home"] = Path.Combine(_root, "home"),
            ["Ghostie:Folder:Path"] = Path.Combine(_root, "repo"),
            ["Ghostie:Folder:SharedWithGroup"] = "true",
        }).Build();
        var services = new ServiceCollection();
        services.AddGhostieSync(configuration.GetSection("Ghostie")).AddFileSystemBackend(configuration.GetSection("Ghostie:Folder"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        var backend = Assert.IsType<FileSystemBackend>(provider.GetRequiredService<IStorageBackend>());
        Assert.Equal((Path.Combine(_root, "repo"), true), (backend.RootPath, backend.SharedWithGroup));
        Assert.Equal(Path.Combine(_root, "home"), provider.GetRequiredService<IOptions<GhostieSyncOptions>>().Value.Home);
        Assert.Equal("folder", provider.GetRequiredService<StorageBackendFactories>().Get("folder").Name);
    }

    [Fact]
    public async Task AddFileSystemBackend_NoArguments_UsesOptionsConfiguredElsewhere_AndValidatesThem()
    {
        var services = new ServiceCollection();
        services.Configure<FileSystemBackendOptions>(o => o.Path = Path.Combine(_root, "elsewhere"));
        services.AddGhostieSync(o => o.Home = Path.Combine(_root, "home")).AddFileSystemBackend();
        await using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Equal(Path.Combine(_root, "elsewhere"), Assert.IsType<FileSystemBackend>(provider.GetRequiredService<IStorageBackend>()).RootPath);

        var unset = new ServiceCollection();
        unset.AddGhostieSync(o => o.Home = Path.Combine(_root, "home")).AddFileSystemBackend();
        await using ServiceProvider unsetProvider = unset.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => unsetProvider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("FileSystemBackendOptions.Path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NamedRepositories_OneHostTwoRepositories_EachWithItsHomeAndFolder_SetUpAndSyncSeparately()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.Combine(_root, "home-default")).AddFileSystemBackend(o => o.Path = Path.Combine(_root, "repo-default"));
        services.AddGhostieSync("work", o => o.Home = Path.Combine(_root, "home-work")).AddFileSystemBackend("work", o => o.Path = Path.Combine(_root, "repo-work"));
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        GhostieSyncClient personal = provider.GetRequiredService<GhostieSyncClient>();
        GhostieSyncClient work = provider.GetRequiredKeyedService<GhostieSyncClient>("work");
        Assert.Equal(("", "work"), (personal.Name, work.Name));
        Assert.Equal("folder " + Path.Combine(_root, "repo-default"), personal.Backend.DisplayName);
        Assert.Equal("folder " + Path.Combine(_root, "repo-work"), work.Backend.DisplayName);
        Assert.Same(work.Backend, provider.GetRequiredKeyedService<IStorageBackend>("work"));

        using (MemorySyncManager manager = await work.SetupAsync(new SyncConfiguration { DeviceId = "laptop" }, "named repository passphrase"))
        {
            manager.Memories.Save(MemoryRecord.Create("project", "Only in the work repository", "laptop", DateTimeOffset.UtcNow));
            Assert.True((await manager.PushAsync()).Success);
        }

        Assert.Equal(Path.Combine(_root, "repo-work"), new GhostieHome(Path.Combine(_root, "home-work")).ReadConfiguration().Settings["path"]);
        Assert.True(Directory.Exists(Path.Combine(_root, "repo-work", "keys")));
        Assert.False(Directory.Exists(Path.Combine(_root, "repo-default")));
        Assert.False(new GhostieHome(Path.Combine(_root, "home-default")).IsConfigured);

        // A setup of the named repository is checked against its own backend, not the default one.
        await Assert.ThrowsAsync<BackendSettingsMismatchException>(() => work.SetupAsync(
            new SyncConfiguration { Settings = { ["path"] = Path.Combine(_root, "repo-default") }, DeviceId = "laptop" }, "named repository passphrase"));
    }

    [Fact]
    public async Task NamedRepository_RegisteredAgain_ReplacesOnlyItsOwnBackend()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.Combine(_root, "home"))
            .AddFileSystemBackend(o => o.Path = Path.Combine(_root, "default"))
            .AddFileSystemBackend("a", o => o.Path = Path.Combine(_root, "a1"))
            .AddFileSystemBackend("b", o => o.Path = Path.Combine(_root, "b"))
            .AddFileSystemBackend("a", o => o.Path = Path.Combine(_root, "a2"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Equal(Path.Combine(_root, "default"), ((FileSystemBackend)provider.GetRequiredService<IStorageBackend>()).RootPath);
        Assert.Equal(Path.Combine(_root, "b"), ((FileSystemBackend)provider.GetRequiredKeyedService<IStorageBackend>("b")).RootPath);
        // Named options accumulate like any options: the later configure runs last and wins.
        Assert.Equal(Path.Combine(_root, "a2"), ((FileSystemBackend)provider.GetRequiredKeyedService<IStorageBackend>("a")).RootPath);
        Assert.Single(services, d => d.ServiceType == typeof(IStorageBackend) && Equals(d.ServiceKey, "a"));
        Assert.Single(services, d => d.ServiceType == typeof(IStorageBackendFactory));
    }

    [Fact]
    public async Task HealthCheck_ExistingFolder_IsHealthy_NamingTheBackend()
    {
        Directory.CreateDirectory(Path.Combine(_root, "repo"));
        await using ServiceProvider provider = HealthProvider(Path.Combine(_root, "repo"));

        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        HealthReportEntry entry = Assert.Single(report.Entries).Value;
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Contains("folder backend (folder " + Path.Combine(_root, "repo") + ")", entry.Description, StringComparison.Ordinal);
        Assert.Equal(["folder", "ghostie"], entry.Tags.Order());
    }

    [Fact]
    public async Task HealthCheck_MissingFolder_IsUnhealthy_SayingWhatToDo()
    {
        await using ServiceProvider provider = HealthProvider(Path.Combine(_root, "unmounted"));

        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        HealthReportEntry entry = report.Entries["ghostie"];
        Assert.Contains("The folder backend", entry.Description, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_root, "unmounted") + " does not exist", entry.Description, StringComparison.Ordinal);
        Assert.Equal("BackendUnavailable", entry.Data["code"]);
        Assert.False(Directory.Exists(Path.Combine(_root, "unmounted"))); // the probe created nothing
    }

    [Fact]
    public async Task AddGhostieHealthChecks_BeforeTheBackends_ChecksEveryRepository_DefaultAndNamed()
    {
        Directory.CreateDirectory(Path.Combine(_root, "present"));
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddHealthChecks().AddGhostieHealthChecks(failureStatus: HealthStatus.Degraded);
        services.AddGhostieSync(o => o.Home = Path.Combine(_root, "home"))
            .AddFileSystemBackend(o => o.Path = Path.Combine(_root, "present"))
            .AddFileSystemBackend("usb", o => o.Path = Path.Combine(_root, "absent"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(["ghostie", "ghostie:usb"], report.Entries.Keys.Order());
        Assert.Equal(HealthStatus.Healthy, report.Entries["ghostie"].Status);
        Assert.Equal(HealthStatus.Degraded, report.Entries["ghostie:usb"].Status);
        Assert.Contains(Path.Combine(_root, "absent"), report.Entries["ghostie:usb"].Description, StringComparison.Ordinal);
    }

    private ServiceProvider HealthProvider(string folder)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddGhostieSync(o => o.Home = Path.Combine(_root, "home")).AddFileSystemBackend(o => o.Path = folder);
        services.AddHealthChecks().AddGhostieHealthChecks();
        return services.BuildServiceProvider();
    }
}
