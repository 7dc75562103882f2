using System.Buffers.Binary;
using System.Security.Cryptography;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Crypto;

public sealed partial class RepositoryKeys
{
    /// <summary>
    /// The key ring object, written by <see cref="RekeyAsync"/> (docs/format.md, "Key ring"): sealed under the master
    /// key, it carries the names key and every key epoch, so that a new master key opens everything the old one did.
    /// </summary>
    public const string KeyRingName = EpochPrefix + "keyring";

    private const byte KeyRingVersion = 1;
    private const int KeyRingHeaderSize = 1 + EnvelopeFormat.KeySize + 4 + 4;
    private const int KeyRingEntrySize = 4 + 8 + EnvelopeFormat.KeySize;

    /// <summary>The key epoch created by the latest re-key (<see cref="RekeyAsync"/>): everything sealed under it or a
    /// later epoch was written after the master key changed. 0 when the repository was never re-keyed.</summary>
    public uint RekeyEpoch { get; private set; }

    /// <summary>
    /// Replaces the master key, to shut out a device that holds the old one (a lost or stolen device with its cached key,
    /// or someone who knows an old passphrase). A new random master key is wrapped under <paramref name="newPassphrase"/>
    /// in a new key file; a new key epoch, which no holder of the old master key can derive, seals every object written
    /// from now on; the names key and the keys of the existing epochs are carried over in the key ring object
    /// (<see cref="KeyRingName"/>), sealed under the new master key, so that the repository's names stay the same and
    /// older objects stay readable to whoever unlocks with the new passphrase. Then every other key file (every other
    /// passphrase, recovery keys included) and the old epoch objects are deleted. Afterwards this instance holds the new
    /// keys (cache them again: <see cref="DeviceKeyCache.Save"/>); other devices need the new passphrase once.
    /// </summary>
    /// <remarks>
    /// Resumable: each step is recorded in the repository before the next begins (the new key file, then the key ring,
    /// then the deletions). After a crash or cancellation, call it again with the same passphrase, on keys opened as
    /// before (the device cache, or the old passphrase) or, once the key ring is written, unlocked with the new
    /// passphrase: it finds the key file that passphrase opens and goes on from there. It re-encrypts no data: objects
    /// written before stay under their epochs (see <see cref="ReencryptAsync"/>).
    /// </remarks>
    /// <param name="newPassphrase">The passphrase of the new key file (the only one afterwards). Never logged or stored.</param>
    /// <param name="label">The new key file's label.</param>
    /// <param name="progress">Receives each step as it is done ("key-file", "key-ring", "cleanup").</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    /// <returns>The new key file and epoch.</returns>
    /// <exception cref="IntegrityException">An epoch object fails authentication.</exception>
    public async Task<RekeyResult> RekeyAsync(string newPassphrase, string label = "primary", IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ValidatePassphrase(newPassphrase);
        ArgumentNullException.ThrowIfNull(label);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        KeyRing? next = null;
        try
        {
            (byte[]? resumedMaster, string? keyFileId) = await FindKeyFileOpenedByAsync(newPassphrase, cancellationToken).ConfigureAwait(false);
            bool alreadyCurrent = resumedMaster is not null && CryptographicOperations.FixedTimeEquals(resumedMaster, _ring.MasterKey);
            if (alreadyCurrent && await StaleObjectsAsync(cancellationToken).ConfigureAwait(false) is { Count: > 0 } leftovers && RekeyEpoch != 0)
            {
                // Unlocked with the new passphrase after a re-key that wrote its key ring and stopped before the deletions.
                await DeleteAsync(leftovers, cancellationToken).ConfigureAwait(false);
                progress?.Report("cleanup");
                Log.Rekeyed(_options.Logger, RepositoryId, keyFileId!, RekeyEpoch);
                return new RekeyResult(keyFileId!, RekeyEpoch, leftovers.Count);
            }

            using SecretBuffer master = alreadyCurrent || resumedMaster is null ? SecretBuffer.Random(EnvelopeFormat.KeySize) : new SecretBuffer(resumedMaster);
            if (resumedMaster is not null)
            {
                CryptographicOperations.ZeroMemory(resumedMaster);
            }

            next = new KeyRing(_ring.RepositoryId, master.Span);
            Span<byte> namesKey = stackalloc byte[EnvelopeFormat.KeySize];
            _ring.DeriveNamesKey(namesKey);
            next.SetNamesKey(namesKey);
            CryptographicOperations.ZeroMemory(namesKey);
            byte[] epochKey = new byte[EnvelopeFormat.KeySize];
            foreach (uint epoch in _ring.Epochs)
            {
                long created = _ring.CopyEpoch(epoch, epochKey);
                next.AddEpoch(epoch, created, epochKey);
            }

            CryptographicOperations.ZeroMemory(epochKey);
            var successor = new RepositoryKeys(_backend, _options, next, currentKeyFileId: null);

            // 1. The new key file first: from here on the new master key can always be recovered with the new passphrase.
            if (keyFileId is null || alreadyCurrent)
            {
                keyFileId = (await successor.WriteKeyFileAsync(newPassphrase, label, cancellationToken).ConfigureAwait(false)).Id;
            }

            progress?.Report("key-file");
            cancellationToken.ThrowIfCancellationRequested();

            // 2. The key ring: the names key, every epoch, and a new epoch of its own that the old master key cannot open.
            uint rekeyEpoch = await successor.WriteKeyRingAsync(cancellationToken).ConfigureAwait(false);
            progress?.Report("key-ring");

            // 3. Everything only the old master key opens: the other key files and the old epoch objects. Not cancelled
            // part-way on purpose: it is a few deletions, and a second run finishes it anyway.
            List<string> stale = await successor.StaleObjectsAsync(CancellationToken.None).ConfigureAwait(false);
            await DeleteAsync(stale, CancellationToken.None).ConfigureAwait(false);
            progress?.Report("cleanup");

            KeyRing old = _ring;
            (_ring, Cipher, _currentKeyFileId, RekeyEpoch) = (next, new ObjectCipher(next), keyFileId, rekeyEpoch);
            next = null;
            old.Dispose();
            Log.Rekeyed(_options.Logger, RepositoryId, keyFileId, rekeyEpoch);
            return new RekeyResult(keyFileId, rekeyEpoch, stale.Count);
        }
        finally
        {
            next?.Dispose();
        }
    }

