namespace Ghostie.Sync.Crypto.Internal;

/// <summary>Files and folders that only their owner may read (0600 / 0700 on Unix, set at creation, never widened).</summary>
internal static class OwnerOnlyFile
{
    public const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode DirectoryMode700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static FileStream Open(string path, FileMode mode, FileOptions options = FileOptions.None)
    {
        var fileOptions = new FileStreamOptions { Mode = mode, Access = FileAccess.ReadWrite, Share = FileShare.None, Options = options };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = FileMode600;
        }

        return new FileStream(path, fileOptions);
    }

    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, DirectoryMode700);
        }
    }

    /// <summary>Refuses a file that group or others may access (on Unix): "<paramref name="description"/> is accessible
    /// to other users (mode ...). Run 'chmod 600 ...' if this device is safe, or <paramref name="otherwise"/>."</summary>
    /// <param name="path">The file.</param>
    /// <param name="description">How the message names the file.</param>
    /// <param name="otherwise">The alternative remedy, for example "forget the device and unlock again with the passphrase".</param>
    /// <exception cref="GhostieSyncException">The file is readable by others (<see cref="GhostieErrorCode.InsecurePermissions"/>).</exception>
    public static void EnsureNotShared(string path, string description, string otherwise)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        UnixFileMode mode = File.GetUnixFileMode(path);
        if ((mode & ~DirectoryMode700) != 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InsecurePermissions,
                $"{description} is accessible to other users (mode {Convert.ToString((int)mode, 8)}). Run 'chmod 600 {path}' if this device is safe, or {otherwise}.");
        }
    }
}
