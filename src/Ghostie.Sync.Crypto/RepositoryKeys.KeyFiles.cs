using System.Security.Cryptography;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Crypto;

public sealed partial class RepositoryKeys
{
    /// <summary>
    /// Adds a key file: one more passphrase (for example a printed recovery key) that unlocks this repository.
    /// No data is re-encrypted.
    /// </summary>
    /// <param name="passphrase">The new passphrase. Never logged or stored.</param>
    /// <param name="label">A label to tell key files apart (stored encrypted).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The new key file.</returns>
    public async Task<KeyFileInfo> AddPassphraseAsync(string passphrase, string label, CancellationToken cancellationToken = default)
    {
        ValidatePassphrase(passphrase);
        ArgumentNullException.ThrowIfNull(label);
        KeyFileInfo added = await WriteKeyFileAsync(passphrase, label, cancellationToken).ConfigureAwait(false);
        Log.KeyFileAdded(_options.Logger, added.Id);
        return added;
    }

    /// <summary>
    /// Replaces the passphrase of one key file (by default the one this session was unlocked with). The new key
    /// file is written first and the old one deleted after, so a crash in between leaves both passphrases working,
    /// never neither. The new key file uses the key derivation of this instance's options (<see cref="RepositoryKeyOptions.Kdf"/>
    /// and its parameters; Argon2id by default), so this is also how an old PBKDF2 key file is upgraded to Argon2id, or
    /// its parameters raised. No data is re-encrypted.
    /// </summary>
    /// <param name="newPassphrase">The new passphrase.</param>
    /// <param name="keyFileId">The key file to replace; the current one when null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The key file that replaces it (same label, new id).</returns>
    /// <exception cref="GhostieSyncException">No such key file (<see cref="GhostieErrorCode.NotFound"/>), or none given and the session was opened from a device cache.</exception>
    public async Task<KeyFileInfo> ChangePassphraseAsync(string newPassphrase, string? keyFileId = null, CancellationToken cancellationToken = default)
    {
        ValidatePassphrase(newPassphrase);
        keyFileId ??= _currentKeyFileId ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
            "This session was opened from the device key cache, so there is no current key file: name the key file to change (see ListKeyFilesAsync).");
        KeyFileInfo old = await GetKeyFileAsync(keyFileId, cancellationToken).ConfigureAwait(false);
        KeyFileInfo replacement = await WriteKeyFileAsync(newPassphrase, old.Label, cancellationToken).ConfigureAwait(false);
        await _backend.DeleteAsync(old.ObjectName, cancellationToken).ConfigureAwait(false);
        if (_currentKeyFileId == old.Id)
        {
            _currentKeyFileId = replacement.Id;
        }

