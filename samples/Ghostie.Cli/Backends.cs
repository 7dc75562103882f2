using Ghostie.Sync;
using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Crypto;

namespace Ghostie.Cli;

/// <summary>The backends the CLI can use, and opening the sync manager of a configured home.</summary>
internal static class Backends
{
    /// <summary>The only backend type for now.</summary>
    public const string Folder = "folder";

    /// <summary>The backend types this version accepts, for error messages.</summary>
    public static readonly string[] Available = [Folder];

    /// <summary>Throws a usage error unless <paramref name="backend"/> is an available backend type.</summary>
    /// <param name="backend">The value of <c>--backend</c>.</param>
    public static void EnsureAvailable(string backend)
    {
        if (!Available.Contains(backend, StringComparer.Ordinal))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The backend '{backend}' is not available yet. Available now: {string.Join(", ", Available)}.");
        }
    }

    /// <summary>Whether <paramref name="backend"/> already holds a repository (any key file).</summary>
    public static async Task<bool> HoldsRepositoryAsync(IStorageBackend backend, CancellationToken cancellationToken)
    {
        await foreach (string _ in backend.ListAsync(RepositoryKeys.KeyFilePrefix, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }

    /// <summary>
    /// Opens the sync manager of the configured home: with this device's cached key, or, when none is cached, with the
    /// passphrase from <c>GHOSTIE_PASSPHRASE</c> or a prompt.
    /// </summary>
    /// <exception cref="GhostieSyncException">Not set up (<see cref="GhostieErrorCode.NotConfigured"/>), the repository folder is
    /// missing (<see cref="GhostieErrorCode.BackendUnavailable"/>), or any error of <see cref="MemorySyncManager.OpenAsync"/>.</exception>
    public static async Task<MemorySyncManager> OpenAsync(CliContext context, CancellationToken cancellationToken) =>
        (await OpenWithBackendAsync(context, cancellationToken).ConfigureAwait(false)).Manager;

    /// <summary>As <see cref="OpenAsync"/>, and also returns the repository's backend (for features that store their own objects, such as handoff).</summary>
    public static async Task<(MemorySyncManager Manager, IStorageBackend Backend)> OpenWithBackendAsync(CliContext context, CancellationToken cancellationToken)
    {
        GhostieHome home = context.Home;
        SyncConfiguration configuration = home.ReadConfiguration();
        if (configuration.Backend != Folder)
        {
            throw new GhostieSyncException(GhostieErrorCode.UnsupportedFormat,
                $"{home.ConfigPath} uses the backend '{configuration.Backend}', which this version of ghostie does not support (available: {string.Join(", ", Available)}). Upgrade ghostie, or run 'ghostie sync setup' again.");
        }

        if (!configuration.Settings.TryGetValue("path", out string? path) || string.IsNullOrWhiteSpace(path))
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"{home.ConfigPath} does not name the repository folder (settings.path). Run 'ghostie sync setup' again.");
        }

        // FileSystemBackend creates a missing folder; for a configured repository a missing folder means an unmounted
        // disk or a moved share, and creating an empty one in its place would only hide that.
        if (!Directory.Exists(path))
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"The repository folder {path} does not exist. Mount or reconnect it, or run 'ghostie sync setup' with its new --path.", isTransient: true);
        }

        string? passphrase = DeviceKeyCache.ForHome(home.Root).Exists
            ? Passphrase.FromEnvironment()
            : Passphrase.Require(newRepository: false, path);
        var backend = new FileSystemBackend(path);
        MemorySyncManager manager = await MemorySyncManager.OpenAsync(backend, new GhostieSyncOptions { Home = home.Root }, passphrase,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return (manager, backend);
    }
}
