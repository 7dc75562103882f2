using System.Security.Cryptography;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>
/// One writer session of format v2: a random 256-bit session salt, the session key derived from it, a cached AEAD
/// instance and an in-memory object counter. Every object sealed in the session takes the next counter value, and
/// the counter is part of every chunk nonce, so no (key, nonce) pair repeats: a new process or thread starts a new
/// session with a fresh salt (so a fresh key) instead of persisting counters.
/// </summary>
/// <remarks>
/// A session belongs to one thread: only that thread takes counters (<see cref="TakeCounter"/>). The AEAD instance
/// is lent out (<see cref="Rent"/>, <see cref="Return"/>) with interlocked exchanges, because an asynchronous seal
/// started on the owning thread may finish on another while the owning thread seals something else; whoever finds
/// the slot empty builds a second instance from the session key.
/// </remarks>
internal sealed class WriterSession
{
    private readonly SecretBuffer _key;
    private Aead? _idle;
    private long _next;
    private volatile bool _retired;

    public WriterSession(ReadOnlySpan<byte> purposeKey, uint epoch, CipherSuite suite, long firstCounter = 0)
    {
        Epoch = epoch;
        Suite = suite;
        Salt = RandomNumberGenerator.GetBytes(EnvelopeFormat.SaltSize);
        _key = new SecretBuffer(EnvelopeFormat.KeySize);
        EnvelopeFormat.DeriveSessionKey(purposeKey, Salt, _key.Span);
        _idle = new Aead(suite, _key.Span);
        _next = firstCounter;
    }

    public uint Epoch { get; }

    public CipherSuite Suite { get; }

    /// <summary>The session salt, written in the header of every object of the session.</summary>
    public byte[] Salt { get; }

    /// <summary>True once every u32 counter value has been used: the owner must start a new session.</summary>
    public bool Exhausted => _next > uint.MaxValue;

    public bool Retired => _retired;

    /// <summary>The next object counter. Only the owning thread calls this, before checking <see cref="Exhausted"/>.</summary>
    public uint TakeCounter()
    {
        if (_next > uint.MaxValue)
        {
            throw new InvalidOperationException("The writer session has used every object counter.");
        }

        return (uint)_next++;
    }

    public Aead Rent() => Interlocked.Exchange(ref _idle, null) ?? new Aead(Suite, _key.Span);

    public void Return(Aead aead)
    {
        if (_retired || Interlocked.CompareExchange(ref _idle, aead, null) is not null)
        {
            aead.Dispose();
            return;
        }

        if (_retired)
        {
            // Retired between the check and the exchange: take it back out so the key does not linger.
            Interlocked.Exchange(ref _idle, null)?.Dispose();
        }
    }

    /// <summary>Ends the session: the idle AEAD and the session key are disposed (lent instances are disposed on return).</summary>
    public void Retire()
    {
        _retired = true;
        Interlocked.Exchange(ref _idle, null)?.Dispose();
        _key.Dispose();
    }
}

/// <summary>
/// The writer sessions of one key ring: per thread, one session per cipher suite, for the current epoch. No lock
/// on the hot path: each thread sees only its own sessions.
/// </summary>
internal sealed class WriterSessions : IDisposable
{
    private readonly KeyRing _ring;
    private readonly ThreadLocal<WriterSession?[]> _perThread = new(() => new WriterSession?[2], trackAllValues: true);
    private volatile bool _disposed;
    private int _started;

    public WriterSessions(KeyRing ring)
    {
        _ring = ring;
    }

    /// <summary>The counter new sessions start at: 0, except in tests of counter exhaustion.</summary>
    internal long FirstCounter { get; set; }

    /// <summary>How many sessions this ring has started (for tests and diagnostics).</summary>
    internal int Started => _started;

    /// <summary>This thread's session for <paramref name="suite"/> under <paramref name="epoch"/>, started if needed.</summary>
    public WriterSession Current(uint epoch, CipherSuite suite)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WriterSession?[] slots = _perThread.Value!;
        int slot = suite == CipherSuite.ChaCha20Poly1305 ? 1 : 0;
        WriterSession? session = slots[slot];
        if (session is null || session.Epoch != epoch || session.Exhausted || session.Retired)
        {
            session?.Retire();
            session = new WriterSession(_ring.GetPurposeKey(epoch, suite), epoch, suite, FirstCounter);
            Interlocked.Increment(ref _started);
            slots[slot] = session;
        }

        return session;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (WriterSession?[] slots in _perThread.Values)
        {
            foreach (WriterSession? session in slots)
            {
                session?.Retire();
            }
        }

        _perThread.Dispose();
    }
}