        Log.KeyFileAdded(_options.Logger, replacement.Id);
        Log.KeyFileRemoved(_options.Logger, old.Id);
        return replacement with { IsCurrent = _currentKeyFileId == replacement.Id };
    }

    /// <summary>
    /// Removes a key file: its passphrase no longer unlocks the repository. Refuses to remove the last readable key file.
    /// A file listed in <see cref="SkippedKeyFiles"/> (not readable as a key file) can be removed too.
    /// Devices that already cached the unlocked key are not affected (see docs/security.md, "Revoking a device").
    /// </summary>
    /// <param name="keyFileId">The key file's id (see <see cref="ListKeyFilesAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">No such key file (<see cref="GhostieErrorCode.NotFound"/>), or it is the last one (<see cref="GhostieErrorCode.LastKeyFile"/>).</exception>
    public async Task RemoveKeyFileAsync(string keyFileId, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<KeyFileInfo> all = await ListKeyFilesAsync(cancellationToken).ConfigureAwait(false);
        if (_skipped.FirstOrDefault(k => k.Id == keyFileId) is { } unreadable)
        {
            // A file that cannot be read as a key file unlocks nothing: removing it never locks anyone out.
            await _backend.DeleteAsync(unreadable.ObjectName, cancellationToken).ConfigureAwait(false);
            _skipped = _skipped.Where(k => k.Id != keyFileId).ToArray();
            Log.KeyFileRemoved(_options.Logger, keyFileId);
            return;
        }

        KeyFileInfo target = all.FirstOrDefault(k => k.Id == keyFileId) ?? throw KeyFileNotFound(keyFileId);
        if (all.Count == 1)
        {
            throw new GhostieSyncException(GhostieErrorCode.LastKeyFile,
                $"Key file {keyFileId} is the repository's only key file; removing it would lock everyone out. Add another passphrase first.");
        }

        await _backend.DeleteAsync(target.ObjectName, cancellationToken).ConfigureAwait(false);
        if (_currentKeyFileId == keyFileId)
        {
            _currentKeyFileId = null;
        }

        Log.KeyFileRemoved(_options.Logger, keyFileId);
    }

    /// <summary>Lists the repository's key files with their labels and parameters.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <remarks>
    /// A file at a key-file name that cannot be parsed as a key file is left out, logged, and listed in
    /// <see cref="SkippedKeyFiles"/> (as at unlock).
    /// </remarks>
    /// <exception cref="IntegrityException">A key file's metadata fails authentication (names it).</exception>
    /// <exception cref="MixedRepositoriesException">The key files carry different repository ids.</exception>
    public async Task<IReadOnlyList<KeyFileInfo>> ListKeyFilesAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<KeyFileInfo>();
        KeyFileScan scan = await ScanKeyFilesAsync(_backend, _options, cancellationToken).ConfigureAwait(false);
        foreach ((string name, ParsedKeyFile parsed) in scan.Readable)
        {
            result.Add(Describe(name, parsed));
        }

        _skipped = scan.Skipped;
        return result;
    }

    private async Task<KeyFileInfo> GetKeyFileAsync(string keyFileId, CancellationToken cancellationToken)
    {
        string name = KeyFilePrefix + keyFileId;
        if (!ObjectName.IsValid(name))
        {
            throw KeyFileNotFound(keyFileId);
        }

        byte[] data = await ReadAllAsync(_backend, name, cancellationToken).ConfigureAwait(false) ?? throw KeyFileNotFound(keyFileId);
        return Describe(name, KeyFileFormat.Parse(data, name));
    }

    private KeyFileInfo Describe(string name, ParsedKeyFile parsed)
    {
        byte[] metadata = Cipher.Open(parsed.SealedMetadata, ObjectKind.KeyFileMetadata, name);
        (string label, long created) = KeyFileFormat.DecodeMetadata(metadata, name);
        string id = IdOf(name);
        return Info(id, name, label, created, parsed.Kdf, id == _currentKeyFileId);
    }

    private async Task<KeyFileInfo> WriteKeyFileAsync(string passphrase, string label, CancellationToken cancellationToken)
    {
        // Unlock does not validate its options (it only reads key files); a key file written with them must be sound.
        _options.Validate();
        string name;
        do
        {
            name = KeyFilePrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        }
        while (await ReadAllAsync(_backend, name, cancellationToken).ConfigureAwait(false) is not null);

        long created = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        byte[] metadata = Cipher.SealCoreRandom(KeyFileFormat.EncodeMetadata(label, created), ObjectKind.KeyFileMetadata, name, epoch: 0);
        KdfParameters kdf = _options.NewKeyFileKdf();
        byte[] salt = RandomNumberGenerator.GetBytes(_options.NewKeyFileSaltLength());
        byte[] nonce = RandomNumberGenerator.GetBytes(EnvelopeFormat.NonceSize);
        byte[] file = KeyFileFormat.Create(_ring.MasterKey, _ring.RepositoryId, passphrase, kdf, salt, nonce, metadata);
        await WriteAllAsync(_backend, name, file, cancellationToken).ConfigureAwait(false);
        return Info(IdOf(name), name, label, created, kdf, isCurrent: false);
    }

    private static KeyFileInfo Info(string id, string name, string label, long createdUnixMs, KdfParameters kdf, bool isCurrent) =>
        new(id, name, label, DateTimeOffset.FromUnixTimeMilliseconds(createdUnixMs), kdf.Iterations, isCurrent)
        {
            Kdf = kdf.Function,
            MemoryKiB = kdf.MemoryKiB,
            Parallelism = kdf.Parallelism,
        };

    private static GhostieSyncException KeyFileNotFound(string keyFileId) =>
        new(GhostieErrorCode.NotFound, $"There is no key file '{keyFileId}' in this repository; list them to see their ids.");
}
