using System.Buffers;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Internal;

/// <summary>
/// Reads and writes the protocol's objects in the repository: sealed packs and heads under this device's prefix, the
/// heads of every device (docs/format.md). Counts every request in <see cref="SyncContext.Reads"/> and
/// <see cref="SyncContext.Writes"/>.
/// </summary>
internal sealed class RepositoryObjects
{
    private readonly SyncContext _sync;

    public RepositoryObjects(SyncContext sync) => _sync = sync;

    private IStorageBackend Backend => _sync.Backend;

    private RepositoryKeys Keys => _sync.Keys;

    public FileStream TempFile() => SyncTempFiles.Create(_sync.Home);

    /// <summary>Seals the builder's pack, uploads it under a new random name of this device, and returns its reference.</summary>
    public async Task<PackRef> UploadPackAsync(PackBuilder builder, CancellationToken cancellationToken)
    {
        string name = _sync.OwnPackPrefix + RandomSuffix();
        int count = builder.Count;
        await using FileStream plain = await builder.FinishAsync().ConfigureAwait(false);
        await using FileStream sealedFile = TempFile();
        await Keys.Cipher.SealAsync(plain, sealedFile, ObjectKind.Pack, name, cancellationToken: cancellationToken).ConfigureAwait(false);
        sealedFile.Position = 0;
        byte[] hash = await SHA256.HashDataAsync(sealedFile, cancellationToken).ConfigureAwait(false);
        sealedFile.Position = 0;
        await PutNewAsync(name, sealedFile, cancellationToken).ConfigureAwait(false);
        return new PackRef { Name = name, Entries = count, Bytes = sealedFile.Length, Sha256 = Convert.ToHexStringLower(hash) };
    }

    /// <summary>Packs <paramref name="entries"/> into packs of about <see cref="GhostieSyncOptions.PackTargetBytes"/>
    /// and uploads them; <paramref name="onEntry"/> is called after each entry (for progress).</summary>
    public async Task<List<PackRef>> UploadPacksAsync(IEnumerable<(PackEntry Entry, byte[]? Json)> entries, Action? onEntry, CancellationToken cancellationToken)
    {
        var packs = new List<PackRef>();
        PackBuilder? builder = null;
        try
        {
            foreach ((PackEntry entry, byte[]? json) in entries)
            {
                builder ??= new PackBuilder(TempFile());
                builder.Add(entry, json);
                if (builder.RawBytes >= _sync.Options.PackTargetBytes)
                {
                    packs.Add(await UploadPackAsync(builder, cancellationToken).ConfigureAwait(false));
                    builder = null;
                }

                onEntry?.Invoke();
            }

            if (builder is not null)
            {
                packs.Add(await UploadPackAsync(builder, cancellationToken).ConfigureAwait(false));
                builder = null;
            }
        }
        finally
        {
            if (builder is not null)
            {
                await builder.DisposeAsync().ConfigureAwait(false);
            }
        }

        return packs;
    }

    /// <summary>Seals and uploads a head under a new random name of this device; returns the name.</summary>
    public async Task<string> UploadHeadAsync(HeadDocument head, CancellationToken cancellationToken)
    {
        string name = _sync.OwnHeadPrefix + RandomSuffix();
        byte[] sealedHead = Keys.Cipher.Seal(JsonSerializer.SerializeToUtf8Bytes(head, CoreJson.Default.HeadDocument), ObjectKind.Head, name);
        await PutNewAsync(name, new MemoryStream(sealedHead, writable: false), cancellationToken).ConfigureAwait(false);
        return name;
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        _sync.Writes++;
        await Backend.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads a pack, checks it against its reference, then yields its entries.</summary>
    public async IAsyncEnumerable<PackEntry> ReadPackAsync(PackRef pack, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using FileStream sealedFile = TempFile();
        await DownloadVerifiedAsync(pack, sealedFile, cancellationToken).ConfigureAwait(false);
        await using FileStream plain = TempFile();
        await Keys.Cipher.OpenAsync(sealedFile, plain, ObjectKind.Pack, pack.Name, cancellationToken).ConfigureAwait(false);
        plain.Position = 0;
        await using var brotli = new BrotliStream(plain, CompressionMode.Decompress);
        await foreach (PackEntry entry in PackReader.ReadEntriesAsync(brotli, pack.Name, cancellationToken).ConfigureAwait(false))
        {
            yield return entry;
        }
    }

    /// <summary>Downloads and opens a head; null when it vanished between listing and reading.</summary>
    public async Task<HeadDocument?> ReadHeadAsync(string name, CancellationToken cancellationToken)
    {
        _sync.Reads++;
        Stream? stream = await Backend.GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return null;
        }

        byte[] sealedHead;
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await CopyFromBackendAsync(stream, buffer, name, cancellationToken).ConfigureAwait(false);
            sealedHead = buffer.ToArray();
        }

