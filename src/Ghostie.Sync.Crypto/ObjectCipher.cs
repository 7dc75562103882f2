using System.Buffers;
using System.Security.Cryptography;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Crypto;

/// <summary>
/// Seals and opens repository objects in the object envelope (docs/format.md): a header, then the payload in
/// authenticated chunks (64 KiB by default), each with its index and a final-chunk flag bound into its nonce.
/// The associated data of every chunk binds the header, the repository id and the object's name, so an object
/// that is modified, truncated, reordered, renamed, or copied from another repository fails to open.
/// </summary>
/// <remarks>
/// New objects are written in format v2: each thread seals in a writer session (a random 256-bit session salt, the
/// key derived from it, a cached AEAD instance and an in-memory object counter), and every chunk nonce holds the
/// object's counter, its chunk index and the final flag, so no nonce repeats under a session key. Objects of format
/// v1 (a key per object, from a random per-object salt) stay readable. Readers cache the AEAD of recently seen v2
/// sessions. Instances are thread-safe. Obtain one from <c>RepositoryKeys.Cipher</c>.
/// </remarks>
public sealed class ObjectCipher
{
    // Scratch layout of the stream API (one small pooled array per call): header, associated data, tag, tag, peek.
    private const int ScratchHeader = 0;
    private const int ScratchAd = EnvelopeFormat.HeaderSizeV2;
    private const int ScratchTag = ScratchAd + EnvelopeFormat.MaxAssociatedDataSize;
    private const int ScratchTag2 = ScratchTag + EnvelopeFormat.TagSize;
    private const int ScratchPeek = ScratchTag2 + EnvelopeFormat.TagSize;
    private const int ScratchSize = ScratchPeek + 1;

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

    /// <summary>
    /// The size of the envelope header this version writes (48 bytes, format v2). It is also enough to read the
    /// header of any object: v1 headers are 44 bytes, and every well-formed object is longer than 48 bytes.
    /// </summary>
    public static int HeaderSize => EnvelopeFormat.HeaderSize;

    /// <summary>The epoch new objects are sealed under.</summary>
    public uint CurrentEpoch => _ring.CurrentEpoch;

    /// <summary>The cipher used for <paramref name="kind"/> when none is given: ChaCha20-Poly1305 for vector data, AES-256-GCM otherwise.</summary>
    /// <param name="kind">The object kind.</param>
    public static CipherSuite DefaultSuite(ObjectKind kind) =>
        kind == ObjectKind.VectorData ? CipherSuite.ChaCha20Poly1305 : CipherSuite.Aes256Gcm;

