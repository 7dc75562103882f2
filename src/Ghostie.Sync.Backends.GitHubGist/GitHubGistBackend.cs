using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Backends.GitHubGist.Internal;
using Ghostie.Sync.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.GitHubGist;

/// <summary>
/// A repository spread over secret GitHub gists. Each gist whose description is <c>ghostie-sync:TAG</c> is a shard;
/// an object is one file <c>o.NAME.GEN</c> (base64url text) in some shard, or, when larger than
/// <see cref="GitHubGistBackendOptions.InlineMaxBytes"/>, chunk files <c>c.WRITEID.N</c> spread over shards plus a small
/// commit record <c>o.NAME.GEN.WRITEID</c> written last, which alone makes the object visible. The highest generation
/// of a name wins, so a replacement that lands in another gist is visible at once and the old file is removed after.
/// See docs/backends/github-gist.md.
/// </summary>
/// <remarks>
/// Operations of one instance run one at a time (GitHub asks clients not to send concurrent requests), and each
/// starts from a fresh listing of the account's gists, so writes by other devices are seen at once. Secret gists are
/// unlisted, not private: anyone with a gist's URL can read its ciphertext.
/// </remarks>
public sealed partial class GitHubGistBackend : IStorageBackend, IDisposable
{
    private readonly GitHubGistBackendOptions _options;
    private readonly GistClient _client;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly string _description;

    // Large buffers come from a pool of this instance: ArrayPool<byte>.Shared keeps big arrays per thread, so under
    // async thread hopping it would hold several chunk-sized arrays at once.
    private readonly ArrayPool<byte> _buffers = ArrayPool<byte>.Create(8 * 1024 * 1024, 4);

    /// <summary>Creates the backend; nothing is requested until the first operation.</summary>
    /// <param name="options">The options (validated here).</param>
    /// <param name="logger">Optional logger (never receives the token or any content).</param>
    /// <exception cref="GhostieSyncException">The options are invalid (<see cref="GhostieErrorCode.InvalidArgument"/>),
    /// for example no token is set.</exception>
    public GitHubGistBackend(GitHubGistBackendOptions options, ILogger<GitHubGistBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> errors = options.GetValidationErrors();
        if (errors.Count > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, string.Join(" ", errors));
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _description = GistFormat.Description(options.RepositoryTag);
        DisplayName = $"GitHub gists '{options.RepositoryTag}' at {options.ApiBaseUri.Authority}";
        HomeGistId = options.HomeGistId;
        _client = new GistClient(options.ApiBaseUri, options.ResolveToken()!, options.Retry, options.MinimumWriteInterval, options.HttpMessageHandler, DisplayName, _logger);
    }

    /// <inheritdoc />
    public string DisplayName { get; }

    /// <summary>HTTP requests sent so far (API and raw reads, retries included).</summary>
    public long RequestCount => _client.RequestCount;

