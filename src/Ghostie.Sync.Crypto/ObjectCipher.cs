using System.Buffers;
using System.Security.Cryptography;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Crypto;

/// <summary>
/// Seals and opens repository objects in the v1 envelope (docs/format.md): a 44-byte header, then the payload in
/// authenticated chunks (64 KiB by default), each with its index and a final-chunk flag bound into its nonce.
/// The associated data of every chunk binds the header, the repository id and the object's name, so an object
/// that is modified, truncated, reordered, renamed, or copied from another repository fails to open.
/// </summary>
/// <remarks>
/// Each object gets its own key, derived from the epoch's purpose key and a random 256-bit salt, so nonces
/// (chunk counters) never repeat under one key. Instances are thread-safe. Obtain one from
/// <c>RepositoryKeys.Cipher</c>.
/// </remarks>
public sealed class ObjectCipher
{
    private readonly KeyRing _ring;
    private readonly int _chunkShift;

    internal ObjectCipher(KeyRing ring, int chunkShift = EnvelopeFormat.DefaultChunkShift)
    {
        if (chunkShift is < EnvelopeFormat.MinChunkShift or > EnvelopeFormat.MaxChunkShift)
        {
            throw new ArgumentOutOfRangeException(nameof(chunkShift));
        }

        _ring = ring;
        _chunkShift = chunkShift;
    }

    /// <summary>The plaintext size of every chunk but the last, in bytes (65,536 by default).</summary>
    public int ChunkSize => 1 << _chunkShift;

    /// <summary>The size of the envelope header, in bytes.</summary>
    public static int HeaderSize => EnvelopeFormat.HeaderSize;

    /// <summary>The epoch new objects are sealed under.</summary>
    public uint CurrentEpoch => _ring.CurrentEpoch;

    /// <summary>The cipher used for <paramref name="kind"/> when none is given: ChaCha20-Poly1305 for vector data, AES-256-GCM otherwise.</summary>
    /// <param name="kind">The object kind.</param>
    public static CipherSuite DefaultSuite(ObjectKind kind) =>
        kind == ObjectKind.VectorData ? CipherSuite.ChaCha20Poly1305 : CipherSuite.Aes256Gcm;

    /// <summary>The exact sealed size of a payload of <paramref name="plaintextLength"/> bytes.</summary>
    /// <param name="plaintextLength">The payload size in bytes.</param>
    public long GetSealedLength(long plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        return EnvelopeFormat.GetSealedLength(plaintextLength, _chunkShift);
    }

    /// <summary>Reads the epoch, kind, cipher and chunk size of a sealed object from its header, without decrypting.</summary>
    /// <param name="sealedObject">At least the first <see cref="HeaderSize"/> bytes of the object.</param>
    /// <param name="name">The object's name, for error messages.</param>
    /// <exception cref="IntegrityException">The header is malformed.</exception>
    /// <exception cref="UnsupportedFormatException">The object uses a newer format or an unknown cipher.</exception>
    public static SealedObjectInfo ReadInfo(ReadOnlySpan<byte> sealedObject, string name)
    {
        EnvelopeHeader header = EnvelopeFormat.ReadHeader(sealedObject, name);
        return new SealedObjectInfo(header.Kind, header.Suite, header.Epoch, 1 << header.ChunkShift);
    }

    /// <summary>Seals <paramref name="plaintext"/> into a new array.</summary>
    /// <param name="plaintext">The payload.</param>
    /// <param name="kind">What the object holds; checked again on open.</param>
    /// <param name="name">The object's storage name (<see cref="ObjectName"/> rules); it must be the same on open.</param>
    /// <param name="suite">The cipher; <see cref="DefaultSuite"/> when null.</param>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, ObjectKind kind, string name, CipherSuite? suite = null)
    {
        var output = new byte[checked((int)GetSealedLength(plaintext.Length))];
        Seal(plaintext, output, kind, name, suite);
        return output;
    }

