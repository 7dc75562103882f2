using System.Buffers.Binary;
using System.Security.Cryptography;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Crypto;

public sealed partial class RepositoryKeys
{
    private const byte EpochRecordVersion = 1;
    private const int EpochRecordSize = 1 + 4 + 8 + EnvelopeFormat.KeySize;

    /// <summary>
    /// Starts a new key epoch: a fresh random data key that seals every new object from now on. Objects sealed
    /// under older epochs stay readable. Two devices rotating at once both succeed and agree on the current epoch
    /// (latest creation time, then largest id), because each epoch is its own immutable object.
    /// </summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The new epoch's id.</returns>
    public async Task<uint> RotateEpochAsync(CancellationToken cancellationToken = default)
    {
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        uint epoch = await CreateEpochAsync(cancellationToken).ConfigureAwait(false);
        Log.EpochRotated(_options.Logger, epoch);
        return epoch;
    }

    /// <summary>Loads key epochs created by other devices since this instance was unlocked.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="IntegrityException">An epoch object fails authentication (names it).</exception>
    /// <exception cref="RepositoryRekeyedException">The repository was re-keyed: this instance's master key no longer opens its key ring.</exception>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        List<string> names = await ListAsync(_backend, EpochPrefix, cancellationToken).ConfigureAwait(false);
        if (names.Contains(KeyRingName))
        {
            await LoadKeyRingAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (string name in names)
        {
            if (!TryParseEpochName(name, out uint epoch) || _ring.HasEpoch(epoch))
            {
                continue;
            }

            byte[]? sealedRecord = await ReadAllAsync(_backend, name, cancellationToken).ConfigureAwait(false);
            if (sealedRecord is null)
            {
                continue;
            }

            byte[] record = Cipher.Open(sealedRecord, ObjectKind.KeyEpoch, name);
            try
            {
                if (record.Length > 0 && record[0] > EpochRecordVersion)
                {
                    throw new UnsupportedFormatException($"Epoch record '{name}'", record[0], EpochRecordVersion);
                }

                if (record.Length != EpochRecordSize || record[0] != EpochRecordVersion || BinaryPrimitives.ReadUInt32BigEndian(record.AsSpan(1)) != epoch)
                {
                    throw new IntegrityException(name, "its epoch record is malformed or names another epoch");
                }

                _ring.AddEpoch(epoch, BinaryPrimitives.ReadInt64BigEndian(record.AsSpan(5)), record.AsSpan(13, EnvelopeFormat.KeySize));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(record);
            }
        }
    }

    /// <summary>
    /// Rewrites the named objects under the current epoch, decrypting and re-sealing each (same name, kind and
    /// cipher). Objects already under the current epoch are skipped, which makes the operation resumable: after a
    /// crash or cancellation, call it again with the same names. Each object is verified completely before it is
    /// replaced. Memory stays bounded and plaintext never reaches the disk: the object is decrypted chunk by chunk
    /// straight into the new seal, and only the new sealed object is buffered, in an owner-only temporary file that
    /// is deleted on close. Where the backend supports conditional writes, an object that another device replaced
    /// meanwhile is read again rather than overwritten with its older content.
    /// </summary>
    /// <param name="objectNames">The objects to rewrite (for example every pack and snapshot of the repository).</param>
    /// <param name="progress">Receives a report after each object.</param>
    /// <param name="cancellationToken">Cancels between objects and between chunks.</param>
    /// <exception cref="IntegrityException">An object fails authentication; it is left as it was.</exception>
    /// <exception cref="GhostieSyncException">An object kept changing while it was being rewritten (<see cref="GhostieErrorCode.Busy"/>); run again later.</exception>
    public async Task<ReencryptionResult> ReencryptAsync(IReadOnlyCollection<string> objectNames, IProgress<ReencryptionProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objectNames);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        uint target = _ring.CurrentEpoch;
        int processed = 0, reencrypted = 0, current = 0, missing = 0;
        byte[] header = new byte[EnvelopeFormat.HeaderSize];
        var conditional = _backend as IConditionalStorageBackend;
        foreach (string name in objectNames)
        {
            for (int attempt = 1; ; attempt++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string? version = conditional is null ? null : await conditional.GetVersionAsync(name, cancellationToken).ConfigureAwait(false);
                Stream? source = await _backend.GetAsync(name, cancellationToken).ConfigureAwait(false);
                if (source is null)
                {
                    missing++;
                    break;
                }

                bool done;
                await using (source.ConfigureAwait(false))
                {
                    int read = await source.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                    SealedObjectInfo info = ObjectCipher.ReadInfo(header.AsSpan(0, read), name);
                    if (info.Epoch == target || info.Epoch == 0)
                    {
                        current++;
                        done = true;
                    }
                    else
                    {
                        done = (conditional is null || version is not null)
                            && await ReencryptOneAsync(name, info, header.AsMemory(0, read), source, conditional, version, cancellationToken).ConfigureAwait(false);
                        if (done)
                        {
                            Log.Reencrypted(_options.Logger, name, info.Epoch, target);
                            reencrypted++;
                        }
                    }
                }

                if (done)
                {
                    break;
                }

                if (attempt == MaxReencryptAttempts)
                {
                    throw new GhostieSyncException(GhostieErrorCode.Busy,
                        $"Object '{name}' changed in storage {MaxReencryptAttempts} times while it was being re-encrypted; it was left as another writer wrote it. Run the re-encryption again later: objects already done are skipped.",
                        isTransient: true);
                }
            }

            processed++;
            progress?.Report(new ReencryptionProgress(processed, objectNames.Count, reencrypted, name));
        }

