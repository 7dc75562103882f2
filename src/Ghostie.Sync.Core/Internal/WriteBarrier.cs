using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ghostie.Sync.Internal;

/// <summary>
/// Makes a batch of file writes durable at once. Applying a pull writes one file per memory; an fsync per file
/// costs about half a millisecond each here (100,000 memories: most of a minute), so the files are written
/// without one and made durable together, before the state that records them is saved. On Linux that is a
/// single syncfs(2) of the file system holding the home; elsewhere, an fsync per file written.
/// </summary>
internal sealed partial class WriteBarrier
{
    private readonly List<string> _pending = [];

    public void Written(string path) => _pending.Add(path);

    public void Flush(string anyFileOnTheSameFileSystem)
    {
        if (_pending.Count == 0)
        {
            return;
        }

        if (!OperatingSystem.IsLinux() || !TrySyncFs(anyFileOnTheSameFileSystem))
        {
            foreach (string path in _pending)
            {
                if (File.Exists(path))
                {
                    using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
                    RandomAccess.FlushToDisk(handle);
                }
            }
        }

        _pending.Clear();
    }

    private static bool TrySyncFs(string path)
    {
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.Read);
            return syncfs(handle.DangerousGetHandle().ToInt32()) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code; this signature is blittable
    [DllImport("libc", SetLastError = true)]
    private static extern int syncfs(int fd);
#pragma warning restore SYSLIB1054
}