    /// <summary>Seals <paramref name="plaintext"/> into <paramref name="destination"/>, which must hold <see cref="GetSealedLength"/> bytes.</summary>
    /// <param name="plaintext">The payload.</param>
    /// <param name="destination">Where the sealed object is written; it must not overlap <paramref name="plaintext"/>.</param>
    /// <param name="kind">What the object holds; checked again on open.</param>
    /// <param name="name">The object's storage name (<see cref="ObjectName"/> rules); it must be the same on open.</param>
    /// <param name="suite">The cipher; <see cref="DefaultSuite"/> when null.</param>
    /// <returns>The number of bytes written.</returns>
    public int Seal(ReadOnlySpan<byte> plaintext, Span<byte> destination, ObjectKind kind, string name, CipherSuite? suite = null)
    {
        Span<byte> salt = stackalloc byte[EnvelopeFormat.SaltSize];
        RandomNumberGenerator.Fill(salt);
        return SealCore(plaintext, destination, kind, name, suite ?? DefaultSuite(kind), _ring.CurrentEpoch, salt);
    }

    /// <summary>Seals under an explicit epoch (0 = the master key, for key material) with a random salt.</summary>
    internal byte[] SealCoreRandom(ReadOnlySpan<byte> plaintext, ObjectKind kind, string name, uint epoch)
    {
        Span<byte> salt = stackalloc byte[EnvelopeFormat.SaltSize];
        RandomNumberGenerator.Fill(salt);
        var output = new byte[checked((int)GetSealedLength(plaintext.Length))];
        SealCore(plaintext, output, kind, name, DefaultSuite(kind), epoch, salt);
        return output;
    }

    /// <summary>The deterministic core of sealing, with the salt given: used by known-answer tests.</summary>
    internal int SealCore(ReadOnlySpan<byte> plaintext, Span<byte> destination, ObjectKind kind, string name, CipherSuite suite, uint epoch, ReadOnlySpan<byte> salt)
    {
        ObjectName.Validate(name);
        long sealedLength = GetSealedLength(plaintext.Length);
        if (destination.Length < sealedLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the sealed object needs {sealedLength}.", nameof(destination));
        }

        EnvelopeFormat.WriteHeader(destination, suite, kind, _chunkShift, epoch, salt);
        Span<byte> ad = stackalloc byte[EnvelopeFormat.MaxAssociatedDataSize];
        ad = ad[..EnvelopeFormat.WriteAssociatedData(ad, destination, _ring.RepositoryId, name)];
        using Aead aead = CreateAead(suite, epoch, salt);

        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        int chunkSize = ChunkSize;
        int input = 0;
        int output = EnvelopeFormat.HeaderSize;
        ulong index = 0;
        while (true)
        {
            int length = Math.Min(chunkSize, plaintext.Length - input);
            bool final = input + length == plaintext.Length;
            EnvelopeFormat.WriteNonce(nonce, index, final);
            aead.Encrypt(nonce, plaintext.Slice(input, length), destination.Slice(output, length), destination.Slice(output + length, EnvelopeFormat.TagSize), ad);
            input += length;
            output += length + EnvelopeFormat.TagSize;
            if (final)
            {
                return output;
            }

            index++;
        }
    }

    /// <summary>Opens a sealed object into a new array.</summary>
    /// <param name="sealedObject">The whole sealed object.</param>
    /// <param name="kind">The kind the caller expects; another kind is an integrity failure.</param>
    /// <param name="name">The name the object was read from.</param>
    /// <exception cref="IntegrityException">The object is not authentic (names the object).</exception>
    /// <exception cref="UnsupportedFormatException">The object uses a newer format version.</exception>
    /// <exception cref="GhostieSyncException">The object's key epoch is not loaded (code <see cref="GhostieErrorCode.NotFound"/>).</exception>
    public byte[] Open(ReadOnlySpan<byte> sealedObject, ObjectKind kind, string name)
    {
        long length = GetPlaintextLength(sealedObject, name);
        var output = new byte[checked((int)length)];
        Open(sealedObject, output, kind, name);
        return output;
    }

    /// <summary>The plaintext size of a whole sealed object, from its length and header.</summary>
    /// <param name="sealedObject">The whole sealed object.</param>
    /// <param name="name">The object's name, for error messages.</param>
    /// <exception cref="IntegrityException">The object's length is impossible for its chunk size (truncated).</exception>
    public static long GetPlaintextLength(ReadOnlySpan<byte> sealedObject, string name)
    {
        EnvelopeHeader header = EnvelopeFormat.ReadHeader(sealedObject, name);
        return PlaintextLengthOf(sealedObject.Length - EnvelopeFormat.HeaderSize, header.ChunkShift, name);
    }

