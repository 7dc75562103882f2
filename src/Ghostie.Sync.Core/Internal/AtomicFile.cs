namespace Ghostie.Sync.Internal;

/// <summary>Whole-file writes that never leave a half-written file: temporary file beside it, flush to disk, rename.</summary>
internal static partial class AtomicFile
{
    /// <summary>How old a temporary file of <see cref="Write"/> must be before a sweep takes it for a crash's leftover:
    /// a live write holds its temporary file for milliseconds.</summary>
    public static readonly TimeSpan LeftoverAge = TimeSpan.FromMinutes(10);

    /// <summary>Deletes the temporary files a killed process left in <paramref name="directory"/> (named
    /// <c>.&lt;file&gt;.&lt;12 hex&gt;.tmp</c>, last written before <paramref name="writtenBefore"/>). Returns how many.</summary>
    public static int SweepLeftovers(string directory, DateTimeOffset writtenBefore)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        int removed = 0;
        foreach (string path in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            if (LeftoverName().IsMatch(Path.GetFileName(path)) && File.GetLastWriteTimeUtc(path) < writtenBefore.UtcDateTime)
            {
                try
                {
                    File.Delete(path);
                    removed++;
                }
                catch (IOException)
                {
                    // Taken meanwhile (renamed into place by a slow writer): nothing to clean.
                }
            }
        }

        return removed;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\..+\.[0-9a-f]{12}\.tmp$")]
    private static partial System.Text.RegularExpressions.Regex LeftoverName();

    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode? mode = null, WriteBarrier? deferFlushTo = null)
    {
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (mode is { } m && !OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = m;
            }

            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: deferFlushTo is null);
            }

            File.Move(temp, path, overwrite: true);
            deferFlushTo?.Written(path);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public static async Task WriteAsync(string path, Func<Stream, Task> writer)
    {
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 65536, FileOptions.Asynchronous))
            {
                await writer(stream).ConfigureAwait(false);
                await stream.FlushAsync().ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
