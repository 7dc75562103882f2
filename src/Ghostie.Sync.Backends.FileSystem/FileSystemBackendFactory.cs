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