        byte[] json = await OpenRefreshingEpochsAsync(sealedHead, ObjectKind.Head, name, cancellationToken).ConfigureAwait(false);
        return ParseHead(json, name);
    }

    /// <summary>The newest (highest sequence) of the heads <paramref name="names"/>, skipping <paramref name="except"/>.</summary>
    public async Task<(HeadDocument? Head, string? Name)> ReadNewestHeadAsync(IEnumerable<string> names, string? except, CancellationToken cancellationToken)
    {
        HeadDocument? best = null;
        string? bestName = null;
        foreach (string name in names.Where(n => n != except))
        {
            HeadDocument? head = await ReadHeadAsync(name, cancellationToken).ConfigureAwait(false);
            if (head is not null && (best is null || head.Seq > best.Seq))
            {
                (best, bestName) = (head, name);
            }
        }

        return (best, bestName);
    }

    /// <summary>Lists head names grouped by device prefix.</summary>
    public async Task<Dictionary<string, List<string>>> ListHeadsAsync(string prefix, CancellationToken cancellationToken)
    {
        _sync.Reads++;
        var heads = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await foreach (string name in Backend.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            string[] parts = name.Split('/');
            if (parts.Length != 3)
            {
                continue;
            }

            if (!heads.TryGetValue(parts[1], out List<string>? list))
            {
                heads[parts[1]] = list = [];
            }

            list.Add(name);
        }

        return heads;
    }

    /// <summary>Deletes the packs under this device's prefix that <paramref name="referenced"/> does not name: left by
    /// pushes that crashed before their head.</summary>
    public async Task DeleteUnreferencedPacksAsync(HashSet<string> referenced, CancellationToken cancellationToken)
    {
        _sync.Reads++;
        await foreach (string name in Backend.ListAsync(_sync.OwnPackPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (!referenced.Contains(name))
            {
                await DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static string RandomSuffix() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>Writes an object that must not exist yet: create-only where the backend can, else a plain put.</summary>
    private async Task PutNewAsync(string name, Stream content, CancellationToken cancellationToken)
    {
        _sync.Writes++;
        if (Backend is IConditionalStorageBackend conditional)
        {
            if (!await conditional.TryCreateAsync(name, content, cancellationToken).ConfigureAwait(false))
            {
                throw new GhostieSyncException(GhostieErrorCode.IntegrityFailure,
                    $"Object '{name}' already exists although its name was just chosen at random; another writer is using this device's prefix. Check that no two devices share the id '{_sync.DeviceId}'.");
            }
        }
        else
        {
            await Backend.PutAsync(name, content, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Downloads a pack into <paramref name="sealedFile"/>, checks its size and hash against its reference,
    /// and loads a key epoch created since unlocking if the pack names one; leaves the file at position 0.</summary>
    private async Task DownloadVerifiedAsync(PackRef pack, FileStream sealedFile, CancellationToken cancellationToken)
    {
        _sync.Reads++;
        Stream source = await Backend.GetAsync(pack.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new GhostieSyncException(GhostieErrorCode.NotFound,
                $"Pack '{pack.Name}' is listed by its device's head but is not in storage (yet); it may still be uploading or syncing. Try again later.", isTransient: true);
        await using (source.ConfigureAwait(false))
        {
            await CopyFromBackendAsync(source, sealedFile, pack.Name, cancellationToken).ConfigureAwait(false);
        }

        sealedFile.Position = 0;
        string hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(sealedFile, cancellationToken).ConfigureAwait(false));
        if (hash != pack.Sha256 || sealedFile.Length != pack.Bytes)
        {
            throw new IntegrityException(pack.Name, "its size or SHA-256 differs from what its device's head records (replaced, truncated or still syncing)");
        }

        sealedFile.Position = 0;
        byte[] header = new byte[ObjectCipher.HeaderSize];
        int headerLength = await sealedFile.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        uint epoch = ObjectCipher.ReadInfo(header.AsSpan(0, headerLength), pack.Name).Epoch;
        if (epoch != 0 && !Keys.Epochs.Contains(epoch))
        {
            await Keys.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        sealedFile.Position = 0;
    }

    private static HeadDocument ParseHead(byte[] json, string name)
    {
        // The format first: a newer head may have another shape, and must say so rather than look damaged.
        if (FormatPeek.Read(json) is long format && format > 1)
        {
            throw new UnsupportedFormatException($"Head '{name}'", (int)Math.Min(format, int.MaxValue), 1);
        }

        try
        {
            HeadDocument head = JsonSerializer.Deserialize(json, CoreJson.Default.HeadDocument) ?? throw new JsonException("null");
            if (head.Format != 1)
            {
                throw new JsonException($"format {head.Format}");
            }

            return head;
        }
        catch (JsonException ex)
        {
            throw new IntegrityException(name, "its content is not a valid head document although it is authentic", ex);
        }
    }

    /// <summary>
    /// Copies an object's stream from the backend to a local file or buffer. A read that fails part-way (a connection
    /// reset) is the repository's failure and says so; a write that fails is this device's (see
    /// <see cref="SyncEngine.LocalFailure"/>).
    /// </summary>
    private async Task CopyFromBackendAsync(Stream source, Stream target, string name, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                        $"Reading '{name}' from {Backend.DisplayName} failed part-way ({ex.Message}); try again.", isTransient: true, innerException: ex);
                }

                if (read == 0)
                {
                    return;
                }

                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Opens an object; if it names a key epoch created since we unlocked, reloads the epochs once.</summary>
    private async Task<byte[]> OpenRefreshingEpochsAsync(byte[] sealedObject, ObjectKind kind, string name, CancellationToken cancellationToken)
    {
        SealedObjectInfo info = ObjectCipher.ReadInfo(sealedObject, name);
        if (!Keys.Epochs.Contains(info.Epoch) && info.Epoch != 0)
        {
            await Keys.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        return Keys.Cipher.Open(sealedObject, kind, name);
    }
}
