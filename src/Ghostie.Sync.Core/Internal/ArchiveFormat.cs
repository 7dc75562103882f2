using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Internal;

/// <summary>
/// The home archive's framing (docs/format.md, "Home archive"): a header, then frames of one type byte, a u32 BE
/// length and the content (sealed with AES-256-GCM under a passphrase-derived key, or in the clear), then an end
/// frame that counts everything before it and carries the SHA-256 of every byte before it.
/// </summary>
internal static class ArchiveFormat
{
    public const int Version = 1;
    public const byte Plain = 0, Passphrase = 1;
    public const byte KdfPbkdf2Sha256 = 1;
    public const byte FrameManifest = 1, FrameMemory = 2, FrameFile = 3, FrameEnd = 0xFF;
    public const int FixedHeaderSize = 8;
    public const int CheckSize = 16, TagSize = 16, KeySize = 32, NonceSize = 12;
    public const int MaxFrameContent = 16 << 20;
    public const int FileChunk = 1 << 20;
    public const int MinSaltLength = 16, MaxSaltLength = 64;
    public const int MinIterations = 1_000, MaxIterations = 100_000_000;

    public static ReadOnlySpan<byte> Magic => "GHAR"u8;

    public static ReadOnlySpan<byte> KeyLabel => "ghostie/v1/archive/key"u8;

    /// <summary>The folders of a home whose files an archive carries as they are (their packages own their formats).</summary>
    public static readonly string[] FileFolders = ["handoff", "vectors"];

    /// <summary>The archive key from the key files' passphrase KDF: K = HKDF-Expand(wrapKey, "ghostie/v1/archive/key", 32).</summary>
    public static void DeriveKey(string passphrase, ReadOnlySpan<byte> salt, int iterations, Span<byte> key, Span<byte> check)
    {
        Span<byte> wrap = stackalloc byte[KeySize];
        try
        {
            KeyFileFormat.DerivePassphraseKeys(passphrase, salt, iterations, wrap, check);
            HKDF.Expand(HashAlgorithmName.SHA256, wrap, key, KeyLabel);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrap);
        }
    }

    /// <summary>Associated data of frame <paramref name="index"/>: SHA-256(header) || u64 BE index || type.</summary>
    public static void AssociatedData(ReadOnlySpan<byte> headerHash, long index, byte type, Span<byte> destination)
    {
        headerHash.CopyTo(destination);
        BinaryPrimitives.WriteInt64BigEndian(destination[32..], index);
        destination[40] = type;
    }

    /// <summary>Nonce of frame <paramref name="index"/>: four zero bytes || u64 BE index (the key is new for every archive).</summary>
    public static void Nonce(long index, Span<byte> nonce)
    {
        nonce[..4].Clear();
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], index);
    }

    /// <summary>Whether <paramref name="path"/> is a relative path an archive may carry: '/'-separated, under one of
    /// <see cref="FileFolders"/>, no empty, '.' or '..' segment, no control character, '\' or ':'.</summary>
    public static bool IsValidFilePath(string path)
    {
        string[] segments = path.Split('/');
        if (segments.Length < 2 || !FileFolders.Contains(segments[0], StringComparer.Ordinal) || path.Length > 1024)
        {
            return false;
        }

        foreach (string segment in segments)
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.Any(c => char.IsControl(c) || c is '\\' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The manifest frame: what wrote the archive.</summary>
internal sealed class ArchiveManifest
{
    [JsonPropertyName("format")] public int Format { get; init; }
    [JsonPropertyName("created_at")] public DateTimeOffset CreatedAt { get; init; }
    [JsonPropertyName("device_id")] public string DeviceId { get; init; } = "";
    [JsonPropertyName("device_name")] public string DeviceName { get; init; } = "";
    [JsonPropertyName("repository_id")] public string RepositoryId { get; init; } = "";
}

/// <summary>A memory frame: one memory's surviving versions (winner first), each as a pack line.</summary>
internal sealed class ArchiveMemory
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("versions")] public required List<PackEntry> Versions { get; init; }
}

/// <summary>The end frame: counts of what precedes it and the SHA-256 of every archive byte before it.</summary>
internal sealed class ArchiveEnd
{
    [JsonPropertyName("frames")] public long Frames { get; init; }
    [JsonPropertyName("memories")] public long Memories { get; init; }
    [JsonPropertyName("versions")] public long Versions { get; init; }
    [JsonPropertyName("files")] public long Files { get; init; }
    [JsonPropertyName("sha256")] public string Sha256 { get; init; } = "";
}

