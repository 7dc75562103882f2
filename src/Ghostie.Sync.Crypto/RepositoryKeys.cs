using System.Security.Cryptography;
using System.Text;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Crypto;

/// <summary>
/// The unlocked keys of one repository: the master key, the key epochs, and the operations on key files.
/// Create a repository with <see cref="InitializeAsync"/>, open one with <see cref="UnlockAsync"/> (or from a
/// <see cref="DeviceKeyCache"/>), then seal and open objects through <see cref="Cipher"/>.
/// </summary>
/// <remarks>
/// Storage layout: key files under <c>keys/&lt;16 hex&gt;</c>, key epochs under <c>epochs/&lt;8 hex&gt;</c>
/// (docs/format.md). No operation here re-encrypts data: adding, changing or removing a passphrase rewrites one
/// small key file. Dispose to clear the key material from memory.
/// </remarks>
public sealed partial class RepositoryKeys : IDisposable
{
    /// <summary>The storage prefix of key files.</summary>
    public const string KeyFilePrefix = "keys/";

    /// <summary>The storage prefix of key epoch objects.</summary>
    public const string EpochPrefix = "epochs/";

    private readonly IStorageBackend _backend;
    private readonly RepositoryKeyOptions _options;
    private KeyRing _ring; // replaced by RekeyAsync
    private string? _currentKeyFileId;
    private IReadOnlyList<SkippedKeyFile> _skipped = [];

    private RepositoryKeys(IStorageBackend backend, RepositoryKeyOptions options, KeyRing ring, string? currentKeyFileId)
    {
        _backend = backend;
        _options = options;
        _ring = ring;
        _currentKeyFileId = currentKeyFileId;
        Cipher = new ObjectCipher(ring);
    }

    /// <summary>The repository id: 32 lowercase hex digits, random, identical on every device.</summary>
    public string RepositoryId => Convert.ToHexStringLower(_ring.RepositoryId);

    /// <summary>Seals and opens objects of this repository.</summary>
    public ObjectCipher Cipher { get; private set; }

    /// <summary>The epoch new objects are sealed under.</summary>
    public uint CurrentEpoch => _ring.CurrentEpoch;

    /// <summary>Every key epoch loaded, in ascending order.</summary>
    public IReadOnlyList<uint> Epochs => _ring.Epochs.Order().ToArray();

    /// <summary>The id of the key file this session was unlocked with; null when opened from a device key cache.</summary>
    public string? CurrentKeyFileId => _currentKeyFileId;

    /// <summary>
    /// Files at key-file names that could not be read as key files and were skipped (by the unlock or open that made
    /// this instance, and by the latest <see cref="ListKeyFilesAsync"/>), in name order; empty when every key file was
    /// readable. Hosts should show them: each names the file and why, so its owner can remove or replace it.
    /// </summary>
    public IReadOnlyList<SkippedKeyFile> SkippedKeyFiles => _skipped;

    internal KeyRing Ring => _ring;

