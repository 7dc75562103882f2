using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>
/// The unlocked key material of one repository: its id, the master key (epoch 0) and the epoch keys.
/// Purpose keys are derived on first use and cached.
/// </summary>
internal sealed class KeyRing : IDisposable
{
    private readonly SecretBuffer _master;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<(uint Epoch, CipherSuite Suite), SecretBuffer> _purposeKeys = new();
    private Dictionary<uint, EpochEntry> _epochs = new();
    private bool _disposed;

    public KeyRing(ReadOnlySpan<byte> repositoryId, ReadOnlySpan<byte> masterKey)
    {
        if (repositoryId.Length != EnvelopeFormat.RepositoryIdSize)
        {
            throw new ArgumentException("A repository id is 16 bytes.", nameof(repositoryId));
        }

        if (masterKey.Length != EnvelopeFormat.KeySize)
        {
            throw new ArgumentException("A master key is 32 bytes.", nameof(masterKey));
        }

        RepositoryId = repositoryId.ToArray();
        _master = new SecretBuffer(masterKey);
        Writers = new WriterSessions(this);
    }

    /// <summary>The v2 writer sessions (per thread, per suite, for the current epoch).</summary>
    public WriterSessions Writers { get; }

    /// <summary>AEAD instances of v2 sessions recently read, so many objects of one session pay one derivation.</summary>
    public SessionCache Readers { get; } = new();

    public byte[] RepositoryId { get; }

    /// <summary>The epoch new objects are sealed under; 0 until an epoch is added.</summary>
    public uint CurrentEpoch { get; private set; }

    /// <summary>Creation time of the current epoch (Unix ms); meaningless while no epoch is loaded.</summary>
    public long CurrentEpochCreatedUnixMs => _epochs.TryGetValue(CurrentEpoch, out EpochEntry? entry) ? entry.CreatedUnixMs : long.MinValue;

    public ReadOnlySpan<byte> MasterKey => _master.Span;

    public IReadOnlyCollection<uint> Epochs => _epochs.Keys;

    public bool HasEpoch(uint epoch) => epoch == 0 || _epochs.ContainsKey(epoch);

    /// <summary>
    /// Adds an epoch key. The current epoch is the one with the latest creation time, ties broken by the larger id,
    /// so every device that knows the same epochs picks the same current one.
    /// </summary>
    public void AddEpoch(uint epoch, long createdUnixMs, ReadOnlySpan<byte> key)
    {
        if (epoch == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), "Epoch 0 is reserved for the master key.");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_epochs.ContainsKey(epoch))
            {
                return;
            }

            var copy = new Dictionary<uint, EpochEntry>(_epochs) { [epoch] = new EpochEntry(createdUnixMs, new SecretBuffer(key)) };
            _epochs = copy;
            var current = copy.MaxBy(e => (e.Value.CreatedUnixMs, e.Key));
            CurrentEpoch = current.Key;
        }
    }

    /// <summary>HKDF-SHA256(ikm = epoch key (master key for epoch 0), salt = repository id, info = purpose label).</summary>
    public ReadOnlySpan<byte> GetPurposeKey(uint epoch, CipherSuite suite)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_purposeKeys.TryGetValue((epoch, suite), out SecretBuffer? cached))
        {
            return cached.Span;
        }

        var derived = new SecretBuffer(EnvelopeFormat.KeySize);
        ReadOnlySpan<byte> ikm = epoch == 0 ? _master.Span : _epochs[epoch].Key.Span;
        HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, derived.Span, RepositoryId, EnvelopeFormat.PurposeLabel(suite));
        SecretBuffer winner = _purposeKeys.GetOrAdd((epoch, suite), derived);
        if (!ReferenceEquals(winner, derived))
        {
            derived.Dispose();
        }

        return winner.Span;
    }

    /// <summary>namesKey = HKDF-SHA256(ikm = master key, salt = repository id, info = "ghostie/v1/names/hmac-sha256"),
    /// or, in a repository that was re-keyed, the names key its key ring carries (so names never change).</summary>
    public void DeriveNamesKey(Span<byte> destination)
    {
        if (_namesKey is not null)
        {
            _namesKey.Span.CopyTo(destination);
            return;
        }

        HKDF.DeriveKey(HashAlgorithmName.SHA256, _master.Span, destination, RepositoryId, Labels.Names);
    }

    private SecretBuffer? _namesKey;

    /// <summary>Uses <paramref name="namesKey"/> as the names key (from a key ring record), instead of deriving it from the master key.</summary>
    public void SetNamesKey(ReadOnlySpan<byte> namesKey)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _namesKey?.Dispose();
            _namesKey = new SecretBuffer(namesKey);
        }
    }

    /// <summary>Copies the key of a loaded epoch into <paramref name="destination"/> (for a key ring record); returns its creation time.</summary>
    public long CopyEpoch(uint epoch, Span<byte> destination)
    {
        EpochEntry entry = _epochs[epoch];
        entry.Key.Span.CopyTo(destination);
        return entry.CreatedUnixMs;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Writers.Dispose();
            Readers.Dispose();
            _master.Dispose();
            _namesKey?.Dispose();
            foreach (EpochEntry entry in _epochs.Values)
            {
                entry.Key.Dispose();
            }

            foreach (SecretBuffer key in _purposeKeys.Values)
            {
                key.Dispose();
            }
        }
    }

    private sealed record EpochEntry(long CreatedUnixMs, SecretBuffer Key);
}
