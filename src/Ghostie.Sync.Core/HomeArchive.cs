using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

/// <summary>
/// Export and import of everything a Ghostie home holds, as one versioned archive (docs/format.md, "Home archive"):
/// every memory with all its surviving versions (so conflicts and tombstones travel too, with their version vectors
/// and clocks), and the files of <c>handoff/</c> and <c>vectors/</c> as they are. Encrypted under a passphrase
/// unless plain is asked for.
/// </summary>
/// <remarks>
/// An import merges through the sync protocol: each archived version joins the home's versions exactly as a pulled
/// one does (a version the home already has, or has something newer of, changes nothing; a concurrent one is kept
/// as a conflict; a newer one replaces the memory), and goes to the outbox, so the next push uploads it. The whole
/// archive is verified before the first write.
/// </remarks>
public static class HomeArchive
{
    /// <summary>The archive format version this library writes and the newest it reads.</summary>
    public const int FormatVersion = ArchiveFormat.Version;

    private const int Batch = 1000;

    /// <summary>
    /// Writes the home's archive to <paramref name="path"/>: local changes are committed first, then every memory is
    /// streamed (one at a time) to a temporary file beside the destination, which is flushed to disk and renamed into
    /// place, so the destination is never a half-written archive.
    /// </summary>
    /// <param name="manager">The home's manager (the export runs as one of its operations, under the home's lock).</param>
    /// <param name="path">The archive's path.</param>
    /// <param name="options">Passphrase or plain, KDF cost, overwrite.</param>
    /// <param name="progress">Receives progress every few hundred memories.</param>
    /// <param name="cancellationToken">Cancels the export; the temporary file is deleted and nothing is left at <paramref name="path"/>.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.InvalidArgument"/> for options that are
    /// neither a passphrase nor plain, or a destination that exists (without <see cref="HomeArchiveExportOptions.Overwrite"/>);
    /// <see cref="GhostieErrorCode.LocalStorageFailure"/> when the archive cannot be written.</exception>
    public static Task<HomeArchiveExportResult> ExportAsync(MemorySyncManager manager, string path, HomeArchiveExportOptions options,
        IProgress<HomeArchiveProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string full = Path.GetFullPath(path);
        if (!options.Overwrite && (File.Exists(full) || Directory.Exists(full)))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{full} already exists. Choose another path, or allow overwriting it.");
        }