    /// <summary>Creates a new repository in <paramref name="backend"/>: a random master key, its first key file and its first key epoch.</summary>
    /// <param name="backend">Where the repository lives; it must hold no key file yet.</param>
    /// <param name="passphrase">The passphrase of the first key file. Never logged or stored.</param>
    /// <param name="label">A label for the first key file (stored encrypted).</param>
    /// <param name="options">Key derivation parameters, clock and logger; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The backend already holds a repository (<see cref="GhostieErrorCode.RepositoryAlreadyInitialized"/>), or the options are invalid.</exception>
    public static async Task<RepositoryKeys> InitializeAsync(IStorageBackend backend, string passphrase, string label = "primary",
        RepositoryKeyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ValidatePassphrase(passphrase);
        options ??= new RepositoryKeyOptions();
        options.Validate();

        if (await AnyAsync(backend, KeyFilePrefix, cancellationToken).ConfigureAwait(false))
        {
            throw new GhostieSyncException(GhostieErrorCode.RepositoryAlreadyInitialized,
                $"A repository already exists in {backend.DisplayName} (it has key files). Unlock it with its passphrase instead, or choose an empty location.");
        }

        // Epoch objects without any key file are left over from an initialization that crashed before writing its
        // key file: nobody can read them, and they would fail to open under the new master key.
        await foreach (string orphan in backend.ListAsync(EpochPrefix, cancellationToken).ConfigureAwait(false))
        {
            await backend.DeleteAsync(orphan, cancellationToken).ConfigureAwait(false);
        }

        Span<byte> repositoryId = stackalloc byte[EnvelopeFormat.RepositoryIdSize];
        RandomNumberGenerator.Fill(repositoryId);
        using SecretBuffer master = SecretBuffer.Random(EnvelopeFormat.KeySize);
        var ring = new KeyRing(repositoryId, master.Span);
        var keys = new RepositoryKeys(backend, options, ring, currentKeyFileId: null);
        try
        {
            // The epoch first, the key file last: until the key file exists, the repository does not exist.
            await keys.CreateEpochAsync(cancellationToken).ConfigureAwait(false);
            KeyFileInfo first = await keys.WriteKeyFileAsync(passphrase, label, cancellationToken).ConfigureAwait(false);
            keys._currentKeyFileId = first.Id;
            Log.RepositoryInitialized(options.Logger, keys.RepositoryId, first.Id);
            return keys;
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }

    /// <summary>Unlocks an existing repository with any of its passphrases.</summary>
    /// <param name="backend">Where the repository lives.</param>
    /// <param name="passphrase">A passphrase of one of its key files.</param>
    /// <param name="options">Clock and logger; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="WrongPassphraseException">The passphrase opens no key file.</exception>
    /// <exception cref="IntegrityException">The passphrase matches a key file whose wrapped key, or an epoch object, was tampered with.</exception>
    /// <exception cref="UnsupportedFormatException">Every key file the passphrase could open is of a newer format.</exception>
    /// <exception cref="MixedRepositoriesException">The key files carry different repository ids (two repositories in one place).</exception>
    /// <exception cref="GhostieSyncException">The backend holds no repository (<see cref="GhostieErrorCode.RepositoryNotInitialized"/>).</exception>
    /// <remarks>Files at key-file names that cannot be read are skipped (logged, and listed in <see cref="SkippedKeyFiles"/>).</remarks>
    public static async Task<RepositoryKeys> UnlockAsync(IStorageBackend backend, string passphrase,
        RepositoryKeyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ValidatePassphrase(passphrase);
        options ??= new RepositoryKeyOptions();

        KeyFileScan scan = await ScanKeyFilesAsync(backend, options, cancellationToken).ConfigureAwait(false);
        IntegrityException? tampered = null;
        var skipped = new List<SkippedKeyFile>(scan.Skipped);
        using SecretBuffer master = new(EnvelopeFormat.KeySize);
        foreach ((string name, ParsedKeyFile parsed) in scan.Readable)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (!KeyFileFormat.TryUnwrap(parsed, passphrase, master.Span, name))
                {
                    continue;
                }
            }
            catch (IntegrityException ex)
            {
                // The passphrase matches this key file but its wrapped key is damaged: another key file may still open.
                Log.KeyFileSkipped(options.Logger, IdOf(name), ex.Reason);
                skipped.Add(new SkippedKeyFile(IdOf(name), name, ex.Reason));
                tampered ??= ex;
                continue;
            }

            var ring = new KeyRing(parsed.RepositoryId, master.Span);
            var keys = new RepositoryKeys(backend, options, ring, IdOf(name)) { _skipped = skipped.OrderBy(k => k.ObjectName, StringComparer.Ordinal).ToArray() };
            try
            {
                await keys.RefreshAsync(cancellationToken).ConfigureAwait(false);
                Log.Unlocked(options.Logger, keys.RepositoryId, IdOf(name), ring.Epochs.Count, ring.CurrentEpoch);
                return keys;
            }
            catch
            {
                keys.Dispose();
                throw;
            }
        }

        if (tampered is not null)
        {
            throw tampered;
        }