[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ArchiveManifest))]
[JsonSerializable(typeof(ArchiveMemory))]
[JsonSerializable(typeof(ArchiveEnd))]
internal sealed partial class ArchiveJson : JsonSerializerContext
{
}

/// <summary>Writes an archive to a stream: header, frames, end frame.</summary>
internal sealed class ArchiveWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly AesGcm? _aead;
    private readonly byte[] _headerHash;
    private long _frames;

    public ArchiveWriter(Stream stream, string? passphrase, int iterations, int saltLength)
    {
        _stream = stream;
        byte[] header;
        if (passphrase is null)
        {
            header = new byte[ArchiveFormat.FixedHeaderSize];
            Fixed(header, ArchiveFormat.Plain);
        }
        else
        {
            header = new byte[ArchiveFormat.FixedHeaderSize + 6 + saltLength + ArchiveFormat.CheckSize];
            Fixed(header, ArchiveFormat.Passphrase);
            header[8] = ArchiveFormat.KdfPbkdf2Sha256;
            header[9] = (byte)saltLength;
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(10), (uint)iterations);
            Span<byte> salt = header.AsSpan(14, saltLength);
            RandomNumberGenerator.Fill(salt);
            byte[] key = new byte[ArchiveFormat.KeySize];
            try
            {
                ArchiveFormat.DeriveKey(passphrase, salt, iterations, key, header.AsSpan(14 + saltLength, ArchiveFormat.CheckSize));
                _aead = new AesGcm(key, ArchiveFormat.TagSize);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }

        _headerHash = SHA256.HashData(header);
        Write(header);
    }

    public long Frames => _frames;

    private static void Fixed(Span<byte> header, byte protection)
    {
        ArchiveFormat.Magic.CopyTo(header);
        header[4] = ArchiveFormat.Version;
        header[5] = protection;
    }

    public void WriteJson<T>(byte type, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) =>
        WriteFrame(type, JsonSerializer.SerializeToUtf8Bytes(value, info));

    public void WriteFrame(byte type, ReadOnlySpan<byte> content)
    {
        Span<byte> prefix = stackalloc byte[5];
        prefix[0] = type;
        int sealedLength = content.Length + (_aead is null ? 0 : ArchiveFormat.TagSize);
        BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], (uint)sealedLength);
        Write(prefix);
        if (_aead is null)
        {
            Write(content);
        }
        else
        {
            byte[] buffer = new byte[sealedLength];
            Span<byte> nonce = stackalloc byte[ArchiveFormat.NonceSize];
            Span<byte> ad = stackalloc byte[41];
            ArchiveFormat.Nonce(_frames, nonce);
            ArchiveFormat.AssociatedData(_headerHash, _frames, type, ad);
            _aead.Encrypt(nonce, content, buffer.AsSpan(0, content.Length), buffer.AsSpan(content.Length), ad);
            Write(buffer);
        }

        _frames++;
    }

    /// <summary>The end frame, then a flush to disk.</summary>
    public void WriteEnd(long memories, long versions, long files)
    {
        var end = new ArchiveEnd
        {
            Frames = _frames,
            Memories = memories,
            Versions = versions,
            Files = files,
            Sha256 = Convert.ToHexStringLower(_hash.GetCurrentHash()),
        };
        WriteJson(ArchiveFormat.FrameEnd, end, ArchiveJson.Default.ArchiveEnd);
        _stream.Flush();
        if (_stream is FileStream file)
        {
            file.Flush(flushToDisk: true);
        }
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        _hash.AppendData(bytes);
        _stream.Write(bytes);
    }

    public void Dispose()
    {
        _aead?.Dispose();
        _hash.Dispose();
    }
}

/// <summary>One frame read and verified.</summary>
internal readonly record struct ArchiveFrame(long Index, byte Type, byte[] Content);

/// <summary>Reads and verifies an archive; every failure is a <see cref="HomeArchiveException"/> naming what is wrong.</summary>
internal sealed class ArchiveReader : IDisposable
{
    private readonly Stream _stream;
    private readonly string _name;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private AesGcm? _aead;
    private byte[] _headerHash = [];
    private long _frames;
    private bool _ended;

    public ArchiveReader(Stream stream, string name)
    {
        _stream = stream;
        _name = name;
    }

