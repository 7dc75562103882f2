namespace Ghostie.Sync.Internal;

/// <summary>
/// Keeps two processes from syncing the same Ghostie home at once (a CLI run and a host app, say). This is a lock
/// on the local home only; the repository itself never needs one.
/// </summary>
internal sealed class LocalLock : IDisposable
{
    private readonly FileStream _stream;

    private LocalLock(FileStream stream) => _stream = stream;

    public static LocalLock Acquire(GhostieHome home)
    {
        Directory.CreateDirectory(home.SyncPath);
        string path = Path.Combine(home.SyncPath, ".lock");
        try
        {
            return new LocalLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
        }
        catch (IOException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.Busy,
                $"Another process is syncing {home.Root} right now. Wait for it to finish and try again.", isTransient: true, ex);
        }
    }

    public void Dispose() => _stream.Dispose();
}