    /// <summary>The exact sealed size of a payload of <paramref name="plaintextLength"/> bytes (as this version writes it).</summary>
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
        CheckSealArguments(plaintext.Length, destination.Length, name);
        CipherSuite cipherSuite = suite ?? DefaultSuite(kind);
        uint epoch = _ring.CurrentEpoch;
        WriterSession session = _ring.Writers.Current(epoch, cipherSuite);
        uint counter = session.TakeCounter();
        Aead aead = session.Rent();
        try
        {
            return SealV2(aead, plaintext, destination, kind, name, cipherSuite, epoch, session.Salt, counter);
        }
        finally
        {
            session.Return(aead);
        }
    }

    /// <summary>
    /// Seals under an explicit epoch (0 = the master key, for key material) in a session of its own: a fresh random
    /// session salt and object counter 0. Key material is written rarely, so caching its session would gain nothing.
    /// </summary>
    internal byte[] SealCoreRandom(ReadOnlySpan<byte> plaintext, ObjectKind kind, string name, uint epoch)
    {
        Span<byte> salt = stackalloc byte[EnvelopeFormat.SaltSize];
        RandomNumberGenerator.Fill(salt);
        var output = new byte[checked((int)GetSealedLength(plaintext.Length))];
        SealCoreV2(plaintext, output, kind, name, DefaultSuite(kind), epoch, salt, counter: 0);
        return output;
    }

    /// <summary>The deterministic core of v2 sealing, with the session salt and object counter given: used by known-answer tests.</summary>
    internal int SealCoreV2(ReadOnlySpan<byte> plaintext, Span<byte> destination, ObjectKind kind, string name, CipherSuite suite, uint epoch, ReadOnlySpan<byte> sessionSalt, uint counter)
    {
        CheckSealArguments(plaintext.Length, destination.Length, name);
        using Aead aead = CreateAead(EnvelopeFormat.Version, suite, epoch, sessionSalt);
        return SealV2(aead, plaintext, destination, kind, name, suite, epoch, sessionSalt, counter);
    }

    /// <summary>
    /// The deterministic core of format v1 sealing (a key per object from <paramref name="salt"/>). Nothing writes v1
    /// any more; known-answer and compatibility tests use this to make v1 objects.
    /// </summary>
    internal int SealCore(ReadOnlySpan<byte> plaintext, Span<byte> destination, ObjectKind kind, string name, CipherSuite suite, uint epoch, ReadOnlySpan<byte> salt)
    {
        ObjectName.Validate(name);
        long sealedLength = EnvelopeFormat.GetSealedLength(plaintext.Length, _chunkShift, EnvelopeFormat.HeaderSizeV1);
        if (destination.Length < sealedLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the sealed object needs {sealedLength}.", nameof(destination));
        }

        EnvelopeFormat.WriteHeaderV1(destination, suite, kind, _chunkShift, epoch, salt);
        var header = new EnvelopeHeader(EnvelopeFormat.Version1, suite, kind, _chunkShift, epoch, 0);
        using Aead aead = CreateAead(EnvelopeFormat.Version1, suite, epoch, salt);
        return SealChunks(aead, header, plaintext, destination, name);
    }

    /// <summary>The exact v1 sealed size of a payload, for tests that build v1 objects.</summary>
    internal long GetSealedLengthV1(long plaintextLength) => EnvelopeFormat.GetSealedLength(plaintextLength, _chunkShift, EnvelopeFormat.HeaderSizeV1);

    private void CheckSealArguments(int plaintextLength, int destinationLength, string name)
    {
        ObjectName.Validate(name);
        long sealedLength = GetSealedLength(plaintextLength);
        if (destinationLength < sealedLength)
        {
            throw new ArgumentException($"The destination holds {destinationLength} bytes; the sealed object needs {sealedLength}.", "destination");
        }
    }

    private int SealV2(Aead aead, ReadOnlySpan<byte> plaintext, Span<byte> destination, ObjectKind kind, string name, CipherSuite suite, uint epoch, ReadOnlySpan<byte> sessionSalt, uint counter)
    {
        EnvelopeFormat.WriteHeaderV2(destination, suite, kind, _chunkShift, epoch, sessionSalt, counter);
        var header = new EnvelopeHeader(EnvelopeFormat.Version, suite, kind, _chunkShift, epoch, counter);
        return SealChunks(aead, header, plaintext, destination, name);
    }

    /// <summary>Encrypts the chunks after a header already written at the start of <paramref name="destination"/>.</summary>
    private int SealChunks(Aead aead, in EnvelopeHeader header, ReadOnlySpan<byte> plaintext, Span<byte> destination, string name)
    {
        int headerLength = header.Length;
        Span<byte> ad = stackalloc byte[EnvelopeFormat.MaxAssociatedDataSize];
        ad = ad[..EnvelopeFormat.WriteAssociatedData(ad, destination[..headerLength], _ring.RepositoryId, name)];
        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        int chunkSize = 1 << header.ChunkShift;
        int input = 0;
        int output = headerLength;
        ulong index = 0;
        while (true)
        {
            int length = Math.Min(chunkSize, plaintext.Length - input);
            bool final = input + length == plaintext.Length;
            EnvelopeFormat.WriteNonce(nonce, header, index, final);
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
        return PlaintextLengthOf(sealedObject.Length - header.Length, header.ChunkShift, name);
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
        int headerLength = header.Length;
        int chunkSize = 1 << header.ChunkShift;
        long plaintextLength = PlaintextLengthOf(sealedObject.Length - headerLength, header.ChunkShift, name);
        if (destination.Length < plaintextLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the object's plaintext is {plaintextLength}.", nameof(destination));
        }

        Span<byte> ad = stackalloc byte[EnvelopeFormat.MaxAssociatedDataSize];
        ad = ad[..EnvelopeFormat.WriteAssociatedData(ad, sealedObject[..headerLength], _ring.RepositoryId, name)];
        ReadOnlySpan<byte> salt = sealedObject.Slice(EnvelopeFormat.SaltOffset, EnvelopeFormat.SaltSize);
        Aead aead = AcquireReader(header, salt, out SessionId session);
        bool authentic = false;
        try
        {
            Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
            int input = headerLength;
            int output = 0;
            ulong index = 0;
            while (true)
            {
                int length = (int)Math.Min(chunkSize, plaintextLength - output);
                bool final = output + length == plaintextLength;
                EnvelopeFormat.WriteNonce(nonce, header, index, final);
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
                    authentic = true;
                    return output;
                }

                index++;
            }
        }
        finally
        {
            ReleaseReader(header, session, aead, authentic);
        }
    }

    /// <summary>
    /// Seals everything <paramref name="source"/> yields into <paramref name="destination"/>, one chunk at a time:
    /// memory stays bounded by one chunk buffer whatever the payload size.
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
        uint epoch = _ring.CurrentEpoch;

        // Everything up to the first await runs on the calling thread: the session is that thread's.
        WriterSession session = _ring.Writers.Current(epoch, cipherSuite);
        uint counter = session.TakeCounter();
        var header = new EnvelopeHeader(EnvelopeFormat.Version, cipherSuite, kind, _chunkShift, epoch, counter);
        int chunkSize = ChunkSize;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(ScratchSize);
        EnvelopeFormat.WriteHeaderV2(scratch, cipherSuite, kind, _chunkShift, epoch, session.Salt, counter);
        int adLength = EnvelopeFormat.WriteAssociatedData(scratch.AsSpan(ScratchAd), scratch.AsSpan(0, EnvelopeFormat.HeaderSizeV2), _ring.RepositoryId, name);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
        Aead aead = session.Rent();
        bool holdsPlaintext = false;
        try
        {
            await destination.WriteAsync(scratch.AsMemory(0, EnvelopeFormat.HeaderSizeV2), cancellationToken).ConfigureAwait(false);
            int carried = 0;
            ulong index = 0;
            while (true)
            {
                holdsPlaintext = true;
                int length = carried + await ReadFullAsync(source, buffer.AsMemory(carried, chunkSize - carried), cancellationToken).ConfigureAwait(false);
                bool final = length < chunkSize;
                if (!final)
                {
                    // Peek one byte: a full chunk is the last one only if the source ends right after it.
                    int extra = await source.ReadAsync(scratch.AsMemory(ScratchPeek, 1), cancellationToken).ConfigureAwait(false);
                    final = extra == 0;
                }

                // In place: once encrypted, the buffer holds only ciphertext, so nothing needs clearing on success.
                EncryptInPlace(aead, header, index, final, buffer.AsSpan(0, length), scratch.AsSpan(ScratchTag, EnvelopeFormat.TagSize), scratch.AsSpan(ScratchAd, adLength));
                holdsPlaintext = false;
                await destination.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                await destination.WriteAsync(scratch.AsMemory(ScratchTag, EnvelopeFormat.TagSize), cancellationToken).ConfigureAwait(false);
                if (final)
                {
                    break;
                }

                buffer[0] = scratch[ScratchPeek];
                carried = 1;
                index++;
            }
        }
        finally
        {
            if (holdsPlaintext)
            {
                CryptographicOperations.ZeroMemory(buffer.AsSpan(0, chunkSize));
            }

            scratch[ScratchPeek] = 0;
            session.Return(aead);
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(scratch);
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
        byte[] scratch = ArrayPool<byte>.Shared.Rent(ScratchSize);
        byte[]? buffer = null;
        Aead? aead = null;
        EnvelopeHeader header = default;
        SessionId session = default;
        bool authentic = false;
        int plaintextExtent = 0;
        try
        {
            // The v1 header is 44 bytes and the v2 header 48: read 44, then the rest if the version byte says v2.
            int headerLength = await ReadFullAsync(source, scratch.AsMemory(0, EnvelopeFormat.HeaderSizeV1), cancellationToken).ConfigureAwait(false);
            if (headerLength == EnvelopeFormat.HeaderSizeV1 && scratch[4] == EnvelopeFormat.Version)
            {
                headerLength += await ReadFullAsync(source, scratch.AsMemory(EnvelopeFormat.HeaderSizeV1, EnvelopeFormat.HeaderSizeV2 - EnvelopeFormat.HeaderSizeV1), cancellationToken).ConfigureAwait(false);
            }

            header = ValidateHeader(scratch.AsSpan(0, headerLength), kind, name);
            int adLength = EnvelopeFormat.WriteAssociatedData(scratch.AsSpan(ScratchAd), scratch.AsSpan(0, header.Length), _ring.RepositoryId, name);
            int chunkSize = 1 << header.ChunkShift;
            buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
            aead = AcquireReader(header, scratch.AsSpan(EnvelopeFormat.SaltOffset, EnvelopeFormat.SaltSize), out session);

            // A sealed chunk is chunkSize + 16 bytes: its first chunkSize bytes go to the buffer, the rest (the tag of a
            // full chunk) to the scratch array, then one byte is peeked to learn whether another chunk follows.
            int carried = 0;
            ulong index = 0;
            while (true)
            {
                int length = carried + await ReadFullAsync(source, buffer.AsMemory(carried, chunkSize - carried), cancellationToken).ConfigureAwait(false);
                int tagRead = 0;
                bool final = true;
                if (length == chunkSize)
                {
                    tagRead = await ReadFullAsync(source, scratch.AsMemory(ScratchTag, EnvelopeFormat.TagSize), cancellationToken).ConfigureAwait(false);
                    if (tagRead == EnvelopeFormat.TagSize)
                    {
                        int extra = await source.ReadAsync(scratch.AsMemory(ScratchPeek, 1), cancellationToken).ConfigureAwait(false);
                        final = extra == 0;
                    }
                }

                int sealedLength = length + tagRead;
                if (sealedLength < EnvelopeFormat.TagSize)
                {
                    throw new IntegrityException(name, index == 0 ? "it has a header but no chunk (truncated)" : $"chunk {index} is cut short (truncated)");
                }

                int plainLength = sealedLength - EnvelopeFormat.TagSize;
                plaintextExtent = Math.Max(plaintextExtent, plainLength);
                DecryptInPlace(aead, header, index, final, buffer, plainLength, length, scratch, tagRead, scratch.AsSpan(ScratchAd, adLength), name);
                await destination.WriteAsync(buffer.AsMemory(0, plainLength), cancellationToken).ConfigureAwait(false);
                if (final)
                {
                    authentic = true;
                    break;
                }

                buffer[0] = scratch[ScratchPeek];
                carried = 1;
                index++;
            }
        }
        finally
        {
            if (buffer is not null)
            {
                CryptographicOperations.ZeroMemory(buffer.AsSpan(0, plaintextExtent));
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (aead is not null)
            {
                ReleaseReader(header, session, aead, authentic);
            }

            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static void EncryptInPlace(Aead aead, in EnvelopeHeader header, ulong index, bool final, Span<byte> data, Span<byte> tag, ReadOnlySpan<byte> ad)
    {
        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        EnvelopeFormat.WriteNonce(nonce, header, index, final);
        aead.Encrypt(nonce, data, data, tag, ad);
    }

    /// <summary>
    /// Decrypts one sealed chunk in place. Its bytes are <c>buffer[0..inBuffer)</c> followed by
    /// <c>scratch[ScratchTag..ScratchTag + tagRead)</c>; the tag is the last 16 of them.
    /// </summary>
    private static void DecryptInPlace(Aead aead, in EnvelopeHeader header, ulong index, bool final, byte[] buffer, int plainLength, int inBuffer, byte[] scratch, int tagRead, ReadOnlySpan<byte> ad, string name)
    {
        ReadOnlySpan<byte> tag;
        if (tagRead == EnvelopeFormat.TagSize)
        {
            tag = scratch.AsSpan(ScratchTag, EnvelopeFormat.TagSize);
        }
        else if (tagRead == 0)
        {
            tag = buffer.AsSpan(plainLength, EnvelopeFormat.TagSize);
        }
        else
        {
            // The tag straddles the buffer's end and the scratch tag area: join it in the second tag slot.
            int fromBuffer = EnvelopeFormat.TagSize - tagRead;
            buffer.AsSpan(inBuffer - fromBuffer, fromBuffer).CopyTo(scratch.AsSpan(ScratchTag2));
            scratch.AsSpan(ScratchTag, tagRead).CopyTo(scratch.AsSpan(ScratchTag2 + fromBuffer));
            tag = scratch.AsSpan(ScratchTag2, EnvelopeFormat.TagSize);
        }

        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        EnvelopeFormat.WriteNonce(nonce, header, index, final);
        Span<byte> data = buffer.AsSpan(0, plainLength);
        try
        {
            aead.Decrypt(nonce, data, tag, data, ad);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            CryptographicOperations.ZeroMemory(data);
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
                ? $"its header names key epoch {header.Epoch:x8}, but key material is always sealed under the master key (epoch 0)"
                : "its header names epoch 0 (the master key), which seals only key material");
        }

        if (!_ring.HasEpoch(header.Epoch))
        {
            throw new GhostieSyncException(GhostieErrorCode.NotFound,
                $"Object '{name}' is sealed under key epoch {header.Epoch:x8}, which this device has not loaded. Refresh the repository keys (RepositoryKeys.RefreshAsync) and try again.");
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

    /// <summary>The AEAD that opens an object: for v2, the cached instance of its session if there is one; else a new one.</summary>
    private Aead AcquireReader(in EnvelopeHeader header, ReadOnlySpan<byte> salt, out SessionId session)
    {
        if (header.Version == EnvelopeFormat.Version1)
        {
            session = default;
            return CreateAead(EnvelopeFormat.Version1, header.Suite, header.Epoch, salt);
        }

        session = SessionId.From(header.Epoch, header.Suite, salt);
        return _ring.Readers.TryRent(session) ?? CreateAead(header.Version, header.Suite, header.Epoch, salt);
    }

    /// <summary>Keeps a v2 session's AEAD for the next object of that session, but only after it opened an authentic object.</summary>
    private void ReleaseReader(in EnvelopeHeader header, in SessionId session, Aead aead, bool authentic)
    {
        if (authentic && header.Version != EnvelopeFormat.Version1)
        {
            _ring.Readers.Return(session, aead);
        }
        else
        {
            aead.Dispose();
        }
    }

    private Aead CreateAead(byte version, CipherSuite suite, uint epoch, ReadOnlySpan<byte> salt)
    {
        Span<byte> key = stackalloc byte[EnvelopeFormat.KeySize];
        try
        {
            EnvelopeFormat.DeriveKey(version, _ring.GetPurposeKey(epoch, suite), salt, key);
            return new Aead(suite, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
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
