using Ghostie.Sync.Crypto;
using Microsoft.Extensions.Logging;

namespace Ghostie.Sync;

public sealed partial class MemorySyncManager
{
    /// <summary>
    /// Sets up sync in a Ghostie home: unlocks the repository in <paramref name="backend"/> with the passphrase (or
    /// creates it when the backend holds nothing of the repository layout), caches the unlocked key on this device
    /// (0600), and writes <c>sync/config.json</c> and <c>sync/device_id</c>.
    /// </summary>
    /// <param name="backend">The repository's storage.</param>
    /// <param name="configuration">Backend type and non-secret settings; device id and name. The repository id is filled in.</param>
    /// <param name="passphrase">The repository passphrase. Never stored.</param>
    /// <param name="options">Home folder, pack sizes, clock.</param>
    /// <param name="keyOptions">Key derivation options; defaults when null.</param>
    /// <param name="logger">Where events go.</param>
    /// <param name="takeOverDeviceId">Set up even when another installation writes to the repository under this device
    /// id (default false: refused with <see cref="GhostieErrorCode.DeviceIdInUse"/>). Only for the same device set up
    /// again after its old home is gone for good: a home still using the id can no longer push or pull under it, and
    /// must then be given a new id (<see cref="RenameDeviceAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>A manager that owns the unlocked keys.</returns>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.DeviceIdInUse"/> when the repository holds
    /// heads or packs of this device id written by another installation, unless <paramref name="takeOverDeviceId"/>.</exception>
    /// <exception cref="IncompleteRepositoryException">The backend holds objects of a repository (heads, packs, epochs, ...)
    /// but no key file; nothing was written or deleted.</exception>
    public static async Task<MemorySyncManager> SetupAsync(IStorageBackend backend, SyncConfiguration configuration, string passphrase, GhostieSyncOptions options,
        RepositoryKeyOptions? keyOptions = null, ILogger? logger = null, bool takeOverDeviceId = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        var home = new GhostieHome(options.Home);

        // A home that already syncs keeps its repository and its device id: check before creating anything.
        SyncConfiguration? existing = home.IsConfigured ? home.ReadConfiguration() : null;
        if (existing is not null && existing.DeviceId.Length > 0 && existing.DeviceId != configuration.DeviceId)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{home.Root} is already set up as device '{existing.DeviceId}'; setting it up again as '{configuration.DeviceId}' would orphan its history. Use the same device id, or another Ghostie home.");
        }

        RepositoryKeys keys;
        try
        {
            keys = await RepositoryKeys.UnlockAsync(backend, passphrase, keyOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.RepositoryNotInitialized)
        {
            // No key file. Heads, packs or epochs without one are a repository whose keys/ has not arrived yet (a
            // file-sync tool delivers folders in any order) or was lost: creating a repository over it would make it
            // unreadable for good (and initializing removes epochs it takes for its own leftovers). Create only where
            // nothing of a repository is.
            RepositoryContents found = await RepositoryContents.ReadAsync(backend, cancellationToken).ConfigureAwait(false);
            if (!found.IsEmpty)
            {
                throw new IncompleteRepositoryException(backend.DisplayName, found, ex);
            }

            if (existing is { RepositoryId.Length: > 0 })
            {
                throw new GhostieSyncException(GhostieErrorCode.RepositoryNotInitialized,
                    $"{home.Root} syncs with repository {existing.RepositoryId}, but {backend.DisplayName} holds no repository. Check the backend location (is the disk mounted?); nothing was created.", innerException: ex);
            }

            keys = await RepositoryKeys.InitializeAsync(backend, passphrase, "primary", keyOptions, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            if (existing is { RepositoryId.Length: > 0 } && existing.RepositoryId != keys.RepositoryId)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"{home.Root} already syncs with repository {existing.RepositoryId}; this backend holds repository {keys.RepositoryId}. Use another Ghostie home.");
            }

            if (!takeOverDeviceId)
            {
                await EnsureDeviceIdFreeAsync(backend, keys, home, configuration.DeviceId, cancellationToken).ConfigureAwait(false);
            }

            home.EnsureCreated();
            DeviceKeyCache.ForHome(home.Root).Save(keys);
            configuration.RepositoryId = keys.RepositoryId;
            if (configuration.CreatedAt == default)
            {
                configuration.CreatedAt = options.TimeProvider.GetUtcNow();
            }

            home.WriteConfiguration(configuration);
            return Create(backend, keys, options, configuration.DeviceId, configuration.DeviceName, logger, ownsKeys: true);
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the manager of a Ghostie home that was set up before: with the device's cached key, or, when there is
    /// none, with <paramref name="passphrase"/> (and caches the key for next time).
    /// </summary>
    /// <param name="backend">The repository's storage (as configured in <c>sync/config.json</c>).</param>
    /// <param name="options">Home folder, pack sizes, clock.</param>
    /// <param name="passphrase">Used only when no key is cached on this device.</param>
    /// <param name="keyOptions">Key derivation options; defaults when null.</param>
    /// <param name="logger">Where events go.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">Not set up (<see cref="GhostieErrorCode.NotConfigured"/>), or no cached key and no passphrase.</exception>
    public static async Task<MemorySyncManager> OpenAsync(IStorageBackend backend, GhostieSyncOptions options, string? passphrase = null,
        RepositoryKeyOptions? keyOptions = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var home = new GhostieHome(options.Home);
        SyncConfiguration configuration = home.ReadConfiguration();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(home.Root);
        RepositoryKeys? keys = await cache.TryOpenAsync(backend, keyOptions, cancellationToken).ConfigureAwait(false);
        if (keys is null)
        {
            if (passphrase is null)
            {
                throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                    $"No unlocked key is cached on this device ({cache.FilePath}). Give the passphrase (GHOSTIE_PASSPHRASE or the prompt) to unlock.");
            }

            keys = await RepositoryKeys.UnlockAsync(backend, passphrase, keyOptions, cancellationToken).ConfigureAwait(false);
            cache.Save(keys);
        }

        try
        {
            if (configuration.RepositoryId.Length > 0 && configuration.RepositoryId != keys.RepositoryId)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"{home.Root} is set up for repository {configuration.RepositoryId}, but the backend holds repository {keys.RepositoryId}. Check the backend settings in {home.ConfigPath}.");
            }

            return Create(backend, keys, options, configuration.DeviceId, configuration.DeviceName, logger, ownsKeys: true);
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }
}
