using System.Text.RegularExpressions;
using Ghostie.Sync.KnowledgeGraph.Internal;

namespace Ghostie.Sync.KnowledgeGraph;

public sealed partial class KnowledgeGraphSync
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);
    private Regex? _serverTemporary;

    /// <summary>
    /// The file's bytes (null when it does not exist), read when the server is not writing it and unchanged from
    /// before the read to after it (size and last write time), so an edit in place is never read half-done.
    /// </summary>
    private async Task<byte[]?> ReadStableAsync(ProblemList problems, CancellationToken cancellationToken)
    {
        for (int i = 0; ; i++)
        {
            await WaitWhileServerWritesAsync(problems, cancellationToken).ConfigureAwait(false);
            var before = new FileInfo(_path);
            if (!before.Exists)
            {
                return null;
            }

            byte[]? bytes = TryReadAll();
            var after = new FileInfo(_path);
            if (bytes is not null && after.Exists && before.Length == after.Length && before.LastWriteTimeUtc == after.LastWriteTimeUtc && bytes.Length == after.Length)
            {
                return bytes;
            }

            if (i >= 100)
            {
                throw new GhostieSyncException(GhostieErrorCode.Busy,
                    $"The graph file {_path} changed during every read: something is writing it continuously. Stop it, then run graph sync again; nothing was changed.", isTransient: true);
            }

            await Task.Delay(Poll, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private byte[]? TryReadAll()
    {
        try
        {
            using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (FileNotFoundException)
        {
            return null; // replaced or removed between the look and the read: read again
        }
    }

    /// <summary>
    /// Waits while the memory server is writing the file: it writes <c>&lt;file&gt;.&lt;32 hex&gt;.tmp</c> beside it and
    /// renames that over the file. A temporary file older than <see cref="KnowledgeGraphSyncOptions.StaleTemporaryFileAge"/>
    /// is a killed server's leftover: reported, not waited for, never deleted.
    /// </summary>
    private async Task WaitWhileServerWritesAsync(ProblemList problems, CancellationToken cancellationToken)
    {
        _serverTemporary ??= new Regex("^" + Regex.Escape(Path.GetFileName(_path)) + @"\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant);
        DateTimeOffset deadline = _options.TimeProvider.GetUtcNow() + _options.WriterTimeout;
        bool logged = false;
        while (true)
        {
            DateTimeOffset now = _options.TimeProvider.GetUtcNow();
            string? writing = null;
            foreach (FileInfo file in new DirectoryInfo(Path.GetDirectoryName(_path)!).EnumerateFiles(Path.GetFileName(_path) + ".*.tmp"))
            {
                if (!_serverTemporary.IsMatch(file.Name))
                {
                    continue;
                }

                if (now - new DateTimeOffset(file.LastWriteTimeUtc) >= _options.StaleTemporaryFileAge)
                {
                    problems.Add(GhostieErrorCode.MalformedLocalFile, file.FullName,
                        $"{file.FullName} is a temporary file the memory server left when it was stopped mid-write; it is not part of the graph and was left untouched. Delete it once no server runs on {_path}.");
                    continue;
                }

                writing = file.Name;
            }

            if (writing is null)
            {
                return;
            }

            if (now >= deadline)
            {
                throw new GhostieSyncException(GhostieErrorCode.Busy,
                    $"The memory server has been writing {_path} for over {_options.WriterTimeout.TotalSeconds:0.#} s (its temporary file {writing} is still there). Run graph sync again when it is idle; nothing was changed.",
                    isTransient: true);
            }

            if (!logged)
            {
                GraphLog.WaitingForServer(_logger);
                logged = true;
            }

            await Task.Delay(Poll, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Replaces the file with <paramref name="output"/> atomically: a temporary file in the same folder (flushed to disk,
    /// with the file's permissions), renamed over the file only if the server is not writing and the file still holds
    /// <paramref name="expected"/> (what this round merged). Then, after <see cref="KnowledgeGraphSyncOptions.SettleDelay"/>,
    /// checks that the file still holds what was written: a server that read the file just before the rename writes its
    /// version within that time, and the next round merges it.
    /// </summary>
    private async Task<WriteOutcome> WriteAsync(byte[] output, byte[]? expected, ProblemList problems, CancellationToken cancellationToken)
    {
        string temporary = Path.Combine(Path.GetDirectoryName(_path)!, "." + Path.GetFileName(_path) + "." + Guid.NewGuid().ToString("N")[..12] + ".ghostie.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows() && File.Exists(_path))
            {
                options.UnixCreateMode = File.GetUnixFileMode(_path);
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(output);
                stream.Flush(flushToDisk: true);
            }

            await WaitWhileServerWritesAsync(problems, cancellationToken).ConfigureAwait(false);
            byte[]? current = File.Exists(_path) ? TryReadAll() : null;
            if (!Same(current, expected))
            {
                return WriteOutcome.ChangedBeforeWrite;
            }

            File.Move(temporary, _path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }

        TestHook?.Invoke("renamed");
        if (_options.SettleDelay > TimeSpan.Zero)
        {
            await Task.Delay(_options.SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        byte[]? after = await ReadStableAsync(problems, cancellationToken).ConfigureAwait(false);
        return Same(after, output) ? WriteOutcome.Written : WriteOutcome.OverwrittenAfterWrite;
    }

    private static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    /// <summary>The graph the last graph sync left in the file, or null before the first one.</summary>
    private GraphFileContent? LoadSnapshot(ProblemList problems)
    {
        if (!File.Exists(_snapshotPath))
        {
            return null;
        }

        GraphFileContent snapshot = MemoryGraphFile.Parse(File.ReadAllBytes(_snapshotPath));
        if (snapshot.KeptLines.Count > 0)
        {
            // Damaged (graph sync only ever writes well-formed lines): without it, no deletion can be inferred this time.
            problems.Add(GhostieErrorCode.MalformedLocalFile, _snapshotPath,
                $"{_snapshotPath} (what the last graph sync left in {_path}) is damaged, so this sync took nothing for a deletion; it is replaced when the sync completes.");
            return null;
        }

        return snapshot;
    }

    private void SaveSnapshot(KnowledgeGraph graph)
    {
        string folder = Path.GetDirectoryName(_snapshotPath)!;
        Directory.CreateDirectory(folder);
        string temporary = Path.Combine(folder, "." + Path.GetFileName(_snapshotPath) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // graph content, like memory files: this user only
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(MemoryGraphFile.Serialize(graph.Canonical()));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, _snapshotPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
