using Ghostie.Sync.Backends.FileSystem;
using Microsoft.Extensions.DependencyInjection;

namespace Ghostie.Sync.Tests;

/// <summary>
/// One source of truth for the backend under DI: the registered backend decides where data goes, and what setup saves in
/// <c>sync/config.json</c> must describe that same backend, or a later open (the CLI, another host) goes elsewhere.
/// </summary>
public sealed class BackendSettingsAgreementTests : IDisposable
{
    private const string Passphrase = "agreement test passphrase";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-agree-" + Guid.NewGuid().ToString("N")[..10]);

    public BackendSettingsAgreementTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Home => Path.Combine(_root, "home");

    private string Repository => Path.Combine(_root, "repo");

    [Fact]
    public async Task SetupAsync_BackendNameOtherThanRegistered_RefusesNamingBoth_AndWritesNothing()
    {
        await using ServiceProvider provider = Provider();
        GhostieSyncClient client = provider.GetRequiredService<GhostieSyncClient>();

        BackendSettingsMismatchException error = await Assert.ThrowsAsync<BackendSettingsMismatchException>(() => client.SetupAsync(
            new SyncConfiguration { Backend = "s3", Settings = { ["bucket"] = "notes" }, DeviceId = "laptop" }, Passphrase));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Equal(("backend", "s3", "folder"), (error.Setting, error.Saved, error.Registered));
        Assert.Contains("'s3'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'folder'", error.Message, StringComparison.Ordinal);
        Assert.Contains("leave SyncConfiguration.Backend and Settings unset", error.Message, StringComparison.Ordinal);
        Assert.False(new GhostieHome(Home).IsConfigured);
        Assert.False(Directory.Exists(Path.Combine(Repository, "keys")));
    }

    [Fact]
    public async Task SetupAsync_PathOtherThanRegisteredFolder_RefusesNamingBothPaths_AndWritesNothing()
    {
        string elsewhere = Path.Combine(_root, "elsewhere");
        await using ServiceProvider provider = Provider();
        GhostieSyncClient client = provider.GetRequiredService<GhostieSyncClient>();

        BackendSettingsMismatchException error = await Assert.ThrowsAsync<BackendSettingsMismatchException>(() => client.SetupAsync(
            new SyncConfiguration { Backend = "folder", Settings = { ["path"] = elsewhere }, DeviceId = "laptop" }, Passphrase));

        Assert.Equal(("path", elsewhere, Repository), (error.Setting, error.Saved, error.Registered));
        Assert.Contains(elsewhere, error.Message, StringComparison.Ordinal);
        Assert.Contains(Repository, error.Message, StringComparison.Ordinal);
        Assert.False(new GhostieHome(Home).IsConfigured);
        Assert.False(Directory.Exists(Path.Combine(Repository, "keys")));
    }

    [Fact]
    public async Task SetupAsync_SettingTheRegisteredBackendDoesNotHave_Refuses()
    {
        await using ServiceProvider provider = Provider();
        GhostieSyncClient client = provider.GetRequiredService<GhostieSyncClient>();

        BackendSettingsMismatchException error = await Assert.ThrowsAsync<BackendSettingsMismatchException>(() => client.SetupAsync(
            new SyncConfiguration { Backend = "folder", Settings = { ["path"] = Repository, ["bucket"] = "notes" }, DeviceId = "laptop" }, Passphrase));

        Assert.Equal(("bucket", "notes", null), (error.Setting, error.Saved, error.Registered));
        Assert.False(new GhostieHome(Home).IsConfigured);
    }

    [Fact]
    public async Task SetupAsync_NoBackendSettingsGiven_SavesTheRegisteredBackendsSettings_WhichTheFactoryReopens()
    {
        await using ServiceProvider provider = Provider();
        GhostieSyncClient client = provider.GetRequiredService<GhostieSyncClient>();

        using (MemorySyncManager manager = await client.SetupAsync(new SyncConfiguration { DeviceId = "laptop" }, Passphrase))
        {
            manager.Memories.Save(MemoryRecord.Create("preferences", "Saved through the registered backend", "laptop", DateTimeOffset.UtcNow));
            Assert.True((await manager.PushAsync()).Success);
        }

        SyncConfiguration saved = new GhostieHome(Home).ReadConfiguration();
        Assert.Equal("folder", saved.Backend);
        Assert.Equal(new Dictionary<string, string> { ["path"] = Repository }, saved.Settings);

        // Any host rebuilds the same backend from what was saved: the factory registered with the backend.
        IStorageBackendFactory factory = provider.GetRequiredService<StorageBackendFactories>().Get(saved.Backend);
        IStorageBackend reopened = await factory.CreateAsync(saved.Settings, EnvironmentSecretSource.Instance);
        Assert.Equal("folder " + Repository, reopened.DisplayName);
    }

    [Fact]
    public async Task SetupAsync_SettingsThatAgree_AreAccepted_RelativePathComparedAsFullPath()
    {
        await using ServiceProvider provider = Provider();
        GhostieSyncClient client = provider.GetRequiredService<GhostieSyncClient>();
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, Repository);

        using MemorySyncManager manager = await client.SetupAsync(
            new SyncConfiguration { Backend = "folder", Settings = { ["path"] = relative }, DeviceId = "laptop" }, Passphrase);

        Assert.Equal(Repository, new GhostieHome(Home).ReadConfiguration().Settings["path"]);
    }

    private ServiceProvider Provider()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Home).AddFileSystemBackend(o => o.Path = Repository);
        return services.BuildServiceProvider();
    }
}
