namespace Ghostie.Sync.Backends.FileSystem;

/// <summary>
/// Builds the folder backend ("folder") from saved settings: "path" (the repository folder's full path) and, for a folder
/// shared by a group, "shared_with_group" = "true". No credentials.
/// </summary>
public sealed class FileSystemBackendFactory : IStorageBackendFactory<FileSystemBackendOptions>
{
    /// <summary>The backend's name, "folder".</summary>
    public const string BackendName = "folder";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public string Describe(IReadOnlyDictionary<string, string> settings) => BackendSettings.Optional(settings, "path") ?? BackendName;

    /// <inheritdoc/>
    public Dictionary<string, string> GetSettings(FileSystemBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal) { ["path"] = Path.GetFullPath(options.Path) };
        if (options.SharedWithGroup)
        {
            settings["shared_with_group"] = "true";
        }

        return settings;
    }

    /// <summary>The folder must exist (a backend creates it on its first write, so a missing one is an unmounted disk or
    /// a moved share, not an empty repository); then <c>keys/</c> is listed.</summary>
    /// <param name="backend">A folder backend.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.BackendUnavailable"/>: the folder does not exist.</exception>
    public async Task ProbeAsync(IStorageBackend backend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (backend is FileSystemBackend folder && !Directory.Exists(folder.RootPath))
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"The repository folder {folder.RootPath} does not exist. Mount or reconnect it, or correct FileSystemBackendOptions.Path.", isTransient: true);
        }

        await foreach (string _ in backend.ListAsync("keys/", cancellationToken).ConfigureAwait(false))
        {
            break;
        }
    }

    /// <inheritdoc/>
    public Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, bool createStore = false,
        CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IStorageBackend>(new FileSystemBackend(new FileSystemBackendOptions
        {
            Path = BackendSettings.Required(settings, "path", BackendName),
            SharedWithGroup = BackendSettings.Optional(settings, "shared_with_group") == "true",
        }));
    }
}
