using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Internal;

/// <summary>
/// Setting a Ghostie home up for sync and opening it again (see <see cref="MemorySyncManager.SetupAsync"/> and
/// <see cref="MemorySyncManager.OpenAsync"/>): the repository's keys unlocked (or created where nothing of a
/// repository is), checked against the home's configuration, and cached on the device.
/// </summary>
internal static class HomeSetup
{
    /// <summary>Unlocks or creates the repository and writes the home's configuration (the repository id filled
    /// in); returns the keys, which the caller owns.</summary>
    public static async Task<RepositoryKeys> SetupAsync(IStorageBackend backend, SyncConfiguration configuration, string passphrase, GhostieSyncOptions options,
        RepositoryKeyOptions? keyOptions, bool takeOverDeviceId, CancellationToken cancellationToken)
    {
        var home = new GhostieHome(options.Home);

        // A home that already syncs keeps its repository and its device id: check before creating anything.
        SyncConfiguration? existing = home.IsConfigured ? home.ReadConfiguration() : null;
        if (existing is not null && existing.DeviceId.Length > 0 && existing.DeviceId != configuration.DeviceId)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{home.Root} is already set up as device '{existing.DeviceId}'; setting it up again as '{configuration.DeviceId}' would orphan its history. Use the same device id, or another Ghostie home.");
        }

        RepositoryKeys keys = await UnlockOrCreateAsync(backend, passphrase, home, existing, keyOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            if (existing is { RepositoryId.Length: > 0 } && existing.RepositoryId != keys.RepositoryId)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"{home.Root} already syncs with repository {existing.RepositoryId}; this backend holds repository {keys.RepositoryId}. Use another Ghostie home.");
            }

            if (!takeOverDeviceId)
            {
                await DeviceIdGuard.EnsureFreeAsync(backend, keys, home, configuration.DeviceId, cancellationToken).ConfigureAwait(false);
            }

            home.EnsureCreated();
            DeviceKeyCache.ForHome(home.Root).Save(keys);
            configuration.RepositoryId = keys.RepositoryId;
            if (configuration.CreatedAt == default)
            {
                configuration.CreatedAt = options.TimeProvider.GetUtcNow();
            }

            home.WriteConfiguration(configuration);
            return keys;
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }

    /// <summary>The keys of a home set up before (cached, or unlocked with the passphrase and cached), checked against
    /// its configuration; the caller owns them.</summary>
    public static async Task<(RepositoryKeys Keys, SyncConfiguration Configuration)> OpenAsync(IStorageBackend backend, GhostieSyncOptions options, string? passphrase,
        RepositoryKeyOptions? keyOptions, CancellationToken cancellationToken)
    {
        using SyncProfile.Phase _ = SyncProfile.Time("open-keys");
        var home = new GhostieHome(options.Home);
        SyncConfiguration configuration = home.ReadConfiguration();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(home.Root);
        RepositoryKeys? keys;
        try
        {
            keys = await cache.TryOpenAsync(backend, keyOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (RepositoryRekeyedException) when (passphrase is not null)
        {
            keys = null; // the repository was re-keyed (a device revoked): the current passphrase opens it, and is cached below
        }

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

        if (configuration.RepositoryId.Length > 0 && configuration.RepositoryId != keys.RepositoryId)
        {
            keys.Dispose();
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{home.Root} is set up for repository {configuration.RepositoryId}, but the backend holds repository {keys.RepositoryId}. Check the backend settings in {home.ConfigPath}.");
        }

        return (keys, configuration);
    }

    private static async Task<RepositoryKeys> UnlockOrCreateAsync(IStorageBackend backend, string passphrase, GhostieHome home, SyncConfiguration? existing,
        RepositoryKeyOptions? keyOptions, CancellationToken cancellationToken)
    {
        try
        {
            return await RepositoryKeys.UnlockAsync(backend, passphrase, keyOptions, cancellationToken).ConfigureAwait(false);
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

            return await RepositoryKeys.InitializeAsync(backend, passphrase, "primary", keyOptions, cancellationToken).ConfigureAwait(false);
        }
    }
}
