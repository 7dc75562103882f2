using System.Text;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.GoogleDrive.Tests;

internal static class TestOptions
{
    public const string Token = "ya29.double-TOKEN-0123456789abcdefSECRET";

    public static GoogleDriveBackendOptions For(DriveDouble drive, BackendRetryOptions? retry = null, string? folderId = null) => new()
    {
        AccessToken = Token,
        ApiBaseUri = drive.BaseUri,
        FolderId = folderId,
        Retry = retry ?? new BackendRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(50), JitterSeed = 3 },
    };
}

/// <summary>The storage contract and the network faults, over the app data folder of a fresh Drive double per test.</summary>
public sealed class DriveConformanceTests : RemoteBackendConformanceTests, IAsyncLifetime
{
    private DriveDouble _drive = null!;

    public Task InitializeAsync()
    {
        _drive = new DriveDouble(TestOptions.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _drive.DisposeAsync();

    protected override bool ExpectConditionalWrites => false;

    protected override IReadOnlyList<string> Secrets => [TestOptions.Token, "ya29.wrongTOKENvalue0123456789"];

    protected override Task<IStorageBackend> CreateBackendAsync() => Task.FromResult<IStorageBackend>(new GoogleDriveBackend(TestOptions.For(_drive)));

    protected override Task<IStorageBackend> CreateFaultyBackendAsync(FaultInjectingHandler faults, BackendRetryOptions retry)
    {
        GoogleDriveBackendOptions options = TestOptions.For(_drive, retry);
        options.HttpMessageHandler = faults;
        return Task.FromResult<IStorageBackend>(new GoogleDriveBackend(options));
    }

    protected override Task<IStorageBackend> CreateBackendWithBadCredentialsAsync(BackendRetryOptions retry)
    {
        GoogleDriveBackendOptions options = TestOptions.For(_drive, retry);
        options.AccessToken = "ya29.wrongTOKENvalue0123456789";
        return Task.FromResult<IStorageBackend>(new GoogleDriveBackend(options));
    }

    protected override Task<IStorageBackend> CreateBackendForMissingStoreAsync(BackendRetryOptions retry) =>
        Task.FromResult<IStorageBackend>(new GoogleDriveBackend(TestOptions.For(_drive, retry, folderId: "1NoSuchFolder0123456789")));
}

/// <summary>The storage contract over a chosen folder (FolderId) instead of the app data folder.</summary>
public sealed class DriveFolderConformanceTests : BackendConformanceTests, IAsyncLifetime
{
    private DriveDouble _drive = null!;
    private string _folder = null!;

    public Task InitializeAsync()
    {
        _drive = new DriveDouble(TestOptions.Token);
        _folder = _drive.SeedFolder("Ghostie");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _drive.DisposeAsync();

    protected override bool ExpectConditionalWrites => false;

    protected override Task<IStorageBackend> CreateBackendAsync() => Task.FromResult<IStorageBackend>(new GoogleDriveBackend(TestOptions.For(_drive, folderId: _folder)));
}

/// <summary>The sync protocol suite (two devices, conflicts, deletes, the fixed-seed simulation) over the app data folder,
/// each device with its own backend instance; packs above 16 KiB go through resumable uploads in 256 KiB chunks.</summary>
public sealed class DriveSyncProtocolTests : SyncProtocolConformanceTests, IAsyncLifetime
{
    private DriveDouble _drive = null!;

    public Task InitializeAsync()
    {
        _drive = new DriveDouble(TestOptions.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _drive.DisposeAsync();

    protected override Task<Func<Task<IStorageBackend>>> CreateStoreAsync() =>
        Task.FromResult<Func<Task<IStorageBackend>>>(() =>
        {
            GoogleDriveBackendOptions options = TestOptions.For(_drive);
            options.ResumableThreshold = 16 * 1024;
            options.ChunkSize = DriveDouble.ChunkGranularity;
            return Task.FromResult<IStorageBackend>(new GoogleDriveBackend(options));
        });

    protected override void ConfigureDevice(GhostieSyncOptions options)
    {
        options.PackTargetBytes = 64 * 1024;
        options.CompactAfterPacks = 3;
    }

    /// <summary>Nothing in the app data folder reveals a memory: file names are the opaque object names and contents are
    /// ciphertext; the files carry only the write marker in appProperties.</summary>
    protected override Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts)
    {
        IReadOnlyList<DriveDoubleFile> files = _drive.AppDataFiles();
        Assert.NotEmpty(files);
        Assert.DoesNotContain(_drive.Files(), f => f.Space != "appDataFolder");
        foreach (DriveDoubleFile file in files)
        {
            Assert.DoesNotContain("laptop", file.Name, StringComparison.Ordinal);
            Assert.Equal([GoogleDriveBackend.WriteIdProperty], file.AppProperties.Keys);
            string text = Encoding.UTF8.GetString(_drive.ReadContent(file.Id));
            Assert.All(plaintexts.Append("memory 1"), p => Assert.DoesNotContain(p, text, StringComparison.Ordinal));
        }

        return Task.CompletedTask;
    }
}