    /// <summary>The key file (and the master key it wraps) that <paramref name="passphrase"/> opens, or nulls.</summary>
    private async Task<(byte[]? Master, string? KeyFileId)> FindKeyFileOpenedByAsync(string passphrase, CancellationToken cancellationToken)
    {
        KeyFileScan scan = await ScanKeyFilesAsync(_backend, _options, cancellationToken).ConfigureAwait(false);
        byte[] master = GC.AllocateUninitializedArray<byte>(EnvelopeFormat.KeySize, pinned: true);
        foreach ((string name, ParsedKeyFile parsed) in scan.Readable)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (KeyFileFormat.TryUnwrap(parsed, passphrase, master, name))
                {
                    return (master, IdOf(name));
                }
            }
            catch (IntegrityException)
            {
                // damaged: not the one
            }
        }

        CryptographicOperations.ZeroMemory(master);
        return (null, null);
    }

    /// <summary>Key files and epoch objects this instance's master key does not open: left by the master key a re-key replaced.</summary>
    private async Task<List<string>> StaleObjectsAsync(CancellationToken cancellationToken)
    {
        var stale = new List<string>();
        foreach (string name in await ListKeyFileNamesAsync(_backend, cancellationToken).ConfigureAwait(false))
        {
            byte[]? data = await ReadAllAsync(_backend, name, cancellationToken).ConfigureAwait(false);
            if (data is null)
            {
                continue;
            }

            try
            {
                _ = Describe(name, KeyFileFormat.Parse(data, name)); // its metadata is sealed under the master key it wraps
            }
            catch (IntegrityException)
            {
                stale.Add(name);
            }
            catch (UnsupportedFormatException)
            {
                // written by a newer version: not ours to judge
            }
        }

        foreach (string name in await ListAsync(_backend, EpochPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (!TryParseEpochName(name, out _) || await ReadAllAsync(_backend, name, cancellationToken).ConfigureAwait(false) is not { } sealedRecord)
            {
                continue;
            }

            try
            {
                CryptographicOperations.ZeroMemory(Cipher.Open(sealedRecord, ObjectKind.KeyEpoch, name));
            }
            catch (IntegrityException)
            {
                stale.Add(name); // its key is in the key ring
            }
        }

        return stale;
    }

    private async Task DeleteAsync(List<string> names, CancellationToken cancellationToken)
    {
        foreach (string name in names)
        {
            await _backend.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the key ring under this instance's master key: its names key, its epochs and one new epoch, whose id it returns.</summary>
    private async Task<uint> WriteKeyRingAsync(CancellationToken cancellationToken)
    {
        uint fresh;
        do
        {
            fresh = BinaryPrimitives.ReadUInt32BigEndian(RandomNumberGenerator.GetBytes(4));
        }
        while (fresh == 0 || _ring.HasEpoch(fresh) || await ReadAllAsync(_backend, EpochName(fresh), cancellationToken).ConfigureAwait(false) is not null);

        long created = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        if (_ring.Epochs.Count > 0)
        {
            created = Math.Max(created, _ring.CurrentEpochCreatedUnixMs + 1); // the new epoch must be the current one
        }

        using (SecretBuffer key = SecretBuffer.Random(EnvelopeFormat.KeySize))
        {
            _ring.AddEpoch(fresh, created, key.Span);
        }

        uint[] epochs = _ring.Epochs.Order().ToArray();
        byte[] record = GC.AllocateUninitializedArray<byte>(KeyRingHeaderSize + (epochs.Length * KeyRingEntrySize), pinned: true);
        try
        {
            record[0] = KeyRingVersion;
            _ring.DeriveNamesKey(record.AsSpan(1, EnvelopeFormat.KeySize));
            BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(33), fresh);
            BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(37), (uint)epochs.Length);
            for (int i = 0; i < epochs.Length; i++)
            {
                Span<byte> entry = record.AsSpan(KeyRingHeaderSize + (i * KeyRingEntrySize), KeyRingEntrySize);
                BinaryPrimitives.WriteUInt32BigEndian(entry, epochs[i]);
                BinaryPrimitives.WriteInt64BigEndian(entry[4..], _ring.CopyEpoch(epochs[i], entry[12..]));
            }

            byte[] sealedRecord = Cipher.SealCoreRandom(record, ObjectKind.KeyEpoch, KeyRingName, epoch: 0);
            await WriteAllAsync(_backend, KeyRingName, sealedRecord, cancellationToken).ConfigureAwait(false);
            RekeyEpoch = fresh;
            return fresh;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(record);
        }
    }

    /// <summary>Opens the key ring under this instance's master key and loads its names key and epochs.</summary>
    /// <exception cref="RepositoryRekeyedException">The master key does not open it.</exception>
    private async Task LoadKeyRingAsync(CancellationToken cancellationToken)
    {
        byte[]? sealedRecord = await ReadAllAsync(_backend, KeyRingName, cancellationToken).ConfigureAwait(false);
        if (sealedRecord is null)
        {
            return;
        }

        byte[] record;
        try
        {
            record = Cipher.Open(sealedRecord, ObjectKind.KeyEpoch, KeyRingName);
        }
        catch (IntegrityException ex)
        {
            throw new RepositoryRekeyedException(_backend.DisplayName, ex);
        }

        try
        {
            if (record.Length > 0 && record[0] > KeyRingVersion)
            {
                throw new UnsupportedFormatException($"Key ring '{KeyRingName}'", record[0], KeyRingVersion);
            }

            uint count = record.Length >= KeyRingHeaderSize ? BinaryPrimitives.ReadUInt32BigEndian(record.AsSpan(37)) : 0;
            if (record.Length < KeyRingHeaderSize || record[0] != KeyRingVersion || count == 0 || count > 100_000
                || record.Length != KeyRingHeaderSize + ((long)count * KeyRingEntrySize))
            {
                throw new IntegrityException(KeyRingName, "its key ring record is malformed");
            }

            uint rekeyEpoch = BinaryPrimitives.ReadUInt32BigEndian(record.AsSpan(33));
            _ring.SetNamesKey(record.AsSpan(1, EnvelopeFormat.KeySize));
            bool listed = false;
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> entry = record.AsSpan(KeyRingHeaderSize + (i * KeyRingEntrySize), KeyRingEntrySize);
                uint epoch = BinaryPrimitives.ReadUInt32BigEndian(entry);
                if (epoch == 0)
                {
                    throw new IntegrityException(KeyRingName, "its key ring record lists epoch 0");
                }

                listed |= epoch == rekeyEpoch;
                _ring.AddEpoch(epoch, BinaryPrimitives.ReadInt64BigEndian(entry[4..]), entry[12..]);
            }

            if (!listed)
            {
                throw new IntegrityException(KeyRingName, "its key ring record does not list the epoch it names as the re-key's");
            }

            RekeyEpoch = rekeyEpoch;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(record);
        }
    }
}

/// <summary>The outcome of <see cref="RepositoryKeys.RekeyAsync"/>.</summary>
/// <param name="KeyFileId">The new key file, the repository's only one.</param>
/// <param name="Epoch">The key epoch the re-key created: current from now on, and not derivable from the old master key.</param>
/// <param name="DeletedObjects">Key files and epoch objects of the old master key deleted (by this run).</param>
public sealed record RekeyResult(string KeyFileId, uint Epoch, int DeletedObjects);