    public bool Encrypted => _aead is not null;

    /// <summary>Reads the header and, for an encrypted archive, derives the key and checks the passphrase.</summary>
    public async Task ReadHeaderAsync(string? passphrase, CancellationToken cancellationToken)
    {
        byte[] fixedPart = new byte[ArchiveFormat.FixedHeaderSize];
        int got = await ReadAtMostAsync(fixedPart, cancellationToken).ConfigureAwait(false);
        if (got < 4 || !fixedPart.AsSpan(0, 4).SequenceEqual(ArchiveFormat.Magic))
        {
            throw Damaged(got < 4 && ArchiveFormat.Magic.StartsWith(fixedPart.AsSpan(0, got)) ? "it is truncated inside its header" : "it is not a Ghostie home archive (its first bytes are not \"GHAR\")");
        }

        if (got >= 5 && fixedPart[4] > ArchiveFormat.Version)
        {
            throw new HomeArchiveException(GhostieErrorCode.UnsupportedFormat, _name,
                $"Upgrade Ghostie.Sync to read this archive (archive format {fixedPart[4]}, this version reads up to {ArchiveFormat.Version}). Nothing was imported.",
                fixedPart[4]);
        }

        if (got < fixedPart.Length)
        {
            throw Damaged("it is truncated inside its header");
        }

        if (fixedPart[4] == 0 || fixedPart[6] != 0 || fixedPart[7] != 0)
        {
            throw Damaged(fixedPart[4] == 0 ? "its format version is 0" : "its reserved header bytes are not zero");
        }

        byte[] header;
        if (fixedPart[5] == ArchiveFormat.Plain)
        {
            header = fixedPart;
        }
        else if (fixedPart[5] == ArchiveFormat.Passphrase)
        {
            byte[] kdf = new byte[6];
            await ReadExactAsync(kdf, "its header", cancellationToken).ConfigureAwait(false);
            if (kdf[0] != ArchiveFormat.KdfPbkdf2Sha256)
            {
                throw new HomeArchiveException(GhostieErrorCode.UnsupportedFormat, _name,
                    $"Upgrade Ghostie.Sync to read this archive (it uses key derivation {kdf[0]}, which this version does not know). Nothing was imported.", fixedPart[4]);
            }

            int saltLength = kdf[1];
            uint iterations = BinaryPrimitives.ReadUInt32BigEndian(kdf.AsSpan(2));
            if (saltLength is < ArchiveFormat.MinSaltLength or > ArchiveFormat.MaxSaltLength || iterations is < ArchiveFormat.MinIterations or > ArchiveFormat.MaxIterations)
            {
                throw Damaged($"its key derivation parameters are out of range (salt {saltLength} bytes, {iterations} iterations)");
            }

            byte[] rest = new byte[saltLength + ArchiveFormat.CheckSize];
            await ReadExactAsync(rest, "its header", cancellationToken).ConfigureAwait(false);
            header = [.. fixedPart, .. kdf, .. rest];
            if (string.IsNullOrEmpty(passphrase))
            {
                throw new HomeArchiveException(GhostieErrorCode.InvalidArgument, _name, "The archive is encrypted: give its passphrase.");
            }

            byte[] key = new byte[ArchiveFormat.KeySize];
            byte[] check = new byte[ArchiveFormat.CheckSize];
            try
            {
                ArchiveFormat.DeriveKey(passphrase, rest.AsSpan(0, saltLength), (int)iterations, key, check);
                if (!CryptographicOperations.FixedTimeEquals(check, rest.AsSpan(saltLength)))
                {
                    throw new HomeArchiveException(GhostieErrorCode.WrongPassphrase, _name,
                        "The passphrase does not open this archive (it is the passphrase given at export, not necessarily the repository's). Nothing was imported.");
                }

                _aead = new AesGcm(key, ArchiveFormat.TagSize);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
        else
        {
            throw Damaged($"its protection byte is {fixedPart[5]} (0 plain, 1 passphrase)");
        }

        _headerHash = SHA256.HashData(header);
    }

    /// <summary>The next frame, verified; null after the end frame (which is checked against everything before it).</summary>
    public async Task<ArchiveFrame?> NextAsync(CancellationToken cancellationToken)
    {
        if (_ended)
        {
            return null;
        }

        byte[] prefix = new byte[5];
        int got = await ReadAtMostAsync(prefix, cancellationToken, hash: false).ConfigureAwait(false);
        if (got < prefix.Length)
        {
            throw Damaged(got == 0 ? $"it is truncated: it ends after frame {_frames - 1} without its end frame" : $"it is truncated inside frame {_frames}");
        }

        byte type = prefix[0];
        int length = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1)), int.MaxValue);
        int tag = _aead is null ? 0 : ArchiveFormat.TagSize;
        if (length < tag || length - tag > ArchiveFormat.MaxFrameContent)
        {
            throw Damaged($"frame {_frames} states a length of {length} bytes (at most {ArchiveFormat.MaxFrameContent + tag})");
        }

