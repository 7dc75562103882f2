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

    /// <summary>Opens a secret file for reading and refuses it when group or others may access it (on Unix): "<paramref
    /// name="description"/> is accessible to other users (mode ...). Run 'chmod 600 ...' if this device is safe, or
    /// <paramref name="otherwise"/>." The permissions are those of the file actually opened (read through its handle),
    /// so the file cannot be swapped between the check and the read.</summary>
    /// <param name="path">The file.</param>
    /// <param name="description">How the message names the file.</param>
    /// <param name="otherwise">The alternative remedy.</param>
    /// <exception cref="GhostieSyncException">The file is readable by others (<see cref="GhostieErrorCode.InsecurePermissions"/>).</exception>
    public static FileStream OpenForReading(string path, string description, string otherwise)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                Refuse(File.GetUnixFileMode(stream.SafeFileHandle), path, description, otherwise);
            }

            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads a whole secret file opened by <see cref="OpenForReading"/>.</summary>
    public static byte[] ReadAllBytes(string path, string description, string otherwise)
    {
        using FileStream stream = OpenForReading(path, description, otherwise);
        byte[] content = new byte[stream.Length];
        stream.ReadExactly(content);
        return content;
    }

    private static void Refuse(UnixFileMode mode, string path, string description, string otherwise)
    {
        if ((mode & ~DirectoryMode700) != 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InsecurePermissions,
                $"{description} is accessible to other users (mode {Convert.ToString((int)mode, 8)}). Run 'chmod 600 {path}' if this device is safe, or {otherwise}.");
        }
    }
}