    /// <summary>Opens a sealed object into <paramref name="destination"/>.</summary>
    /// <param name="sealedObject">The whole sealed object.</param>
    /// <param name="destination">Receives the plaintext; cleared again if the object turns out not to be authentic.</param>
    /// <param name="kind">The kind the caller expects; another kind is an integrity failure.</param>
    /// <param name="name">The name the object was read from.</param>
    /// <returns>The number of plaintext bytes written.</returns>
    /// <exception cref="IntegrityException">The object is not authentic (names the object).</exception>
    /// <exception cref="UnsupportedFormatException">The object uses a newer format version.</exception>
    public int Open(ReadOnlySpan<byte> sealedObject, Span<byte> destination, ObjectKind kind, string name)
    {
        ObjectName.Validate(name);
        EnvelopeHeader header = ValidateHeader(sealedObject, kind, name);
        int chunkSize = 1 << header.ChunkShift;
        long plaintextLength = PlaintextLengthOf(sealedObject.Length - EnvelopeFormat.HeaderSize, header.ChunkShift, name);
        if (destination.Length < plaintextLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the object's plaintext is {plaintextLength}.", nameof(destination));
        }

        Span<byte> ad = stackalloc byte[EnvelopeFormat.MaxAssociatedDataSize];
        ad = ad[..EnvelopeFormat.WriteAssociatedData(ad, sealedObject, _ring.RepositoryId, name)];
        using Aead aead = CreateAead(header.Suite, header.Epoch, sealedObject.Slice(12, EnvelopeFormat.SaltSize));

        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        int input = EnvelopeFormat.HeaderSize;
        int output = 0;
        ulong index = 0;
        while (true)
        {
            int length = (int)Math.Min(chunkSize, plaintextLength - output);
            bool final = output + length == plaintextLength;
            EnvelopeFormat.WriteNonce(nonce, index, final);
            try
            {
                aead.Decrypt(nonce, sealedObject.Slice(input, length), sealedObject.Slice(input + length, EnvelopeFormat.TagSize), destination.Slice(output, length), ad);
            }
            catch (AuthenticationTagMismatchException ex)
            {
                CryptographicOperations.ZeroMemory(destination[..(output + length)]);
                throw ChunkFailure(name, index, final, ex);
            }

            input += length + EnvelopeFormat.TagSize;
            output += length;
            if (final)
            {
                return output;
            }

            index++;
        }
    }

    /// <summary>
    /// Seals everything <paramref name="source"/> yields into <paramref name="destination"/>, one chunk at a time:
    /// memory stays bounded by two chunk buffers whatever the payload size.
    /// </summary>
    /// <param name="source">The plaintext, read to its end.</param>
    /// <param name="destination">Receives the sealed object.</param>
    /// <param name="kind">What the object holds.</param>
    /// <param name="name">The object's storage name.</param>
    /// <param name="suite">The cipher; <see cref="DefaultSuite"/> when null.</param>
    /// <param name="cancellationToken">Cancels the work between chunks.</param>
    public async Task SealAsync(Stream source, Stream destination, ObjectKind kind, string name, CipherSuite? suite = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ObjectName.Validate(name);
        CipherSuite cipherSuite = suite ?? DefaultSuite(kind);
        int chunkSize = ChunkSize;
        byte[] header = new byte[EnvelopeFormat.HeaderSize];
        byte[] salt = new byte[EnvelopeFormat.SaltSize];
        RandomNumberGenerator.Fill(salt);
        uint epoch = _ring.CurrentEpoch;
        EnvelopeFormat.WriteHeader(header, cipherSuite, kind, _chunkShift, epoch, salt);
        byte[] ad = BuildAssociatedData(header, name);

        byte[] plain = ArrayPool<byte>.Shared.Rent(chunkSize + 1);
        byte[] sealedChunk = ArrayPool<byte>.Shared.Rent(chunkSize + EnvelopeFormat.TagSize);
        try
        {
            using Aead aead = CreateAead(cipherSuite, epoch, salt);
            await destination.WriteAsync(header, cancellationToken).ConfigureAwait(false);
            int carried = 0;
            ulong index = 0;
            while (true)
            {
                int length = carried + await ReadFullAsync(source, plain.AsMemory(carried, chunkSize - carried), cancellationToken).ConfigureAwait(false);
                carried = 0;
                bool final = length < chunkSize;
                if (!final)
                {
                    // Peek one byte: a full chunk is the last one only if the source ends right after it.
                    int extra = await source.ReadAsync(plain.AsMemory(chunkSize, 1), cancellationToken).ConfigureAwait(false);
                    final = extra == 0;
                }

                EncryptChunk(aead, index, final, plain.AsSpan(0, length), sealedChunk, ad);
                await destination.WriteAsync(sealedChunk.AsMemory(0, length + EnvelopeFormat.TagSize), cancellationToken).ConfigureAwait(false);
                if (final)
                {
                    break;
                }

                plain[0] = plain[chunkSize];
                carried = 1;
                index++;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain.AsSpan(0, chunkSize + 1));
            ArrayPool<byte>.Shared.Return(plain);
            ArrayPool<byte>.Shared.Return(sealedChunk);
        }
    }

