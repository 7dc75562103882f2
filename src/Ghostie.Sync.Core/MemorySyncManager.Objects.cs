using System.Buffers;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

public sealed partial class MemorySyncManager
{
    private const string HeadPrefix = "h/";
    private const string PackPrefix = "p/";

    private string OwnHeadPrefix => HeadPrefix + _prefix + "/";

    private string OwnPackPrefix => PackPrefix + _prefix + "/";

    private static string RandomSuffix() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>
    /// A temporary file under <c>sync/tmp</c> (a 0700 folder), created 0600 and deleted on close. Packs pass through
    /// here compressed but unencrypted (before sealing on push, after opening on pull); files a killed process left
    /// behind are removed at the start of the next sync.
    /// </summary>
    private FileStream TempFile()
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

        return new FileStream(Path.Combine(TempFolder(), Guid.NewGuid().ToString("N") + ".tmp"), options);
    }

    private string TempFolder()
    {
        string folder = Path.Combine(_home.SyncPath, "tmp");
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

    /// <summary>Packs are Brotli-compressed JSON lines (one <see cref="PackEntry"/> per line), sealed as kind Pack.</summary>
    private sealed class PackBuilder : IAsyncDisposable
    {
        private readonly FileStream _plain;
        private readonly BrotliStream _brotli;
        private readonly BufferedStream _buffer; // the encoder is called per 64 KiB, not per entry
        private readonly ArrayBufferWriter<byte> _line = new(4096);

        public PackBuilder(FileStream plain)
        {
            _plain = plain;
            _brotli = new BrotliStream(plain, CompressionLevel.Fastest, leaveOpen: true);
            _buffer = new BufferedStream(_brotli, 1 << 16);
        }

        public int Count { get; private set; }

        public long RawBytes { get; private set; }

        public void Add(PackEntry entry, byte[]? json = null)
        {
            ReadOnlySpan<byte> bytes = json;
            if (json is null)
            {
                _line.ResetWrittenCount();
                using (var writer = new Utf8JsonWriter(_line))
                {
                    JsonSerializer.Serialize(writer, entry, CoreJson.Default.PackEntry);
                }

                bytes = _line.WrittenSpan;
            }

            _buffer.Write(bytes);
            _buffer.WriteByte((byte)'\n');
            Count++;
            RawBytes += bytes.Length + 1;
        }

        public async Task<FileStream> FinishAsync()
        {
            await _buffer.DisposeAsync().ConfigureAwait(false);
            await _brotli.DisposeAsync().ConfigureAwait(false);
            _plain.Position = 0;
            return _plain;
        }

        public async ValueTask DisposeAsync()
        {
            await _buffer.DisposeAsync().ConfigureAwait(false);
            await _brotli.DisposeAsync().ConfigureAwait(false);
            await _plain.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<PackRef> UploadPackAsync(PackBuilder builder, CancellationToken cancellationToken)
    {
        string name = OwnPackPrefix + RandomSuffix();
        int count = builder.Count;
        await using FileStream plain = await builder.FinishAsync().ConfigureAwait(false);
        await using FileStream sealedFile = TempFile();
        await _keys.Cipher.SealAsync(plain, sealedFile, ObjectKind.Pack, name, cancellationToken: cancellationToken).ConfigureAwait(false);
        sealedFile.Position = 0;
        byte[] hash = await SHA256.HashDataAsync(sealedFile, cancellationToken).ConfigureAwait(false);
        sealedFile.Position = 0;
        await PutNewAsync(name, sealedFile, cancellationToken).ConfigureAwait(false);
        return new PackRef { Name = name, Entries = count, Bytes = sealedFile.Length, Sha256 = Convert.ToHexStringLower(hash) };
    }

    /// <summary>Writes an object that must not exist yet: create-only where the backend can, else a plain put.</summary>
    private async Task PutNewAsync(string name, Stream content, CancellationToken cancellationToken)
    {
        _writes++;
        if (_backend is IConditionalStorageBackend conditional)
        {
            if (!await conditional.TryCreateAsync(name, content, cancellationToken).ConfigureAwait(false))
            {
                throw new GhostieSyncException(GhostieErrorCode.IntegrityFailure,
                    $"Object '{name}' already exists although its name was just chosen at random; another writer is using this device's prefix. Check that no two devices share the id '{DeviceId}'.");
            }
        }
        else
        {
            await _backend.PutAsync(name, content, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Downloads a pack, checks it against its reference, then yields its entries.</summary>
    private async IAsyncEnumerable<PackEntry> ReadPackAsync(PackRef pack, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using FileStream sealedFile = TempFile();
        _reads++;
        Stream source = await _backend.GetAsync(pack.Name, cancellationToken).ConfigureAwait(false)
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
        if (epoch != 0 && !_keys.Epochs.Contains(epoch))
        {
            await _keys.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        sealedFile.Position = 0;
        await using FileStream plain = TempFile();
        await _keys.Cipher.OpenAsync(sealedFile, plain, ObjectKind.Pack, pack.Name, cancellationToken).ConfigureAwait(false);
        plain.Position = 0;
        await using var brotli = new BrotliStream(plain, CompressionMode.Decompress);

        // Lines are split and parsed as UTF-8 bytes in one reused buffer: no string per line (a pull of 100,000
        // memories would otherwise make 100,000 UTF-16 copies of its JSON for the collector to clear).
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int start = 0, end = 0;
            while (true)
            {
                int newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
                if (newline < 0)
                {
                    if (start > 0)
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                        (end, start) = (end - start, 0);
                    }

                    if (end == buffer.Length)
                    {
                        byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2); // one entry longer than the buffer
                        buffer.AsSpan(0, end).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    int read = await brotli.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        if (end > start)
                        {
                            yield return ParseEntry(pack.Name, buffer.AsSpan(start, end - start));
                        }

                        break;
                    }

                    end += read;
                    continue;
                }

                if (newline > 0)
                {
                    yield return ParseEntry(pack.Name, buffer.AsSpan(start, newline));
                }

                start += newline + 1;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static PackEntry ParseEntry(string packName, ReadOnlySpan<byte> line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, CoreJson.Default.PackEntry)
                ?? throw new IntegrityException(packName, "an entry is JSON null although the pack is authentic");
        }
        catch (JsonException ex)
        {
            throw new IntegrityException(packName, "an entry is not valid JSON although the pack is authentic (written by an incompatible version?)", ex);
        }
    }

    private async Task<string> UploadHeadAsync(HeadDocument head, CancellationToken cancellationToken)
    {
        string name = OwnHeadPrefix + RandomSuffix();
        byte[] sealedHead = _keys.Cipher.Seal(JsonSerializer.SerializeToUtf8Bytes(head, CoreJson.Default.HeadDocument), ObjectKind.Head, name);
        await PutNewAsync(name, new MemoryStream(sealedHead, writable: false), cancellationToken).ConfigureAwait(false);
        return name;
    }

    /// <summary>
    /// Copies an object's stream from the backend to a local file or buffer. A read that fails part-way (a connection
    /// reset) is the repository's failure and says so; a write that fails is this device's (see <see cref="LocalFailure"/>).
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
                        $"Reading '{name}' from {_backend.DisplayName} failed part-way ({ex.Message}); try again.", isTransient: true, innerException: ex);
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

    /// <summary>Downloads and opens a head; null when it vanished between listing and reading.</summary>
    private async Task<HeadDocument?> ReadHeadAsync(string name, CancellationToken cancellationToken)
    {
        _reads++;
        Stream? stream = await _backend.GetAsync(name, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Opens an object; if it names a key epoch created since we unlocked, reloads the epochs once.</summary>
    private async Task<byte[]> OpenRefreshingEpochsAsync(byte[] sealedObject, ObjectKind kind, string name, CancellationToken cancellationToken)
    {
        SealedObjectInfo info = ObjectCipher.ReadInfo(sealedObject, name);
        if (!_keys.Epochs.Contains(info.Epoch) && info.Epoch != 0)
        {
            await _keys.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        return _keys.Cipher.Open(sealedObject, kind, name);
    }

    /// <summary>Lists head names grouped by device prefix.</summary>
    private async Task<Dictionary<string, List<string>>> ListHeadsAsync(string prefix, CancellationToken cancellationToken)
    {
        _reads++;
        var heads = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await foreach (string name in _backend.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
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
}
