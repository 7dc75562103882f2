namespace Ghostie.Sync.Internal;

/// <summary>
/// <c>sync/tmp</c> (a 0700 folder): packs pass through here compressed but unencrypted (before sealing on push, after
/// opening on pull). Files are created 0600 and deleted on close; files a killed process left behind are removed at
/// the start of the next sync.
/// </summary>
internal static class SyncTempFiles
{
    public static FileStream Create(GhostieHome home)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 65536,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(Path.Combine(Folder(home), Guid.NewGuid().ToString("N") + ".tmp"), options);
    }

    /// <summary>Deletes what a crash left in <c>sync/tmp</c>: plaintext copies of packs must not linger.</summary>
    public static void Clean(GhostieHome home)
    {
        string folder = Path.Combine(home.SyncPath, "tmp");
        if (Directory.Exists(folder))
        {
            foreach (string file in Directory.EnumerateFiles(folder))
            {
                File.Delete(file);
            }
        }
    }

    private static string Folder(GhostieHome home)
    {
        string folder = Path.Combine(home.SyncPath, "tmp");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if ((File.GetUnixFileMode(folder) & (UnixFileMode)0b000_111_111) != 0)
            {
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // made by an older version
            }
        }

        return folder;
    }
}