        byte[] hashBefore = _hash.GetCurrentHash();
        _hash.AppendData(prefix);
        byte[] body = new byte[length];
        await ReadExactAsync(body, $"frame {_frames}", cancellationToken).ConfigureAwait(false);
        byte[] content;
        if (_aead is null)
        {
            content = body;
        }
        else
        {
            content = new byte[length - tag];
            byte[] nonce = new byte[ArchiveFormat.NonceSize];
            byte[] ad = new byte[41];
            ArchiveFormat.Nonce(_frames, nonce);
            ArchiveFormat.AssociatedData(_headerHash, _frames, type, ad);
            try
            {
                _aead.Decrypt(nonce, body.AsSpan(0, content.Length), body.AsSpan(content.Length), content, ad);
            }
            catch (AuthenticationTagMismatchException ex)
            {
                throw Damaged($"frame {_frames} failed authentication (it was modified, reordered or damaged)", ex);
            }
        }

        long index = _frames++;
        if (type == ArchiveFormat.FrameEnd)
        {
            CheckEnd(content, index, hashBefore);
            return null;
        }

        if (type is not (ArchiveFormat.FrameManifest or ArchiveFormat.FrameMemory or ArchiveFormat.FrameFile))
        {
            throw Damaged($"frame {index} has unknown type {type}");
        }

        if ((index == 0) != (type == ArchiveFormat.FrameManifest))
        {
            throw Damaged(index == 0 ? "its first frame is not the manifest" : $"frame {index} is a second manifest");
        }

        return new ArchiveFrame(index, type, content);
    }

    /// <summary>Counts kept by the caller and checked against the end frame.</summary>
    public long Memories { get; set; }

    public long Versions { get; set; }

    public long Files { get; set; }

    private void CheckEnd(byte[] content, long index, byte[] hashBefore)
    {
        ArchiveEnd? end;
        try
        {
            end = JsonSerializer.Deserialize(content, ArchiveJson.Default.ArchiveEnd);
        }
        catch (JsonException ex)
        {
            throw Damaged("its end frame is not valid JSON", ex);
        }

        if (end is null || end.Frames != index || end.Memories != Memories || end.Versions != Versions || end.Files != Files)
        {
            throw Damaged($"its end frame does not match its content (it states {end?.Frames} frames, {end?.Memories} memories, {end?.Versions} versions and {end?.Files} files; found {index}, {Memories}, {Versions} and {Files}): frames were removed or added");
        }

        if (!string.Equals(end.Sha256, Convert.ToHexStringLower(hashBefore), StringComparison.Ordinal))
        {
            throw Damaged("its SHA-256 does not match its end frame (it was modified or damaged)");
        }

        _ended = true;
        byte[] probe = new byte[1];
        if (_stream.Read(probe) != 0)
        {
            throw Damaged("bytes follow its end frame");
        }
    }

    public HomeArchiveException Damaged(string reason, Exception? inner = null) =>
        new(GhostieErrorCode.IntegrityFailure, _name, $"The archive is damaged or was tampered with: {reason}. Nothing was imported.", innerException: inner);

    private async Task ReadExactAsync(byte[] buffer, string where, CancellationToken cancellationToken)
    {
        if (await ReadAtMostAsync(buffer, cancellationToken).ConfigureAwait(false) < buffer.Length)
        {
            throw Damaged($"it is truncated inside {where}");
        }
    }

    private async Task<int> ReadAtMostAsync(byte[] buffer, CancellationToken cancellationToken, bool hash = true)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await _stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        if (hash)
        {
            _hash.AppendData(buffer, 0, total);
        }

        return total;
    }

    public void Dispose()
    {
        _aead?.Dispose();
        _hash.Dispose();
    }
}
