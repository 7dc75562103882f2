namespace Ghostie.Sync.Internal;

/// <summary>
/// Watches a home's <c>memories/</c> folder (through its root, so a folder created later is seen too) and calls back on
/// any change of a memory file. Sync's own writes call back as well; the debounced push that follows finds nothing to
/// push (the check sees the files as sync wrote them) and writes nothing.
/// </summary>
internal sealed class MemoriesWatcher : IDisposable
{
    private readonly FileSystemWatcher? _watcher;
    private readonly string _memories;
    private readonly Action _changed;

    /// <summary>A watcher that watches nothing (watching failed; the interval still picks local changes up).</summary>
    public static MemoriesWatcher None { get; } = new();

    private MemoriesWatcher()
    {
        _memories = "";
        _changed = () => { };
    }

    public MemoriesWatcher(GhostieHome home, Action changed)
    {
        _memories = Path.TrimEndingDirectorySeparator(home.MemoriesPath);
        _changed = changed;
        _watcher = new FileSystemWatcher(home.Root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        _watcher.Created += OnChanged;
        _watcher.Changed += OnChanged;
        _watcher.Deleted += OnChanged;
        _watcher.Renamed += (_, e) =>
        {
            if (IsMemory(e.FullPath) || IsMemory(e.OldFullPath))
            {
                _changed();
            }
        };
        _watcher.Error += (_, _) => _changed(); // events were lost (buffer overflow): the check scans everything anyway
        _watcher.EnableRaisingEvents = true;
    }

    private void OnChanged(object sender, FileSystemEventArgs e)
    {
        if (IsMemory(e.FullPath))
        {
            _changed();
        }
    }

    private bool IsMemory(string path)
    {
        if (string.Equals(Path.TrimEndingDirectorySeparator(path), _memories, StringComparison.Ordinal))
        {
            return true; // the folder itself created, deleted or moved
        }

        string name = Path.GetFileName(path);
        return string.Equals(Path.GetDirectoryName(path), _memories, StringComparison.Ordinal)
            && name.EndsWith(".json", StringComparison.Ordinal) && !name.StartsWith('.');
    }

    public void Dispose() => _watcher?.Dispose();
}