    /// <summary>
    /// Opens a sealed object from <paramref name="source"/> into <paramref name="destination"/>, one chunk at a time.
    /// Every chunk written is authentic, but the object is complete only if this method returns normally: on an
    /// <see cref="IntegrityException"/> (for example a truncated object) discard what was written.
    /// </summary>
    /// <param name="source">The sealed object, read to its end.</param>
    /// <param name="destination">Receives the plaintext.</param>
    /// <param name="kind">The kind the caller expects.</param>
    /// <param name="name">The name the object was read from.</param>
    /// <param name="cancellationToken">Cancels the work between chunks.</param>
    /// <exception cref="IntegrityException">The object is not authentic (names the object and the chunk).</exception>
    public async Task OpenAsync(Stream source, Stream destination, ObjectKind kind, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ObjectName.Validate(name);
        byte[] header = new byte[EnvelopeFormat.HeaderSize];
        int headerLength = await ReadFullAsync(source, header, cancellationToken).ConfigureAwait(false);
        EnvelopeHeader info = ValidateHeader(header.AsSpan(0, headerLength), kind, name);
        int chunkSize = 1 << info.ChunkShift;
        int sealedChunkSize = chunkSize + EnvelopeFormat.TagSize;
        byte[] ad = BuildAssociatedData(header, name);

        byte[] sealedChunk = ArrayPool<byte>.Shared.Rent(sealedChunkSize + 1);
        byte[] plain = ArrayPool<byte>.Shared.Rent(chunkSize);
        try
        {
            using Aead aead = CreateAead(info.Suite, info.Epoch, header.AsSpan(12, EnvelopeFormat.SaltSize));
            int carried = 0;
            ulong index = 0;
            while (true)
            {
                int length = carried + await ReadFullAsync(source, sealedChunk.AsMemory(carried, sealedChunkSize - carried), cancellationToken).ConfigureAwait(false);
                carried = 0;
                bool final = length < sealedChunkSize;
                if (!final)
                {
                    int extra = await source.ReadAsync(sealedChunk.AsMemory(sealedChunkSize, 1), cancellationToken).ConfigureAwait(false);
                    final = extra == 0;
                }

                if (length < EnvelopeFormat.TagSize)
                {
                    throw new IntegrityException(name, index == 0 ? "it has a header but no chunk (truncated)" : $"chunk {index} is cut short (truncated)");
                }

                int plainLength = length - EnvelopeFormat.TagSize;
                DecryptChunk(aead, index, final, sealedChunk.AsSpan(0, length), plain.AsSpan(0, plainLength), ad, name);
                await destination.WriteAsync(plain.AsMemory(0, plainLength), cancellationToken).ConfigureAwait(false);
                if (final)
                {
                    break;
                }

                sealedChunk[0] = sealedChunk[sealedChunkSize];
                carried = 1;
                index++;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain.AsSpan(0, chunkSize));
            ArrayPool<byte>.Shared.Return(plain);
            ArrayPool<byte>.Shared.Return(sealedChunk);
        }
    }

    private static void EncryptChunk(Aead aead, ulong index, bool final, ReadOnlySpan<byte> plaintext, Span<byte> output, ReadOnlySpan<byte> ad)
    {
        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        EnvelopeFormat.WriteNonce(nonce, index, final);
        aead.Encrypt(nonce, plaintext, output[..plaintext.Length], output.Slice(plaintext.Length, EnvelopeFormat.TagSize), ad);
    }

