namespace Ghostie.Sync;

/// <summary>Reading the saved settings of a backend (<see cref="SyncConfiguration.Settings"/>), for <see cref="IStorageBackendFactory"/> implementations.</summary>
public static class BackendSettings
{
    /// <summary>The setting <paramref name="key"/>, which must be present and not blank.</summary>
    /// <param name="settings">The saved settings.</param>
    /// <param name="key">The setting, for example "bucket".</param>
    /// <param name="backend">The backend's name, for the message.</param>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.NotConfigured"/> naming the backend and the setting.</exception>
    public static string Required(IReadOnlyDictionary<string, string> settings, string key, string backend)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.TryGetValue(key, out string? value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"The saved settings of the {backend} backend (sync/config.json) do not name its '{key}' setting. Run setup again to save them.");
    }

    /// <summary>The setting <paramref name="key"/>, or null when absent or blank.</summary>
    /// <param name="settings">The saved settings.</param>
    /// <param name="key">The setting.</param>
    public static string? Optional(IReadOnlyDictionary<string, string> settings, string key)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.TryGetValue(key, out string? value) && !string.IsNullOrWhiteSpace(value) ? value : null;
    }
}