        // When no key file could even be read, the problem is the key files, not the passphrase.
        if (scan.Readable.Count == 0 && scan.FirstProblem is not null)
        {
            throw scan.FirstProblem;
        }

        Log.WrongPassphrase(options.Logger, scan.Count);
        throw new WrongPassphraseException(scan.Count, scan.Skipped.Select(k => k.Id).ToArray());
    }

    /// <summary>Opens a repository with a master key already unlocked on this device (see <see cref="DeviceKeyCache"/>).</summary>
    internal static async Task<RepositoryKeys> OpenWithMasterKeyAsync(IStorageBackend backend, ReadOnlyMemory<byte> repositoryId, ReadOnlyMemory<byte> masterKey,
        RepositoryKeyOptions options, CancellationToken cancellationToken)
    {
        KeyFileScan scan = await ScanKeyFilesAsync(backend, options, cancellationToken).ConfigureAwait(false);
        if (scan.Readable.Count == 0 && scan.FirstProblem is not null)
        {
            throw scan.FirstProblem; // no key file can be read: the repository's keys are damaged, not just one file
        }

        if (scan.Readable.Count > 0 && !scan.Readable[0].File.RepositoryId.AsSpan().SequenceEqual(repositoryId.Span))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The device key cache belongs to repository {Convert.ToHexStringLower(repositoryId.Span)}, but {backend.DisplayName} holds repository {Convert.ToHexStringLower(scan.Readable[0].File.RepositoryId)}. Forget this device's cached key and unlock with the passphrase.");
        }

        var keys = new RepositoryKeys(backend, options, new KeyRing(repositoryId.Span, masterKey.Span), currentKeyFileId: null) { _skipped = scan.Skipped };
        try
        {
            await keys.RefreshAsync(cancellationToken).ConfigureAwait(false);
            Log.OpenedFromCache(options.Logger, keys.RepositoryId);
            return keys;
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Derives a short, opaque, stable object name: <paramref name="prefix"/> followed by 32 base32 characters of
    /// HMAC-SHA256(names key, UTF-8(<paramref name="purpose"/>) || 0x00 || <paramref name="input"/>). The same input
    /// gives the same name on every device of the repository; the storage provider learns nothing from it.
    /// </summary>
    /// <param name="prefix">A prefix such as "d/"; the result must follow <see cref="ObjectName"/> rules.</param>
    /// <param name="purpose">Separates name spaces (for example "device-prefix").</param>
    /// <param name="input">What the name stands for (a device id, a memory id, ...).</param>
    public string DeriveObjectName(string prefix, string purpose, ReadOnlySpan<byte> input)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(purpose);
        if (purpose.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("The purpose must not contain a NUL character (it separates purpose from input).", nameof(purpose));
        }

        Span<byte> namesKey = stackalloc byte[EnvelopeFormat.KeySize];
        byte[] message = new byte[Encoding.UTF8.GetByteCount(purpose) + 1 + input.Length];
        try
        {
            _ring.DeriveNamesKey(namesKey);
            int n = Encoding.UTF8.GetBytes(purpose, message);
            message[n] = 0;
            input.CopyTo(message.AsSpan(n + 1));
            Span<byte> mac = stackalloc byte[32];
            HMACSHA256.HashData(namesKey, message, mac);
            string name = prefix + Base32.EncodeLower(mac[..20]);
            ObjectName.Validate(name, nameof(prefix));
            return name;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(namesKey);
            CryptographicOperations.ZeroMemory(message);
        }
    }

    /// <summary>Clears the key material from memory. The instance is unusable afterwards.</summary>
    public void Dispose() => _ring.Dispose();

    private static void ValidatePassphrase(string passphrase)
    {
        ArgumentNullException.ThrowIfNull(passphrase);
        if (passphrase.Length == 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The passphrase is empty; give a non-empty passphrase.");
        }
    }

    private static GhostieSyncException NotInitialized(IStorageBackend backend) =>
        new(GhostieErrorCode.RepositoryNotInitialized,
            $"{backend.DisplayName} holds no Ghostie repository (no key files under '{KeyFilePrefix}'). Initialize one, or check the backend location.");

    private static string IdOf(string keyFileName) => keyFileName[KeyFilePrefix.Length..];

    private static async Task<bool> AnyAsync(IStorageBackend backend, string prefix, CancellationToken cancellationToken)
    {
        await foreach (string _ in backend.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }

    /// <summary>
    /// Reads and parses every key file (no passphrase work: parsing reads only the plaintext fields). A file that cannot
    /// be parsed is skipped, logged and reported; key files of different repository ids are refused together, before
    /// any passphrase is tried, so every device reaches the same verdict on the same storage.
    /// </summary>
    /// <exception cref="GhostieSyncException">No key file at all (<see cref="GhostieErrorCode.RepositoryNotInitialized"/>).</exception>
    /// <exception cref="MixedRepositoriesException">The readable key files carry more than one repository id.</exception>
    private static async Task<KeyFileScan> ScanKeyFilesAsync(IStorageBackend backend, RepositoryKeyOptions options, CancellationToken cancellationToken)
    {
        List<string> names = await ListKeyFileNamesAsync(backend, cancellationToken).ConfigureAwait(false);
        if (names.Count == 0)
        {
            throw NotInitialized(backend);
        }

        var readable = new List<(string Name, ParsedKeyFile File)>();
        var skipped = new List<SkippedKeyFile>();
        GhostieSyncException? firstProblem = null;
        foreach (string name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[]? data = await ReadAllAsync(backend, name, cancellationToken).ConfigureAwait(false);
            if (data is null)
            {
                continue; // removed by another device while we listed
            }

            try
            {
                readable.Add((name, KeyFileFormat.Parse(data, name)));
            }
            catch (GhostieSyncException ex) when (ex is IntegrityException or UnsupportedFormatException or KeyFileParametersException)
            {
                // Another key file may still open; this one is reported, and is the error only if none can be read.
                string reason = ex switch
                {
                    IntegrityException integrity => integrity.Reason,
                    KeyFileParametersException parameters => parameters.Reason,
                    _ => ex.Message,
                };
                Log.KeyFileSkipped(options.Logger, IdOf(name), reason);
                skipped.Add(new SkippedKeyFile(IdOf(name), name, reason));
                firstProblem ??= ex;
            }
        }

        var byRepository = readable
            .GroupBy(k => Convert.ToHexStringLower(k.File.RepositoryId), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(k => k.Name).ToArray(), StringComparer.Ordinal);
        if (byRepository.Count > 1)
        {
            throw new MixedRepositoriesException(backend.DisplayName, byRepository);
        }

        return new KeyFileScan(readable, skipped, firstProblem, names.Count);
    }

    private sealed record KeyFileScan(List<(string Name, ParsedKeyFile File)> Readable, IReadOnlyList<SkippedKeyFile> Skipped, GhostieSyncException? FirstProblem, int Count);

    /// <summary>Key files are <c>keys/</c> + 16 lowercase hex digits; anything else under the prefix is not ours and is ignored.</summary>
    private static async Task<List<string>> ListKeyFileNamesAsync(IStorageBackend backend, CancellationToken cancellationToken)
    {
        List<string> names = await ListAsync(backend, KeyFilePrefix, cancellationToken).ConfigureAwait(false);
        names.RemoveAll(n => n.Length != KeyFilePrefix.Length + 16 || !IsLowerHex(n.AsSpan(KeyFilePrefix.Length)));
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    private static bool IsLowerHex(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<List<string>> ListAsync(IStorageBackend backend, string prefix, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await foreach (string name in backend.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            names.Add(name);
        }

        return names;
    }

    private static async Task<byte[]?> ReadAllAsync(IStorageBackend backend, string name, CancellationToken cancellationToken)
    {
        Stream? stream = await backend.GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return null;
        }

        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }

    private static async Task WriteAllAsync(IStorageBackend backend, string name, byte[] data, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(data, writable: false);
        await backend.PutAsync(name, stream, cancellationToken).ConfigureAwait(false);
    }
}
