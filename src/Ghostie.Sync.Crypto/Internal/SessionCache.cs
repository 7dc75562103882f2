using System.Buffers.Binary;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>Identifies a v2 writer session as a reader sees it: epoch, cipher suite and session salt.</summary>
internal readonly record struct SessionId(uint Epoch, CipherSuite Suite, ulong Salt0, ulong Salt1, ulong Salt2, ulong Salt3)
{
    public static SessionId From(uint epoch, CipherSuite suite, ReadOnlySpan<byte> salt) => new(
        epoch,
        suite,
        BinaryPrimitives.ReadUInt64LittleEndian(salt),
        BinaryPrimitives.ReadUInt64LittleEndian(salt[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(salt[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(salt[24..]));
}

/// <summary>
/// A small bounded cache of AEAD instances keyed by v2 session, so a reader that opens many objects written in one
/// session derives the session key once. An instance is lent to one caller at a time (AEAD instances are not safe
/// for concurrent use); a caller that finds it lent derives its own. Only instances that just opened an authentic
/// object are put back, so forged headers cannot fill the cache. Least recently used entries are evicted.
/// </summary>
internal sealed class SessionCache : IDisposable
{
    public const int DefaultCapacity = 32;

    private readonly object _gate = new();
    private readonly Dictionary<SessionId, Entry> _entries = new();
    private readonly int _capacity;
    private long _clock;
    private bool _disposed;

    public SessionCache(int capacity = DefaultCapacity)
    {
        _capacity = capacity;
    }

    /// <summary>How many derivations the cache saved (for tests).</summary>
    internal long Hits { get; private set; }

    internal int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Takes the cached instance for <paramref name="id"/>, or null when there is none or it is lent out.</summary>
    public Aead? TryRent(in SessionId id)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(id, out Entry? entry) && entry.Idle is { } aead)
            {
                entry.Idle = null;
                entry.LastUse = ++_clock;
                Hits++;
                return aead;
            }

            return null;
        }
    }

    /// <summary>Puts an instance back after it opened an authentic object; disposes it when the slot is taken.</summary>
    public void Return(in SessionId id, Aead aead)
    {
        Aead? surplus = aead;
        Aead? evicted = null;
        lock (_gate)
        {
            if (!_disposed)
            {
                if (_entries.TryGetValue(id, out Entry? entry))
                {
                    if (entry.Idle is null)
                    {
                        entry.Idle = aead;
                        surplus = null;
                    }

                    entry.LastUse = ++_clock;
                }
                else
                {
                    if (_entries.Count >= _capacity)
                    {
                        KeyValuePair<SessionId, Entry> oldest = _entries.MinBy(e => e.Value.LastUse);
                        _entries.Remove(oldest.Key);
                        evicted = oldest.Value.Idle;
                    }

                    _entries[id] = new Entry { Idle = aead, LastUse = ++_clock };
                    surplus = null;
                }
            }
        }

        surplus?.Dispose();
        evicted?.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (Entry entry in _entries.Values)
            {
                entry.Idle?.Dispose();
            }

            _entries.Clear();
        }
    }

    private sealed class Entry
    {
        public Aead? Idle { get; set; }

        public long LastUse { get; set; }
    }
}
