using System.Text.Json;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

/// <summary>
/// The local layout under a Ghostie home (default <c>~/.ghostie</c>, or <c>$GHOSTIE_HOME</c>):
/// <c>memories/</c> (one JSON file per memory), <c>sync/config.json</c>, <c>sync/device_id</c>,
/// <c>sync/sync_state.json</c>, <c>sync/conflicts/</c>, and <c>keys/</c> (the device key cache).
/// </summary>
public sealed class GhostieHome
{
    /// <summary>Creates the view of a home folder (nothing is created until <see cref="EnsureCreated"/>).</summary>
    /// <param name="root">The home folder.</param>
    public GhostieHome(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
    }

    /// <summary>The default home: <c>$GHOSTIE_HOME</c> if set, otherwise <c>~/.ghostie</c>.</summary>
    public static string DefaultRoot =>
        Environment.GetEnvironmentVariable("GHOSTIE_HOME") is { Length: > 0 } fromEnv
            ? fromEnv
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ghostie");

    /// <summary>The home folder.</summary>
    public string Root { get; }

    /// <summary><c>memories/</c>.</summary>
    public string MemoriesPath => Path.Combine(Root, "memories");

    /// <summary><c>sync/</c>.</summary>
    public string SyncPath => Path.Combine(Root, "sync");

    /// <summary><c>sync/conflicts/</c>.</summary>
    public string ConflictsPath => Path.Combine(SyncPath, "conflicts");

    /// <summary><c>sync/config.json</c>.</summary>
    public string ConfigPath => Path.Combine(SyncPath, "config.json");

    /// <summary><c>sync/device_id</c>.</summary>
    public string DeviceIdPath => Path.Combine(SyncPath, "device_id");

    /// <summary><c>sync/sync_state.json</c>.</summary>
    public string StatePath => Path.Combine(SyncPath, "sync_state.json");

    /// <summary><c>sync/outbox.jsonl</c>: local versions committed but not yet pushed.</summary>
    public string OutboxPath => Path.Combine(SyncPath, "outbox.jsonl");

    /// <summary><c>keys/</c>.</summary>
    public string KeysPath => Path.Combine(Root, "keys");

    /// <summary>Whether sync has been set up here (<c>sync/config.json</c> exists).</summary>
    public bool IsConfigured => File.Exists(ConfigPath);

    /// <summary>The path of a memory's file.</summary>
    /// <param name="id">The memory id.</param>
    /// <exception cref="GhostieSyncException">The id is not a valid memory id (it could name a path outside the folder).</exception>
    public string MemoryPath(string id) => Path.Combine(MemoriesPath, CheckedId(id) + ".json");

    /// <summary>The path of a memory's conflict record.</summary>
    /// <param name="id">The memory id.</param>
    /// <exception cref="GhostieSyncException">The id is not a valid memory id.</exception>
    public string ConflictPath(string id) => Path.Combine(ConflictsPath, CheckedId(id) + ".json");

    private static string CheckedId(string id) => MemoryRecord.IsValidId(id)
        ? id
        : throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{id}' is not a valid memory id: use 1 to 128 letters, digits, '-' and '_'.");

    /// <summary>Creates the folders of the layout.</summary>
    public void EnsureCreated()
    {
        Directory.CreateDirectory(MemoriesPath);
        Directory.CreateDirectory(ConflictsPath);
    }

    /// <summary>Reads <c>sync/config.json</c>.</summary>
    /// <exception cref="GhostieSyncException">Not set up, or unreadable (<see cref="GhostieErrorCode.NotConfigured"/>).</exception>
    public SyncConfiguration ReadConfiguration()
    {
        if (!IsConfigured)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured, $"Sync is not set up in {Root}. Run 'ghostie sync setup' first.");
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(ConfigPath), CoreJson.Default.SyncConfiguration)
                ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured, $"{ConfigPath} is not valid JSON ({ex.Message}). Fix it, or move it aside and run 'ghostie sync setup' again.", innerException: ex);
        }
    }

    /// <summary>Writes <c>sync/config.json</c> and <c>sync/device_id</c>, atomically.</summary>
    /// <param name="configuration">The configuration; must hold no secrets.</param>
    public void WriteConfiguration(SyncConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AtomicFile.Write(ConfigPath, JsonSerializer.SerializeToUtf8Bytes(configuration, IndentedJson.Readable.SyncConfiguration));
        AtomicFile.Write(DeviceIdPath, System.Text.Encoding.UTF8.GetBytes(configuration.DeviceId + "\n"));
    }
}