        SyncEngine engine = manager.Engine;
        return engine.RunExclusiveAsync("export", () => Task.FromResult(Export(engine, full, options, progress, cancellationToken)), cancellationToken);
    }

    /// <summary>
    /// Imports an archive into the home: verifies all of it first (nothing is written if any part is wrong), then merges
    /// every archived version through the sync protocol and writes the handoff and vector files the home lacks; then,
    /// when <paramref name="push"/>, pushes.
    /// </summary>
    /// <param name="manager">The home's manager.</param>
    /// <param name="path">The archive's path.</param>
    /// <param name="passphrase">The archive's passphrase; ignored for a plain archive.</param>
    /// <param name="push">Push after importing (default true). A failed push is reported in the result; the imported
    /// versions stay in the outbox for the next push.</param>
    /// <param name="progress">Receives progress while verifying and importing.</param>
    /// <param name="cancellationToken">Cancels the import; what was merged before is kept (consistent and durable,
    /// as after a cancelled pull) and nothing half-written is left.</param>
    /// <returns>What was merged, what was already present, and the push.</returns>
    /// <exception cref="HomeArchiveException">The archive is of a newer format (<see cref="GhostieErrorCode.UnsupportedFormat"/>),
    /// truncated, damaged or tampered with (<see cref="GhostieErrorCode.IntegrityFailure"/>), or the passphrase is wrong
    /// (<see cref="GhostieErrorCode.WrongPassphrase"/>); nothing was imported.</exception>
    public static async Task<HomeArchiveImportResult> ImportAsync(MemorySyncManager manager, string path, string? passphrase, bool push = true,
        IProgress<HomeArchiveProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new GhostieSyncException(GhostieErrorCode.NotFound, $"{full} does not exist. Give the path of an archive written by 'ghostie export'.");
        }

        SyncEngine engine = manager.Engine;
        HomeArchiveImportResult result = await engine.RunExclusiveAsync("import",
            () => ImportLockedAsync(engine, full, passphrase, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (!push)
        {
            return result;
        }

        try
        {
            return result with { Push = await manager.PushAsync(null, cancellationToken).ConfigureAwait(false) };
        }
        catch (GhostieSyncException ex)
        {
            return result with { PushError = ex.Message };
        }
    }

    private static HomeArchiveExportResult Export(SyncEngine engine, string path, HomeArchiveExportOptions options, IProgress<HomeArchiveProgress>? progress, CancellationToken cancellationToken)
    {
        SyncContext sync = engine.Context;
        engine.Changes.Commit(null); // an unpushed local edit becomes a version first, so the archive holds it
        var problems = new List<SyncProblem>(sync.Problems);
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        long memories = 0, versions = 0, conflicts = 0, files = 0, bytes;
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (var writer = new ArchiveWriter(stream, options.Plain ? null : options.Passphrase, options.Pbkdf2Iterations, 32))
            {
                writer.WriteJson(ArchiveFormat.FrameManifest, new ArchiveManifest
                {
                    Format = ArchiveFormat.Version,
                    CreatedAt = sync.Now,
                    DeviceId = sync.DeviceId,
                    DeviceName = sync.DeviceName,
                    RepositoryId = sync.Keys.RepositoryId,
                }, ArchiveJson.Default.ArchiveManifest);

                List<string> ids = sync.State.Records.Where(r => r.Value.Versions.Count > 0).Select(r => r.Key).Order(StringComparer.Ordinal).ToList();
                var applier = engine.Applier;
                foreach (string id in ids)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    List<VersionInfo> known = sync.State.Records[id].Versions;
                    List<PackEntry> entries = EntriesOf(sync, applier, id, known, problems);
                    if (entries.Count > 0)
                    {
                        writer.WriteJson(ArchiveFormat.FrameMemory, new ArchiveMemory { Id = id, Versions = entries }, ArchiveJson.Default.ArchiveMemory);
                        memories++;
                        versions += entries.Count;
                        conflicts += RecordState.Conflicted(known) ? 1 : 0;
                        if (memories % 256 == 0)
                        {
                            progress?.Report(new HomeArchiveProgress("export", memories, ids.Count, stream.Position));
                        }
                    }
                }

                files = WriteFiles(sync.Home, writer, problems, cancellationToken);
                writer.WriteEnd(memories, versions, files);
                bytes = stream.Position;
                progress?.Report(new HomeArchiveProgress("export", memories, ids.Count, bytes));
            }

            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temporary, path, options.Overwrite);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        return new HomeArchiveExportResult
        {
            Path = path,
            Encrypted = !options.Plain,
            Memories = memories,
            Versions = versions,
            Conflicts = conflicts,
            Files = files,
            Bytes = bytes,
            Problems = problems,
        };
    }

    /// <summary>Every surviving version of a memory with its content: the winner's from the memory file, the others'
    /// from the conflict record. A version whose content is not on this device is reported and left out.</summary>
    private static List<PackEntry> EntriesOf(SyncContext sync, VersionApplier applier, string id, List<VersionInfo> known, List<SyncProblem> problems)
    {
        var contents = new Dictionary<string, MemoryRecord>(StringComparer.Ordinal);
        string file = sync.Home.MemoryPath(id);
        if (File.Exists(file) && LocalMemoryStore.Read(file).Record is { } shown)
        {
            MemoryRecord bare = shown with { SyncMetadata = null };
            contents.TryAdd(LocalMemoryStore.ContentHash(bare), bare);
        }

        if (known.Count > 1 && applier.ReadConflict(id) is { } conflict)
        {
            foreach (ConflictVersion version in conflict.Losers.Append(conflict.Winner))
            {
                if (version.Record is not null)
                {
                    contents.TryAdd(version.Hash, version.Record with { SyncMetadata = null });
                }
            }
        }

        var entries = new List<PackEntry>(known.Count);
        foreach (VersionInfo version in known)
        {
            MemoryRecord? record = null;
            if (!version.Deleted && !contents.TryGetValue(version.Hash, out record))
            {
                problems.Add(new SyncProblem(GhostieErrorCode.NotFound, id,
                    $"The version of memory '{id}' from device '{version.Origin}' has no content on this device (its file or conflict record was changed or removed); it was left out of the archive. Sync, then export again."));
                continue;
            }

            entries.Add(new PackEntry
            {
                Id = id,
                VersionVector = new Dictionary<string, long>(version.VersionVector, StringComparer.Ordinal),
                WallMs = version.WallMs,
                Counter = version.Counter,
                Origin = version.Origin,
                Deleted = version.Deleted,
                Hash = version.Hash,
                Record = record,
            });
        }

        return entries;
    }

    /// <summary>The files under the home's <c>handoff/</c> and <c>vectors/</c> (temporary files of atomic writes
    /// excepted), in chunks of at most 1 MiB, in ordinal order of their paths.</summary>
    private static long WriteFiles(GhostieHome home, ArchiveWriter writer, List<SyncProblem> problems, CancellationToken cancellationToken)
    {
        var paths = new List<string>();
        foreach (string folder in ArchiveFormat.FileFolders)
        {
            string root = Path.Combine(home.Root, folder);
            if (!Directory.Exists(root))
            {
                continue;
            }

            foreach (string file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(home.Root, file).Replace(Path.DirectorySeparatorChar, '/');
                if (Path.GetFileName(file).StartsWith('.'))
                {
                    continue; // a temporary file of an atomic write
                }

                if (ArchiveFormat.IsValidFilePath(relative))
                {
                    paths.Add(relative);
                }
                else
                {
                    problems.Add(new SyncProblem(GhostieErrorCode.InvalidArgument, relative,
                        $"{relative} was left out of the archive: its name has a character an archive does not carry (a control character, '\\' or ':'). Rename it and export again if it matters."));
                }
            }
        }

        paths.Sort(StringComparer.Ordinal);
        byte[] buffer = new byte[ArchiveFormat.FileChunk];
        foreach (string relative in paths)
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[] name = Encoding.UTF8.GetBytes(relative);
            using var input = new FileStream(Path.Combine(home.Root, relative), FileMode.Open, FileAccess.Read, FileShare.Read);
            long offset = 0;
            bool last;
            do
            {
                int n = input.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                last = n < buffer.Length || input.Position == input.Length;
                byte[] content = new byte[2 + name.Length + 9 + n];
                BinaryPrimitives.WriteUInt16BigEndian(content, (ushort)name.Length);
                name.CopyTo(content, 2);
                BinaryPrimitives.WriteInt64BigEndian(content.AsSpan(2 + name.Length), offset);
                content[2 + name.Length + 8] = last ? (byte)1 : (byte)0;
                buffer.AsSpan(0, n).CopyTo(content.AsSpan(2 + name.Length + 9));
                writer.WriteFrame(ArchiveFormat.FrameFile, content);
                offset += n;
            }
            while (!last);
        }

        return paths.Count;
    }

    private static async Task<HomeArchiveImportResult> ImportLockedAsync(SyncEngine engine, string path, string? passphrase, IProgress<HomeArchiveProgress>? progress, CancellationToken cancellationToken)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: false);
        string name = Path.GetFileName(path);

        // Pass 1: the whole archive, verified, before anything is written.
        long total;
        using (var reader = new ArchiveReader(stream, name))
        {
            await reader.ReadHeaderAsync(passphrase, cancellationToken).ConfigureAwait(false);
            total = await ReadAllAsync(reader, stream, progress, null, cancellationToken).ConfigureAwait(false);
        }

        // Pass 2: the same bytes again (the file is open, not shared for writing), merged.
        stream.Position = 0;
        using (var reader = new ArchiveReader(stream, name))
        {
            await reader.ReadHeaderAsync(passphrase, cancellationToken).ConfigureAwait(false);
            var import = new Import(engine, total);
            await ReadAllAsync(reader, stream, progress, import, cancellationToken).ConfigureAwait(false);
            return import.Result();
        }
    }

    /// <summary>Reads and checks every frame; with <paramref name="import"/>, also applies each. Returns the memories counted.</summary>
    private static async Task<long> ReadAllAsync(ArchiveReader reader, Stream stream, IProgress<HomeArchiveProgress>? progress, Import? import, CancellationToken cancellationToken)
    {
        using var files = new FileAssembly(reader) { StagingDirectory = import?.StagingDirectory };
        try
        {
            while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } frame)
            {
                cancellationToken.ThrowIfCancellationRequested();
                switch (frame.Type)
                {
                    case ArchiveFormat.FrameManifest:
                        ArchiveManifest manifest = Parse(reader, frame, ArchiveJson.Default.ArchiveManifest);
                        if (import is not null)
                        {
                            import.Manifest = manifest;
                        }

                        break;
                    case ArchiveFormat.FrameMemory:
                        files.NoOpenFile(frame.Index);
                        ArchiveMemory memory = CheckMemory(reader, frame);
                        reader.Memories++;
                        reader.Versions += memory.Versions.Count;
                        import?.Merge(memory);
                        if (reader.Memories % 256 == 0)
                        {
                            progress?.Report(new HomeArchiveProgress(import is null ? "verify" : "import", reader.Memories, import?.Total ?? -1, stream.Position));
                        }

                        break;
                    case ArchiveFormat.FrameFile:
                        if (files.Add(frame) is { } complete)
                        {
                            reader.Files++;
                            import?.WriteFile(complete);
                        }

                        break;
                }
            }

            files.NoOpenFile(-1);
            import?.Finish();
        }
        catch (OperationCanceledException)
        {
            import?.Finish(); // what was merged stays consistent and durable
            throw;
        }

        progress?.Report(new HomeArchiveProgress(import is null ? "verify" : "import", reader.Memories, reader.Memories, stream.Position));
        return reader.Memories;
    }

    private static T Parse<T>(ArchiveReader reader, ArchiveFrame frame, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        try
        {
            return JsonSerializer.Deserialize(frame.Content, info) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw reader.Damaged($"frame {frame.Index} is not valid JSON", ex);
        }
    }

    /// <summary>A memory frame's versions, each well formed: a valid id, an origin, a content matching its hash.</summary>
    private static ArchiveMemory CheckMemory(ArchiveReader reader, ArchiveFrame frame)
    {
        ArchiveMemory memory = Parse(reader, frame, ArchiveJson.Default.ArchiveMemory);
        if (!MemoryRecord.IsValidId(memory.Id) || memory.Versions is not { Count: > 0 })
        {
            throw reader.Damaged($"frame {frame.Index} holds no valid memory (bad id or no version)");
        }

        foreach (PackEntry entry in memory.Versions)
        {
            bool wellFormed = entry.Id == memory.Id && entry.Origin.Length > 0 && entry.VersionVector is { Count: > 0 } && entry.VersionVector.Values.All(n => n > 0)
                && (entry.Deleted
                    ? entry.Record is null && entry.Hash == "deleted"
                    : entry.Record is { } record && record.Id == memory.Id && record.SyncMetadata is null && LocalMemoryStore.ContentHash(record) == entry.Hash);
            if (!wellFormed)
            {
                throw reader.Damaged($"frame {frame.Index} (memory '{memory.Id}') holds a malformed version (from device '{entry.Origin}'; its content does not match its hash, or a field is missing)");
            }
        }

        return memory;
    }

    /// <summary>File frames put back together, one file at a time, in order; each complete file is staged as a
    /// temporary file (in the home's temporary folder) only while importing.</summary>
    private sealed class FileAssembly(ArchiveReader reader) : IDisposable
    {
        private string? _path;
        private long _offset;
        private long _openedAt;
        private FileStream? _staging;
        private string? _stagingPath;

        public string? StagingDirectory { get; set; }

        public void NoOpenFile(long index)
        {
            if (_path is not null)
            {
                throw reader.Damaged(index < 0 ? $"file '{_path}' (from frame {_openedAt}) has no last chunk" : $"frame {index} interrupts file '{_path}' (from frame {_openedAt})");
            }
        }

        /// <summary>The file completed by this frame (its staged copy, or null while verifying), or null when more follows.</summary>
        public (string Path, string? Staged)? Add(ArchiveFrame frame)
        {
            byte[] c = frame.Content;
            int nameLength = c.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(c) : int.MaxValue;
            if (c.Length < 2 + nameLength + 9)
            {
                throw reader.Damaged($"frame {frame.Index} is a file chunk too short for its header");
            }

            string path;
            try
            {
                path = new UTF8Encoding(false, true).GetString(c, 2, nameLength);
            }
            catch (DecoderFallbackException ex)
            {
                throw reader.Damaged($"frame {frame.Index} names a file in invalid UTF-8", ex);
            }

            long offset = BinaryPrimitives.ReadInt64BigEndian(c.AsSpan(2 + nameLength));
            byte last = c[2 + nameLength + 8];
            if (!ArchiveFormat.IsValidFilePath(path) || last > 1)
            {
                throw reader.Damaged($"frame {frame.Index} is a file chunk with a path that is not under handoff/ or vectors/, or a bad last-chunk flag");
            }

            if (_path is null)
            {
                if (offset != 0)
                {
                    throw reader.Damaged($"frame {frame.Index} continues file '{path}' that did not start");
                }

                (_path, _offset, _openedAt) = (path, 0, frame.Index);
                if (StagingDirectory is not null)
                {
                    Directory.CreateDirectory(StagingDirectory);
                    _stagingPath = Path.Combine(StagingDirectory, $".import.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
                    _staging = new FileStream(_stagingPath, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                }
            }
            else if (path != _path || offset != _offset)
            {
                throw reader.Damaged($"frame {frame.Index} is out of order within file '{_path}'");
            }

            int dataStart = 2 + nameLength + 9;
            _staging?.Write(c, dataStart, c.Length - dataStart);
            _offset += c.Length - dataStart;
            if (last == 0)
            {
                return null;
            }

            string? staged = _stagingPath;
            if (_staging is not null)
            {
                _staging.Flush(flushToDisk: true);
                _staging.Dispose();
            }

            (_path, _staging, _stagingPath) = (null, null, null);
            return (path, staged);
        }

        public void Dispose()
        {
            _staging?.Dispose();
            if (_stagingPath is not null)
            {
                File.Delete(_stagingPath);
            }
        }
    }

    /// <summary>The merge of pass 2: each version through the multi-value register, then into the outbox in batches.</summary>
    private sealed class Import
    {
        private readonly SyncEngine _engine;
        private readonly SyncContext _sync;
        private readonly List<PackEntry> _batch = [];
        private readonly List<SyncProblem> _problems = [];
        private long _memories, _versions, _merged, _present, _written, _unchanged, _aside;
        private int _conflicts;

        public Import(SyncEngine engine, long total)
        {
            _engine = engine;
            _sync = engine.Context;
            Total = total;
            engine.Changes.Commit(null, save: false); // a local edit not yet committed becomes a version first: never overwritten
            _problems.AddRange(_sync.Problems);
        }

        public long Total { get; }

        /// <summary>The archive's manifest (its first frame).</summary>
        public ArchiveManifest? Manifest { get; set; }

        /// <summary>Every device id in the archive's versions (origins and vectors).</summary>
        private readonly SortedSet<string> _devices = new(StringComparer.Ordinal);

        public void Merge(ArchiveMemory memory)
        {
            _memories++;
            foreach (PackEntry entry in memory.Versions)
            {
                _versions++;
                _devices.Add(entry.Origin);
                _devices.UnionWith(entry.VersionVector.Keys);
                List<VersionInfo> known = _sync.State.Records.TryGetValue(entry.Id, out RecordState? record) ? record.Versions : [];
                if (known.FirstOrDefault(v => Vectors.Includes(v.VersionVector, entry.VersionVector) && Vectors.Includes(entry.VersionVector, v.VersionVector)) is { } same
                    && same.Hash != entry.Hash)
                {
                    _problems.Add(new SyncProblem(GhostieErrorCode.IntegrityFailure, entry.Id,
                        $"The archive's version of memory '{entry.Id}' has the same version vector as this home's but another content (the archive comes from another repository whose devices share ids with this one's); this home's version was kept and the archive's was not imported."));
                    continue;
                }

                if (VersionApplier.Merge(known, entry.ToInfo(_sync.Strings)) is null)
                {
                    _present++;
                    continue;
                }

                _conflicts += _engine.Applier.Apply(entry, local: false, writeFiles: true, unpushed: true);
                _batch.Add(entry);
                _merged++;
                if (_batch.Count >= Batch)
                {
                    Flush();
                }
            }
        }

        /// <summary>Appends the merged versions to the outbox (durably), then saves the state (after the files it records).</summary>
        private void Flush()
        {
            if (_batch.Count > 0)
            {
                _sync.AppendToOutbox(_batch);
                _batch.Clear();
            }

            _sync.SaveState();
        }

        /// <summary>Saves what was merged. An archive of another repository brings versions of devices that have no
        /// head in this one: they are recorded as relayed (and listed in this device's head), so that no device of this
        /// repository reports their history as missing.</summary>
        public void Finish()
        {
            if (Manifest is not null && !string.Equals(Manifest.RepositoryId, _sync.Keys.RepositoryId, StringComparison.Ordinal))
            {
                _sync.State.AddRelayed(_devices.Where(d => d != _sync.DeviceId));
            }

            Flush();
        }

        public string StagingDirectory => _sync.Home.SyncPath;

        /// <summary>Puts a staged file in place when the home has none at its path; keeps the home's file otherwise
        /// (an identical one is left as it is, another one is kept and the archive's copy written beside it).</summary>
        public void WriteFile((string Path, string? Staged) file)
        {
            string staged = file.Staged!;
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(staged, UnixFileMode.UserRead | UnixFileMode.UserWrite); // as the home's own files: owner only
            }

            string target = Path.Combine(_sync.Home.Root, file.Path.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (!File.Exists(target))
            {
                File.Move(staged, target);
                _written++;
            }
            else if (SameContent(target, staged))
            {
                File.Delete(staged);
                _unchanged++;
            }
            else
            {
                string aside = $"{target}.imported-{_sync.Now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
                File.Move(staged, aside);
                _aside++;
                _problems.Add(new SyncProblem(GhostieErrorCode.InvalidArgument, file.Path,
                    $"This home already has {file.Path} with another content; it was kept, and the archive's copy was written to {aside}. Compare them and keep the one you want."));
            }
        }

        private static bool SameContent(string a, string b)
        {
            if (new FileInfo(a).Length != new FileInfo(b).Length)
            {
                return false;
            }

            using FileStream x = File.OpenRead(a), y = File.OpenRead(b);
            return SHA256.HashData(x).AsSpan().SequenceEqual(SHA256.HashData(y));
        }

        public HomeArchiveImportResult Result() => new()
        {
            Memories = _memories,
            Versions = _versions,
            Merged = _merged,
            AlreadyPresent = _present,
            NewConflicts = _conflicts,
            FilesWritten = _written,
            FilesUnchanged = _unchanged,
            FilesKeptAside = _aside,
            Problems = _problems,
        };
    }
}
