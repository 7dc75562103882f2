using System.Runtime.CompilerServices;

namespace Ghostie.Sync.Backends.FileSystem;

/// <summary>
/// A repository in a folder: each object is a file at <c>&lt;root&gt;/&lt;name&gt;</c> (names contain '/', so
/// objects live in subfolders). The folder may be local, a USB disk, a network share or a folder that another
/// tool synchronizes (Dropbox, Syncthing, iCloud Drive).
/// </summary>
/// <remarks>
/// Writes go to a hidden temporary file beside the target, are flushed to disk, then renamed into place, so a
/// crash never leaves a half-written object under a real name. The protocol does not rely on rename being atomic
/// for other machines or on listings being current: objects are immutable and authenticated, so a copy that a
/// sync tool has only half delivered fails its integrity check and is retried later. Temporary files (names
/// starting with '.') never appear in listings. On Unix, objects are written 0600 and the folders the backend creates
/// 0700 (0660 and 0770 with <see cref="FileSystemBackendOptions.SharedWithGroup"/>); folders that exist already keep
/// their mode.
/// </remarks>
public sealed class FileSystemBackend : IConditionalStorageBackend
{
    private const string TempPrefix = ".tmp-";

    /// <summary>Creates a backend over <paramref name="rootPath"/>. Nothing is created until the first write, so a
    /// disk that is not mounted is never mistaken for an empty repository by creating its mount point.</summary>
    /// <param name="rootPath">The repository folder.</param>
    public FileSystemBackend(string rootPath)
        : this(new FileSystemBackendOptions { Path = rootPath })
    {
    }

    /// <summary>Creates a backend from its options (folder and permissions). Nothing is created until the first write.</summary>
    /// <param name="options">The repository folder, and whether it is shared with the owner's group.</param>
    public FileSystemBackend(FileSystemBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Path, nameof(options));
        RootPath = Path.GetFullPath(options.Path);
        SharedWithGroup = options.SharedWithGroup;
    }

    /// <summary>The repository folder's full path.</summary>
    public string RootPath { get; }

    /// <summary>Whether objects are written 0660 and new folders 0770 (shared with the group) rather than 0600 and 0700.</summary>
    public bool SharedWithGroup { get; }

    /// <inheritdoc />
    public string DisplayName => "folder " + RootPath;

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        string temp = await WriteTempAsync(name, content, cancellationToken).ConfigureAwait(false);
        try
        {
            File.Move(temp, PathOf(name), overwrite: true);
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    /// <inheritdoc />
    public async Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        string target = PathOf(name);
        if (File.Exists(target))
        {
            return false;
        }

        string temp = await WriteTempAsync(name, content, cancellationToken).ConfigureAwait(false);
        try
        {
            // Without overwrite, .NET moves with link()+unlink() on Unix and MoveFileEx without REPLACE on Windows:
            // it fails, atomically, if the target appeared in the meantime.
            File.Move(temp, target, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(target))
        {
            return false;
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    /// <inheritdoc />
    /// <remarks>The version of a file is its last write time and length.</remarks>
    public Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = new FileInfo(PathOf(name));
        return Task.FromResult(file.Exists ? VersionOf(file) : null);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A folder has no compare-and-swap: the version is checked just before the rename, which is atomic on one machine
    /// but not across machines sharing the folder. The sync protocol never relies on it (each device writes only its
    /// own objects); it is offered for hosts that want a best-effort guard.
    /// </remarks>
    public async Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expectedVersion);
        string target = PathOf(name);
        string temp = await WriteTempAsync(name, content, cancellationToken).ConfigureAwait(false);
        try
        {
            var file = new FileInfo(target);
            if (!file.Exists || VersionOf(file) != expectedVersion)
            {
                return false;
            }

            File.Move(temp, target, overwrite: true);
            return true;
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    private static string VersionOf(FileInfo file) =>
        file.LastWriteTimeUtc.Ticks.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "-" + file.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string path = PathOf(name);
        try
        {
            Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw Unavailable($"Cannot read '{name}' in {DisplayName}: permission denied. Check the folder's permissions.", ex);
        }
        catch (IOException ex)
        {
            throw Unavailable($"Cannot read '{name}' in {DisplayName}: {ex.Message} (another program may be writing it); try again.", ex, transient: true);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);

        // Start from the deepest folder the prefix names, so listing "p/abc/" does not walk the whole repository.
        int slash = prefix.LastIndexOf('/');
        string folder = slash < 0 ? RootPath : Path.Combine(RootPath, prefix[..slash].Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        var names = new List<string>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        foreach (string file in Directory.EnumerateFiles(folder, "*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string name = Path.GetRelativePath(RootPath, file).Replace(Path.DirectorySeparatorChar, '/');
            if (name.StartsWith(prefix, StringComparison.Ordinal) && ObjectName.IsValid(name))
            {
                names.Add(name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        foreach (string name in names)
        {
            yield return name;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string path = PathOf(name);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.FromResult(false);
        }

        return Task.FromResult(true);
    }

    private string PathOf(string name)
    {
        ObjectName.Validate(name);
        return Path.Combine(RootPath, name.Replace('/', Path.DirectorySeparatorChar));
    }

    private async Task<string> WriteTempAsync(string name, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        string target = PathOf(name);
        string directory = Path.GetDirectoryName(target)!;
        string temp = Path.Combine(directory, TempPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            CreateFolders(directory);
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 81920, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = ObjectFileMode;
            }

            await using var file = new FileStream(temp, fileOptions);
            if (!OperatingSystem.IsWindows())
            {
                // The umask may have removed bits of the create mode (group write, typically): set it exactly.
                File.SetUnixFileMode(file.SafeFileHandle, ObjectFileMode);
            }

            await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
            return temp;
        }
        catch (UnauthorizedAccessException ex)
        {
            DeleteQuietly(temp);
            throw Unavailable($"Cannot write '{name}' in {DisplayName}: permission denied. Check the folder's permissions.", ex);
        }
        catch (IOException ex) when (ex is not FileNotFoundException)
        {
            DeleteQuietly(temp);
            throw Unavailable($"Cannot write '{name}' in {DisplayName}: {ex.Message}", ex, transient: true);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
    }

    private UnixFileMode ObjectFileMode => SharedWithGroup
        ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite
        : UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private UnixFileMode FolderMode => SharedWithGroup
        ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Creates the missing folders from the repository root down to <paramref name="directory"/>, each with
    /// <see cref="FolderMode"/> exactly (whatever the umask). Folders that already exist keep their mode: the
    /// repository folder may be a mount point or a folder whose permissions the user chose.
    /// </summary>
    private void CreateFolders(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        var missing = new Stack<string>();
        for (string? current = directory; current is not null && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing.Push(current);
        }

        while (missing.TryPop(out string? folder))
        {
            Directory.CreateDirectory(folder, FolderMode);
            File.SetUnixFileMode(folder, FolderMode);
        }
    }

    private static GhostieSyncException Unavailable(string message, Exception inner, bool transient = false) =>
        new(GhostieErrorCode.BackendUnavailable, message, transient, inner);

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