    private static void DecryptChunk(Aead aead, ulong index, bool final, ReadOnlySpan<byte> sealedChunk, Span<byte> plaintext, ReadOnlySpan<byte> ad, string name)
    {
        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        EnvelopeFormat.WriteNonce(nonce, index, final);
        try
        {
            aead.Decrypt(nonce, sealedChunk[..plaintext.Length], sealedChunk.Slice(plaintext.Length, EnvelopeFormat.TagSize), plaintext, ad);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw ChunkFailure(name, index, final, ex);
        }
    }

    private static IntegrityException ChunkFailure(string name, ulong index, bool final, Exception inner) =>
        new(name, final
            ? $"chunk {index} (read as the last chunk) failed authentication: the object was modified, truncated, renamed, or belongs to another repository"
            : $"chunk {index} failed authentication: the object was modified, reordered, renamed, or belongs to another repository", inner);

    private EnvelopeHeader ValidateHeader(ReadOnlySpan<byte> data, ObjectKind expectedKind, string name)
    {
        EnvelopeHeader header = EnvelopeFormat.ReadHeader(data, name);
        if (header.Kind != expectedKind)
        {
            throw new IntegrityException(name, $"its header says kind {header.Kind} where {expectedKind} was expected");
        }

        // Epoch 0 (the master key) seals key material and nothing else; anything else under it is forged or misfiled.
        bool keyMaterial = header.Kind is ObjectKind.KeyFileMetadata or ObjectKind.KeyEpoch;
        if (keyMaterial != (header.Epoch == 0))
        {
            throw new IntegrityException(name, keyMaterial
                ? $"its header names key epoch {header.Epoch}, but key material is always sealed under the master key (epoch 0)"
                : "its header names epoch 0 (the master key), which seals only key material");
        }

        if (!_ring.HasEpoch(header.Epoch))
        {
            throw new GhostieSyncException(GhostieErrorCode.NotFound,
                $"Object '{name}' is sealed under key epoch {header.Epoch}, which this device has not loaded. Refresh the repository keys (RepositoryKeys.RefreshAsync) and try again.");
        }

        return header;
    }

    private static long PlaintextLengthOf(long bodyLength, int chunkShift, string name)
    {
        long sealedChunk = (1L << chunkShift) + EnvelopeFormat.TagSize;
        long fullChunks = bodyLength / sealedChunk;
        long rest = bodyLength % sealedChunk;
        if (bodyLength == 0)
        {
            throw new IntegrityException(name, "it has a header but no chunk (truncated)");
        }

        if (rest is > 0 and < EnvelopeFormat.TagSize)
        {
            throw new IntegrityException(name, $"its last chunk is {rest} bytes, shorter than a tag (truncated)");
        }

        long chunks = fullChunks + (rest > 0 ? 1 : 0);
        return bodyLength - (chunks * EnvelopeFormat.TagSize);
    }

    private Aead CreateAead(CipherSuite suite, uint epoch, ReadOnlySpan<byte> salt)
    {
        Span<byte> objectKey = stackalloc byte[EnvelopeFormat.KeySize];
        try
        {
            EnvelopeFormat.DeriveObjectKey(_ring.GetPurposeKey(epoch, suite), salt, objectKey);
            return new Aead(suite, objectKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(objectKey);
        }
    }

    private byte[] BuildAssociatedData(ReadOnlySpan<byte> header, string name)
    {
        Span<byte> ad = stackalloc byte[EnvelopeFormat.MaxAssociatedDataSize];
        return ad[..EnvelopeFormat.WriteAssociatedData(ad, header, _ring.RepositoryId, name)].ToArray();
    }

    private static async ValueTask<int> ReadFullAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}

/// <summary>What the header of a sealed object says, readable without any key.</summary>
/// <param name="Kind">What the object holds.</param>
/// <param name="Suite">The cipher it is sealed with.</param>
/// <param name="Epoch">The key epoch it is sealed under (0 = the master key).</param>
/// <param name="ChunkSize">Its plaintext chunk size in bytes.</param>
public readonly record struct SealedObjectInfo(ObjectKind Kind, CipherSuite Suite, uint Epoch, int ChunkSize);