    /// <summary>The repository's home gist: <see cref="GitHubGistBackendOptions.HomeGistId"/>, or the oldest gist of the
    /// repository (by creation time, ties broken by id) as of the last listing (null before the first operation, or while
    /// the repository has no gist). Every device that lists the same gists names the same home.</summary>
    public string? HomeGistId { get; private set; }

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = _buffers.Rent(_options.ChunkSize);
        try
        {
            GistDirectory directory = await RefreshAsync(cancellationToken).ConfigureAwait(false);
            int filled = await ReadUpToAsync(content, buffer.AsMemory(0, _options.InlineMaxBytes + 1), cancellationToken).ConfigureAwait(false);
            if (filled <= _options.InlineMaxBytes)
            {
                await CommitAsync(directory, name, null, new GistUpload("", GistFormat.InlineHeader, buffer.AsMemory(0, filled)), cancellationToken).ConfigureAwait(false);
                return;
            }

            filled += await ReadUpToAsync(content, buffer.AsMemory(filled, _options.ChunkSize - filled), cancellationToken).ConfigureAwait(false);
            await PutChunkedAsync(directory, name, content, buffer, filled, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _buffers.Return(buffer);
            _lock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        for (int round = 0; round < 2; round++)
        {
            GistDirectory directory = await RefreshLockedAsync(cancellationToken).ConfigureAwait(false);
            ObjectVersion? current = directory.Current(name);
            if (current is null)
            {
                return null;
            }

            Stream? stream = current.WriteId is null
                ? await ReadInlineAsync(current, cancellationToken).ConfigureAwait(false)
                : await OpenChunkedAsync(directory, current, cancellationToken).ConfigureAwait(false);
            if (stream is not null)
            {
                return stream;
            }
        }

        throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
            $"Object '{name}' in {DisplayName} changed while it was being read, twice; try again.", isTransient: true);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        cancellationToken.ThrowIfCancellationRequested();
        GistDirectory directory = await RefreshLockedAsync(cancellationToken).ConfigureAwait(false);
        string[] names = directory.ObjectNames.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        foreach (string name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GistDirectory directory = await RefreshAsync(cancellationToken).ConfigureAwait(false);
            IReadOnlyList<ObjectVersion> versions = directory.Versions(name);
            if (versions.Count == 0)
            {
                return false;
            }

            // The records go first (that is the delete); the chunks they referenced are removed after, quietly.
            foreach (IGrouping<Shard, ObjectVersion> group in versions.GroupBy(v => v.Shard).ToList())
            {
                await RemoveFilesAsync(group.Key, group.Select(v => v.FileName).ToList(), cancellationToken).ConfigureAwait(false);
            }

            await RemoveQuietlyAsync(directory, [], versions, $"DELETE '{name}'", cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Removes what interrupted or superseded writes left behind: older versions of objects, chunks that no commit
    /// record references and that are older than <see cref="GitHubGistBackendOptions.OrphanGracePeriod"/>, and gists
    /// left with nothing but their marker whose updated_at is older than that grace period (never the home gist).
    /// </summary>
    /// <param name="cancellationToken">Cancels the cleanup (what was removed stays removed).</param>
    /// <returns>The number of files and gists removed.</returns>
    public async Task<int> CleanupAsync(CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GistDirectory directory = await RefreshAsync(cancellationToken).ConfigureAwait(false);
            DateTimeOffset cutoff = _options.Retry.TimeProvider.GetUtcNow() - _options.OrphanGracePeriod;
            var referenced = new HashSet<string>(directory.AllVersions.SelectMany(v => v).Select(v => v.WriteId).OfType<string>(), StringComparer.Ordinal);
            var removals = new Dictionary<Shard, List<string>>();
            foreach (IReadOnlyList<ObjectVersion> versions in directory.AllVersions)
            {
                IReadOnlyList<ObjectVersion> superseded = versions.Take(versions.Count - 1).ToList();
                foreach (ObjectVersion old in superseded)
                {
                    Add(removals, old.Shard, old.FileName);
                    foreach (ChunkFile chunk in old.WriteId is null ? [] : directory.Chunks(old.WriteId))
                    {
                        Add(removals, chunk.Shard, chunk.FileName);
                    }
                }
            }

            foreach (IReadOnlyList<ChunkFile> set in directory.AllChunkSets)
            {
                string writeId = set[0].WriteId;
                if (!referenced.Contains(writeId) && GistFormat.WriteIdTime(writeId) is DateTimeOffset written && written < cutoff)
                {
                    foreach (ChunkFile chunk in set)
                    {
                        Add(removals, chunk.Shard, chunk.FileName);
                    }
                }
            }

            int removed = 0;
            foreach ((Shard shard, List<string> files) in removals)
            {
                await RemoveFilesAsync(shard, files, cancellationToken).ConfigureAwait(false);
                removed += files.Count;
            }

            // A gist with nothing but its marker is removed only once it has stayed so for the grace period: another
            // device creates a gist with its marker first and adds its file in a second request, and may pick any gist
            // with room. Writers never add to a marker-only gist older than half the grace period (Condemned), so one
            // older than the whole period can only be reached by a write whose listing is half a period old. GitHub has
            // no conditional delete; the gist is read again just before, to narrow the window to one round trip.
            int gists = 0;
            foreach (Shard shard in directory.Shards.Skip(1).ToList())
            {
                if (shard.Id == HomeGistId || !shard.MarkerOnly || shard.UpdatedAt >= cutoff)
                {
                    continue;
                }

                GistResource? now = await _client.GetAsync(shard.Id, cancellationToken).ConfigureAwait(false);
                if (now is null)
                {
                    continue;
                }

                if (now.UpdatedAt != shard.UpdatedAt || now.Files.Keys.Any(f => f != GistFormat.MarkerFileName))
                {
                    Log.EmptyGistChanged(_logger, shard.Id);
                    continue;
                }

                if (await _client.DeleteAsync(shard.Id, cancellationToken).ConfigureAwait(false))
                {
                    gists++;
                }
            }

            Log.CleanedUp(_logger, removed, gists, _options.RepositoryTag);
            return removed + gists;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Releases the HTTP client.</summary>
    public void Dispose()
    {
        _client.Dispose();
        _lock.Dispose();
    }

    private static void Add(Dictionary<Shard, List<string>> map, Shard shard, string file)
    {
        if (!map.TryGetValue(shard, out List<string>? files))
        {
            map[shard] = files = [];
        }

        if (!files.Contains(file))
        {
            files.Add(file);
        }
    }

    private static async Task<int> ReadUpToAsync(Stream source, Memory<byte> target, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < target.Length)
        {
            int read = await source.ReadAsync(target[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private async Task<GistDirectory> RefreshLockedAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Lists the account's gists and keeps this repository's. Checks the configured home gist.</summary>
    private async Task<GistDirectory> RefreshAsync(CancellationToken cancellationToken)
    {
        List<GistResource> all = await _client.ListStableAsync(g => g.Description == _description, cancellationToken).ConfigureAwait(false);
        List<GistResource> shards = all.Where(g => g.Description == _description).ToList();
        if (_options.HomeGistId is string home && !shards.Any(g => g.Id == home))
        {
            GistResource? gist = await _client.GetAsync(home, cancellationToken).ConfigureAwait(false);
            if (gist is null)
            {
                throw new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                    $"The home gist '{home}' of {DisplayName} does not exist: it was deleted, or the token belongs to another account. Check HomeGistId and the token, or run setup again to start a new repository.");
            }

            if (gist.Description != _description)
            {
                throw new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                    $"Gist '{home}' is not a gist of {DisplayName}: its description is not '{_description}'. Check HomeGistId and RepositoryTag.");
            }

            shards.Add(gist);
        }

        foreach (GistResource gist in shards)
        {
            if (gist.Truncated || gist.Files.Count > 300)
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"Gist '{gist.Id}' of {DisplayName} has more than 300 files, which the GitHub API cannot list; it was not written by this backend's rules. Move files out of it by hand (git clone of the gist).");
            }
        }

        var directory = new GistDirectory(shards);

        // The home gist is the oldest shard, ties (GitHub reports whole seconds) broken by id. Recomputed on every listing:
        // a gist this instance just created may share its second with an older-sorting sibling, and every device must
        // name the same home.
        HomeGistId = _options.HomeGistId ?? directory.Shards.FirstOrDefault()?.Id ?? HomeGistId;
        return directory;
    }

    /// <summary>A marker-only gist (not the home) older than half the grace period: another device's cleanup may delete
    /// it at any moment once it is older than the whole period, so nothing is added to it.</summary>
    private bool Condemned(Shard shard) =>
        shard.Id != HomeGistId && shard.MarkerOnly && shard.UpdatedAt < _options.Retry.TimeProvider.GetUtcNow() - _options.OrphanGracePeriod / 2;

    private bool Fits(Shard shard, long size, int filesFreed = 0, long bytesFreed = 0) =>
        shard.Count - filesFreed + 1 <= _options.MaxFilesPerGist
        && shard.Bytes - bytesFreed + size + GistFormat.HeaderAllowance <= _options.MaxGistBytes;

    /// <summary>Adds one file to a gist with room (preferring <paramref name="prefer"/>), creating a gist when none has room.</summary>
    private async Task<Shard> AddFileAsync(GistDirectory directory, GistUpload upload, Shard? prefer, CancellationToken cancellationToken)
    {
        long size = upload.StoredLength;
        for (int round = 0; round < 4; round++)
        {
            Shard? shard = prefer is not null && directory.Shards.Contains(prefer) && Fits(prefer, size) ? prefer : directory.Shards.Find(s => Fits(s, size) && !Condemned(s));
            if (shard is null)
            {
                // A new gist is created with its marker only, so the answer (which repeats every file's content) stays
                // small; the file goes in with the update below.
                GistResource created = await _client.CreateAsync(_description,
                    [new GistUpload(GistFormat.MarkerFileName, GistFormat.MarkerContent, ReadOnlyMemory<byte>.Empty)], cancellationToken).ConfigureAwait(false);
                shard = new Shard(created);
                directory.Shards.Add(shard);
                HomeGistId ??= shard.Id;
                Log.GistCreated(_logger, shard.Id, _options.RepositoryTag);
            }

            if (await _client.UpdateAsync(shard.Id, [], [upload], cancellationToken).ConfigureAwait(false))
            {
                shard.Apply([], [upload]);
                return shard;
            }

            directory.Shards.Remove(shard); // deleted meanwhile (by a cleanup elsewhere): place the file again
        }

        throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Gists of {DisplayName} kept vanishing while a file was added; try again.", isTransient: true);
    }

    /// <summary>Makes <paramref name="upload"/>'s content the current version of <paramref name="name"/>.</summary>
    private async Task CommitAsync(GistDirectory directory, string name, string? writeId, GistUpload upload, CancellationToken cancellationToken)
    {
        IReadOnlyList<ObjectVersion> versions = directory.Versions(name);
        long generation = versions.Count == 0 ? 1 : versions[^1].Generation + 1;
        upload = upload with { FileName = GistFormat.ObjectFileName(name, generation, writeId) };
        var replacedInPlace = new List<ObjectVersion>();
        if (versions.Count > 0)
        {
            // Replace in the gist of the current version when it fits: deleting the old file and adding the new one is a
            // single commit of that gist, so readers never see neither or both.
            Shard home = versions[^1].Shard;
            List<ObjectVersion> there = versions.Where(v => v.Shard == home).ToList();
            if (Fits(home, upload.StoredLength, there.Count, there.Sum(v => v.File.Size)))
            {
                List<string> deletions = there.Select(v => v.FileName).ToList();
                if (await _client.UpdateAsync(home.Id, deletions, [upload], cancellationToken).ConfigureAwait(false))
                {
                    home.Apply(deletions, [upload]);
                    replacedInPlace = there;
                }
                else
                {
                    directory.Shards.Remove(home);
                    await AddFileAsync(directory, upload, null, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                await AddFileAsync(directory, upload, null, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await AddFileAsync(directory, upload, null, cancellationToken).ConfigureAwait(false);
        }

        // Committed. What the new version superseded is garbage now; failing to remove it only costs space.
        await RemoveQuietlyAsync(directory, replacedInPlace, versions, $"PUT '{name}'", cancellationToken).ConfigureAwait(false);
    }

    private async Task PutChunkedAsync(GistDirectory directory, string name, Stream content, byte[] buffer, int filled, CancellationToken cancellationToken)
    {
        string writeId = GistFormat.NewWriteId(_options.Retry.TimeProvider.GetUtcNow());
        var record = new ChunkedRecord();
        var written = new List<(Shard Shard, string File)>();
        try
        {
            Shard? last = null;
            for (int index = 0; filled > 0; index++)
            {
                string file = GistFormat.ChunkFileName(writeId, index);
                last = await AddFileAsync(directory, new GistUpload(file, "", buffer.AsMemory(0, filled)), last, cancellationToken).ConfigureAwait(false);
                written.Add((last, file));
                record.Chunks.Add(new ChunkRef { Gist = last.Id, File = file, Length = filled, Sha256 = Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, filled))) });
                record.Length += filled;
                filled = await ReadUpToAsync(content, buffer.AsMemory(0, _options.ChunkSize), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (written.Count > 0)
        {
            // Nothing references these chunks yet: remove them now (a later cleanup catches what this misses).
            using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            foreach (IGrouping<Shard, (Shard Shard, string File)> group in written.GroupBy(w => w.Shard))
            {
                try
                {
                    await RemoveFilesAsync(group.Key, group.Select(w => w.File).ToList(), cleanup.Token).ConfigureAwait(false);
                }
                catch (Exception inner) when (inner is GhostieSyncException or HttpAttemptException or OperationCanceledException or HttpRequestException)
                {
                    Log.LeftoverCleanupFailed(_logger, $"PUT '{name}'", inner.GetType().Name);
                }
            }

            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex).Throw();
            throw;
        }

        // The commit record is written last; a failure from here on may or may not have landed, so the chunks stay
        // (unreferenced ones are orphans for CleanupAsync, never visible to readers).
        string text = GistFormat.ChunkedHeader + Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(record, GistJsonContext.Default.ChunkedRecord));
        await CommitAsync(directory, name, writeId, new GistUpload("", text, ReadOnlyMemory<byte>.Empty), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes files from one gist; a gist that would be left with no file is deleted instead.</summary>
    private async Task RemoveFilesAsync(Shard shard, IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        if (files.Count == 0)
        {
            return;
        }

        if (shard.Files.Keys.All(files.Contains))
        {
            await _client.DeleteAsync(shard.Id, cancellationToken).ConfigureAwait(false);
            shard.Files.Clear();
            return;
        }

        if (await _client.UpdateAsync(shard.Id, files, [], cancellationToken).ConfigureAwait(false))
        {
            shard.Apply(files, []);
        }
    }

    /// <summary>After a commit: removes superseded versions (except those already removed in the commit) and the chunks
    /// of superseded chunked versions. Failures are logged, not thrown: the commit stands either way.</summary>
    private async Task RemoveQuietlyAsync(GistDirectory directory, IReadOnlyList<ObjectVersion> alreadyRemoved, IReadOnlyList<ObjectVersion> superseded, string operation, CancellationToken cancellationToken)
    {
        var removals = new Dictionary<Shard, List<string>>();
        foreach (ObjectVersion old in superseded)
        {
            if (!alreadyRemoved.Contains(old))
            {
                Add(removals, old.Shard, old.FileName);
            }

            foreach (ChunkFile chunk in old.WriteId is null ? [] : directory.Chunks(old.WriteId))
            {
                Add(removals, chunk.Shard, chunk.FileName);
            }
        }

        foreach ((Shard shard, List<string> files) in removals)
        {
            try
            {
                await RemoveFilesAsync(shard, files.Where(shard.Files.ContainsKey).ToList(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is GhostieSyncException or HttpAttemptException or OperationCanceledException or HttpRequestException)
            {
                Log.LeftoverCleanupFailed(_logger, operation, ex.GetType().Name);
            }
        }
    }

    private async Task<Stream?> ReadInlineAsync(ObjectVersion version, CancellationToken cancellationToken)
    {
        string raw = version.File.RawUrl ?? throw new IntegrityException(version.Name, "its gist file has no raw_url");
        long capacity = Math.Max(0, version.File.Size - GistFormat.InlineHeader.Length) / 4 * 3 + 3;
        if (capacity > _options.ChunkSize + 16L && capacity > 8L * 1024 * 1024)
        {
            throw new IntegrityException(version.Name, $"its gist file is {version.File.Size} bytes, too large for an inline object");
        }

        return await _client.ReadRawAsync<Stream?>($"GitHub read '{version.Name}'", raw, async (body, ct) =>
        {
            if (await GistFormat.ReadHeaderAsync(body, ct).ConfigureAwait(false) != GistFormat.InlineHeader)
            {
                throw new IntegrityException(version.Name, "its gist file is not a Ghostie object record");
            }

            byte[] data = new byte[capacity];
            int length = await GistFormat.ReadBase64UrlAsync(body, data, ct).ConfigureAwait(false);
            return length < 0 ? throw new IntegrityException(version.Name, "its gist file is not valid base64url") : new MemoryStream(data, 0, length, writable: false);
        }, notFound: null, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Stream?> OpenChunkedAsync(GistDirectory directory, ObjectVersion version, CancellationToken cancellationToken)
    {
        string raw = version.File.RawUrl ?? throw new IntegrityException(version.Name, "its gist file has no raw_url");
        if (version.File.Size > 4L * 1024 * 1024)
        {
            throw new IntegrityException(version.Name, $"its commit record is {version.File.Size} bytes, larger than any record this backend writes");
        }

        ChunkedRecord? record = await _client.ReadRawAsync<ChunkedRecord?>($"GitHub read '{version.Name}'", raw, async (body, ct) =>
        {
            if (await GistFormat.ReadHeaderAsync(body, ct).ConfigureAwait(false) != GistFormat.ChunkedHeader)
            {
                throw new IntegrityException(version.Name, "its commit record is not a Ghostie chunked record");
            }

            try
            {
                return await JsonSerializer.DeserializeAsync(body, GistJsonContext.Default.ChunkedRecord, ct).ConfigureAwait(false)
                    ?? throw new IntegrityException(version.Name, "its commit record is empty");
            }
            catch (JsonException ex)
            {
                throw new IntegrityException(version.Name, "its commit record is not valid JSON", ex);
            }
        }, notFound: null, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return null;
        }

        if (record.Chunks.Count == 0 || record.Chunks.Any(c => c.Length is <= 0 or > 8 * 1024 * 1024) || record.Chunks.Sum(c => (long)c.Length) != record.Length)
        {
            throw new IntegrityException(version.Name, "its commit record lists inconsistent chunks");
        }

        var resolved = new List<ResolvedChunk>(record.Chunks.Count);
        for (int i = 0; i < record.Chunks.Count; i++)
        {
            ChunkRef chunk = record.Chunks[i];
            GistFileResource? file = null;
            if (directory.Find(chunk.Gist)?.Files.TryGetValue(chunk.File, out file) != true || file?.RawUrl is null
                || GistFormat.Parse(chunk.File) is not { Kind: GistFileKind.Chunk } parsed || parsed.WriteId != version.WriteId || parsed.ChunkIndex != i
                || chunk.Sha256.Length != 64)
            {
                throw new IntegrityException(version.Name, $"chunk {i} is missing from gist '{chunk.Gist}' or does not belong to this object");
            }

            resolved.Add(new ResolvedChunk(file.RawUrl, chunk.Length, Convert.FromHexString(chunk.Sha256)));
        }

        return new ChunkedReadStream(_client, version.Name, resolved, record.Length, _buffers);
    }
}
