namespace Ghostie.Sync.Backends.FileSystem;

/// <summary>Options of the folder backend.</summary>
public sealed class FileSystemBackendOptions
{
    /// <summary>The repository folder (created if missing). Required.</summary>
    public string Path { get; set; } = "";

    /// <summary>
    /// Whether the folder is shared between users of one Unix group: objects are then written 0660 and the folders the
    /// backend creates 0770. False (the default): objects 0600 and folders 0700, readable by their owner only. Ignored
    /// on Windows, where the folder's access control list applies. See docs/backends/folder.md.
    /// </summary>
    public bool SharedWithGroup { get; set; }
}