        return new ReencryptionResult(reencrypted, current, missing, target);
    }

    private const int MaxReencryptAttempts = 3;

    /// <summary>Where re-encryption buffers sealed objects; tests point it at a folder of their own.</summary>
    internal static readonly AsyncLocal<string?> TempDirectoryOverride = new();

    /// <summary>Returns false when a conditional replace found the object changed since <paramref name="version"/>.</summary>
    private async Task<bool> ReencryptOneAsync(string name, SealedObjectInfo info, ReadOnlyMemory<byte> header, Stream rest,
        IConditionalStorageBackend? conditional, string? version, CancellationToken cancellationToken)
    {
        // The plaintext flows through a small in-memory pipe (blocks zeroed when released) from the opening to the new
        // seal; only the new sealed object goes to a temporary file, so memory stays bounded and the original is
        // replaced only after its last chunk has been authenticated.
        await using FileStream resealed = TempFile();
        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(pool: ZeroingMemoryPool.Instance,
            pauseWriterThreshold: 1 << 18, resumeWriterThreshold: 1 << 17, minimumSegmentSize: 1 << 16, useSynchronizationContext: false));
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task opening = Task.Run(async () =>
        {
            try
            {
                using var whole = new ConcatStream(header, rest);
                await Cipher.OpenAsync(whole, pipe.Writer.AsStream(leaveOpen: true), info.Kind, name, failed.Token).ConfigureAwait(false);
                await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                await pipe.Writer.CompleteAsync(ex).ConfigureAwait(false);
                throw;
            }
        }, CancellationToken.None);
        Task sealing = Task.Run(async () =>
        {
            try
            {
                await Cipher.SealAsync(pipe.Reader.AsStream(leaveOpen: true), resealed, info.Kind, name, info.Suite, failed.Token).ConfigureAwait(false);
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false); // stop the opening if it waits on a full pipe
                throw;
            }
            finally
            {
                await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            }
        }, CancellationToken.None);
        try
        {
            await Task.WhenAll(opening, sealing).ConfigureAwait(false);
        }
        catch
        {
            // The opening's error (an integrity failure, say) is the real cause; the sealing only saw the pipe fail.
            if (opening.IsFaulted)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(opening.Exception!.InnerException!);
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }

        resealed.Position = 0;
        if (conditional is not null && version is not null)
        {
            return await conditional.TryReplaceAsync(name, resealed, version, cancellationToken).ConfigureAwait(false);
        }

        await _backend.PutAsync(name, resealed, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static FileStream TempFile() =>
        OwnerOnlyFile.Open(Path.Combine(TempDirectoryOverride.Value ?? Path.GetTempPath(), "ghostie-" + Guid.NewGuid().ToString("N") + ".tmp"), FileMode.CreateNew,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);

    private async Task<uint> CreateEpochAsync(CancellationToken cancellationToken)
    {
        uint epoch;
        string name;
        do
        {
            epoch = BinaryPrimitives.ReadUInt32BigEndian(RandomNumberGenerator.GetBytes(4));
            name = EpochName(epoch);
        }
        while (epoch == 0 || _ring.HasEpoch(epoch) || await ReadAllAsync(_backend, name, cancellationToken).ConfigureAwait(false) is not null);

        // Creation times order epochs; never let a slow clock make a new epoch older than the current one.
        long created = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        long newest = _ring.Epochs.Count == 0 ? long.MinValue : _ring.CurrentEpochCreatedUnixMs;
        created = Math.Max(created, newest == long.MinValue ? created : newest + 1);

        byte[] record = new byte[EpochRecordSize];
        try
        {
            record[0] = EpochRecordVersion;
            BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(1), epoch);
            BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(5), created);
            RandomNumberGenerator.Fill(record.AsSpan(13));
            byte[] sealedRecord = Cipher.SealCoreRandom(record, ObjectKind.KeyEpoch, name, epoch: 0);
            await WriteAllAsync(_backend, name, sealedRecord, cancellationToken).ConfigureAwait(false);
            _ring.AddEpoch(epoch, created, record.AsSpan(13));
            return epoch;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(record);
        }
    }

    private static string EpochName(uint epoch) => EpochPrefix + epoch.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);

    private static bool TryParseEpochName(string name, out uint epoch)
    {
        epoch = 0;
        string hex = name[EpochPrefix.Length..];
        return hex.Length == 8 && IsLowerHex(hex) && uint.TryParse(hex, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out epoch) && epoch != 0;
    }
}
