using System.Text.Json.Serialization;

namespace Ghostie.Sync;

/// <summary>
/// The non-secret sync settings of a Ghostie home (<c>sync/config.json</c>): which backend, where, and this device.
/// Secrets (passphrases, access keys, tokens) are never stored here; a setting that needs one names the environment
/// variable to read it from.
/// </summary>
public sealed class SyncConfiguration
{
    /// <summary>The configuration format version (1).</summary>
    [JsonPropertyName("format")]
    public int Format { get; set; } = 1;

    private string? _backend;

    /// <summary>The backend type, as its <see cref="IStorageBackendFactory.Name"/>: "folder" (the default), "s3", "azure",
    /// "gist" or "postgres". Under dependency injection leave it (and <see cref="Settings"/>) unset:
    /// <see cref="GhostieSyncClient.SetupAsync"/> then saves the registered backend's name and settings, and refuses
    /// values that disagree with them (<see cref="BackendSettingsMismatchException"/>).</summary>
    [JsonPropertyName("backend")]
    public string Backend
    {
        get => _backend ?? "folder";
        set => _backend = value;
    }

    /// <summary>Whether <see cref="Backend"/> was assigned (read from a file or set by the caller), not left at its default.</summary>
    internal bool IsBackendSet => _backend is not null;

    /// <summary>Backend settings, as the backend's <see cref="IStorageBackendFactory"/> reads them (for the folder backend:
    /// "path"). Never secrets: a credential's setting names the environment variable it is read from.</summary>
    [JsonPropertyName("settings")]
    public Dictionary<string, string> Settings { get; set; } = new(StringComparer.Ordinal);

    /// <summary>This device's id (also in <c>sync/device_id</c>).</summary>
    [JsonPropertyName("device_id")]
    public string DeviceId { get; set; } = "";

    /// <summary>A human-friendly name for this device, shown to other devices (inside encrypted heads only).</summary>
    [JsonPropertyName("device_name")]
    public string DeviceName { get; set; } = "";

    /// <summary>The repository id this home syncs with.</summary>
    [JsonPropertyName("repository_id")]
    public string RepositoryId { get; set; } = "";

    /// <summary>When sync was set up.</summary>
    [JsonPropertyName("created_at")]
    public DateTimeOffset CreatedAt { get; set; }
}
