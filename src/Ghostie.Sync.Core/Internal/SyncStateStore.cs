using System.Security.Cryptography;
using System.Text.Json;

namespace Ghostie.Sync.Internal;

/// <summary>
/// <c>sync/sync_state.json</c>: what this device knows of the repository and of its own memory files
/// (docs/sync-protocol.md, "On the device"). Read and written whole, atomically; the outbox and the written-files journal cover what happened
/// after the last save.
/// </summary>
internal sealed class SyncStateStore
{
    private readonly GhostieHome _home;
    private FileStamp _stamp;

    public SyncStateStore(GhostieHome home) => _home = home;

    /// <summary>Whether another process wrote the file since this one last read or wrote it.</summary>
    public bool ChangedOnDisk => FileStamp.Of(_home.StatePath) != _stamp;

    public void MarkSeen() => _stamp = FileStamp.Of(_home.StatePath);

    /// <summary>Makes the next <see cref="ChangedOnDisk"/> true, so the state is read again.</summary>
    public void Invalidate() => _stamp = FileStamp.Unknown;

    /// <summary>The saved state (a new one when there is none), checked to belong to <paramref name="repositoryId"/>,
    /// with an installation id.</summary>
    /// <exception cref="UnsupportedFormatException">Written by a newer Ghostie.Sync.</exception>
    /// <exception cref="GhostieSyncException">Unreadable (<see cref="GhostieErrorCode.NotConfigured"/>) or of another
    /// repository (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public SyncStateDocument Read(string repositoryId)
    {
        SyncStateDocument state = File.Exists(_home.StatePath) ? ReadFile(repositoryId) : new SyncStateDocument();
        if (state.Installation.Length == 0)
        {
            state.Installation = NewInstallationId();
        }

        return state;
    }

    public void Write(SyncStateDocument state) =>
        AtomicFile.WriteAsync(_home.StatePath, s => JsonSerializer.SerializeAsync(s, state, CoreJson.Default.SyncStateDocument)).GetAwaiter().GetResult();

    /// <summary>Random, made with the state: tells this installation's heads from those of another one using the same device id.</summary>
    public static string NewInstallationId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>The installation id of the home's state, when the state is for <paramref name="prefix"/>; else null
    /// (also when it is unreadable, which proves nothing).</summary>
    public static string? InstallationOf(GhostieHome home, string prefix)
    {
        try
        {
            if (!File.Exists(home.StatePath))
            {
                return null;
            }

            SyncStateDocument? state = JsonSerializer.Deserialize(File.ReadAllBytes(home.StatePath), CoreJson.Default.SyncStateDocument);
            return state is { Installation.Length: > 0 } && state.DevicePrefix == prefix ? state.Installation : null;
        }
        catch (JsonException)
        {
            return null; // an unreadable state proves nothing: treat the home as new
        }
    }

    private SyncStateDocument ReadFile(string repositoryId)
    {
        byte[] json = File.ReadAllBytes(_home.StatePath);
        if (FormatPeek.Read(json) is long format && format > 1)
        {
            // Written by a newer Ghostie.Sync: reading it with this version's meaning, then saving it back as
            // format 1, would lose what the newer version recorded.
            throw new UnsupportedFormatException($"Sync state file '{_home.StatePath}'", (int)Math.Min(format, int.MaxValue), 1);
        }

        SyncStateDocument state;
        try
        {
            state = JsonSerializer.Deserialize(json, CoreJson.Default.SyncStateDocument) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"{_home.StatePath} is unreadable ({ex.Message}). Move it aside and pull again to rebuild it from the repository.", innerException: ex);
        }

        if (state.RepositoryId.Length > 0 && state.RepositoryId != repositoryId)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{_home.Root} syncs with repository {state.RepositoryId}, not {repositoryId}. Use another Ghostie home for this repository.");
        }

        return state;
    }
}
