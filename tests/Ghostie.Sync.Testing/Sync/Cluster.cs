using System.Globalization;
using Ghostie.Sync.Crypto;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Testing;

/// <summary>
/// One repository and any number of devices over it, each with its own temporary Ghostie home, all on one fake clock.
/// Devices share one backend (the one given, or a repository in memory), or, built with a backend opener, each
/// device opens a backend of its own on the same store (its own client and connections), as separate machines would.
/// </summary>
public sealed class Cluster : IDisposable, IAsyncDisposable
{
    /// <summary>The repository's passphrase.</summary>
    public const string Passphrase = "cluster passphrase";

    /// <summary>Where the clock starts.</summary>
    public static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-21T08:00:00Z", CultureInfo.InvariantCulture);

    private readonly List<Device> _devices = [];
    private readonly List<IStorageBackend> _opened = [];
    private readonly Func<Task<IStorageBackend>>? _openBackend;

    /// <summary>Devices share <paramref name="storage"/> (not disposed here), or a new repository in memory.</summary>
    /// <param name="storage">The repository's storage.</param>
    public Cluster(IStorageBackend? storage = null)
    {
        Storage = storage ?? new InMemoryStorageBackend();
        Root = Path.Combine(Path.GetTempPath(), "ghostie-cluster-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
    }

    /// <summary>Each device opens its own backend with <paramref name="openBackend"/> (all on one store); the cluster
    /// disposes them. <see cref="Storage"/> is the first device's.</summary>
    /// <param name="openBackend">Opens one more backend on the repository's store.</param>
    public Cluster(Func<Task<IStorageBackend>> openBackend)
        : this(storage: null)
    {
        _openBackend = openBackend;
    }

    /// <summary>The storage devices use unless they were given another (the first device's own, with a backend opener).</summary>
    public IStorageBackend Storage { get; private set; }

    /// <summary>The folder holding every device's home.</summary>
    public string Root { get; }

    /// <summary>The clock of every device (it moves only when a test or a device's edit moves it).</summary>
    public FakeTimeProvider Time { get; } = new(Start);

    /// <summary>The devices, in the order they were added.</summary>
    public IReadOnlyList<Device> Devices => _devices;

    /// <summary>Every backend the cluster opened (one per device, with a backend opener).</summary>
    public IReadOnlyList<IStorageBackend> OpenedBackends => _opened;

    /// <summary>Changes each device's options (pack sizes, say) before its manager is made.</summary>
    public Action<GhostieSyncOptions>? ConfigureOptions { get; init; }

    /// <summary>A weak key derivation, so tests stay fast.</summary>
    public static RepositoryKeyOptions KeyOptions() => TestKeys.FastOptions();

    /// <summary>Adds a device: unlocks the repository (initializing it the first time) and makes its manager on a new home.</summary>
    /// <param name="deviceId">The device id (also the home's folder name).</param>
    /// <param name="through">The backend this device uses, when not the cluster's.</param>
    /// <param name="passphrase">The passphrase to unlock with; <see cref="Passphrase"/> when null (another after a revocation).</param>
    public async Task<Device> AddDeviceAsync(string deviceId, IStorageBackend? through = null, string? passphrase = null)
    {
        IStorageBackend backend = through ?? await OpenAsync();
        RepositoryKeys keys;
        try
        {
            keys = await RepositoryKeys.UnlockAsync(backend, passphrase ?? Passphrase, KeyOptions());
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.RepositoryNotInitialized)
        {
            keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, "primary", KeyOptions());
        }

        GhostieSyncOptions options = Options(Path.Combine(Root, deviceId));
        new GhostieHome(options.Home).EnsureCreated(); // as setup does
        var device = new Device(deviceId, backend, MemorySyncManager.Create(backend, keys, options, deviceId, deviceId + " name", ownsKeys: true), Time);
        _devices.Add(device);
        return device;
    }

    /// <summary>Disposes the device's manager and opens a new one on the same home and backend, as a new process would
    /// (optionally with another device id: a second installation using the same id, say).</summary>
    /// <param name="device">The device.</param>
    /// <param name="deviceId">The id the new manager uses; the device's own when null.</param>
    /// <param name="options">The new manager's options; the cluster's defaults when null.</param>
    /// <param name="passphrase">The passphrase to unlock with; <see cref="Passphrase"/> when null (another after a revocation).</param>
    public async Task ReopenAsync(Device device, string? deviceId = null, GhostieSyncOptions? options = null, string? passphrase = null)
    {
        device.Manager.Dispose();
        RepositoryKeys keys = await RepositoryKeys.UnlockAsync(device.Backend, passphrase ?? Passphrase, KeyOptions());
        options ??= Options(device.Home.Root);
        device.Manager = MemorySyncManager.Create(device.Backend, keys, options, deviceId ?? device.Id, ownsKeys: true);
    }

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (Device device in _devices)
        {
            device.Manager.Dispose();
        }

        foreach (IStorageBackend backend in _opened.Distinct())
        {
            switch (backend)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }

        _devices.Clear();
        _opened.Clear();
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private GhostieSyncOptions Options(string home)
    {
        var options = new GhostieSyncOptions { Home = home, TimeProvider = Time, PackTargetBytes = 256 * 1024, CompactAfterPacks = 4 };
        ConfigureOptions?.Invoke(options);
        return options;
    }

    private async Task<IStorageBackend> OpenAsync()
    {
        if (_openBackend is null)
        {
            return Storage;
        }

        IStorageBackend backend = await _openBackend();
        if (_opened.Count == 0)
        {
            Storage = backend;
        }

        _opened.Add(backend);
        return backend;
    }
}
