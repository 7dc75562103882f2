using System.Collections.Concurrent;
using Ghostie.Sync.Crypto.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Crypto.Tests;

internal static class TestSupport
{
    /// <summary>Writes every object of <paramref name="backend"/> as the folder backend lays it out (object a/b at
    /// &lt;folder&gt;/a/b), for the independent decryptors of tests/interop.</summary>
    public static async Task WriteFolderRepositoryAsync(InMemoryStorageBackend backend, string folder)
    {
        await foreach (string name in backend.ListAsync(""))
        {
            string path = Path.Combine(folder, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, backend.GetRaw(name)!);
        }
    }

    /// <summary>
    /// A repository holding one object of each envelope version (v1 and v2 made as earlier writers made them, v3 as
    /// this version writes it) and a junk file at a valid key-file name, for the independent decryptors: name to plaintext.
    /// </summary>
    public static async Task<Dictionary<string, byte[]>> WriteMixedVersionRepositoryAsync(string folder)
    {
        var backend = new InMemoryStorageBackend();
        var expected = new Dictionary<string, byte[]>();
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            byte[] v1Plain = RandomBytes(70_000, 31), v2Plain = RandomBytes(1_500, 32), v3Plain = RandomBytes(300, 33);
            var v1 = new byte[keys.Cipher.GetSealedLengthV1(v1Plain.Length)];
            keys.Cipher.SealCore(v1Plain, v1, ObjectKind.Pack, "packs/old1", CipherSuite.Aes256Gcm, keys.CurrentEpoch, RandomBytes(32, 34));
            var v2 = new byte[keys.Cipher.GetSealedLengthV2(v2Plain.Length)];
            keys.Cipher.SealCoreV2(v2Plain, v2, ObjectKind.Pack, "packs/old2", CipherSuite.Aes256Gcm, keys.CurrentEpoch, RandomBytes(32, 35), 7);
            backend.SetRaw("packs/old1", v1);
            backend.SetRaw("packs/old2", v2);
            backend.SetRaw("packs/new3", keys.Cipher.Seal(v3Plain, ObjectKind.Pack, "packs/new3"));
            (expected["packs/old1"], expected["packs/old2"], expected["packs/new3"]) = (v1Plain, v2Plain, v3Plain);
        }

        backend.SetRaw("keys/0000000000000000", "not a key file"u8.ToArray());
        await WriteFolderRepositoryAsync(backend, folder);
        return expected;
    }

    public const string Passphrase = "correct horse battery staple";

    /// <summary>Weak KDF (Argon2id, 64 KiB, 1 pass; 1,000 iterations for PBKDF2) so the suite stays fast; tests prove the real defaults separately.</summary>
    public static RepositoryKeyOptions FastOptions(ILogger? logger = null, TimeProvider? time = null) => new()
    {
        AllowWeakKdfForTesting = true,
        Kdf = KeyDerivationFunction.Argon2id,
        Argon2MemoryKiB = 64,
        Argon2Passes = 1,
        Pbkdf2Iterations = 1_000,
        Logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
        TimeProvider = time ?? new FakeTimeProvider(DateTimeOffset.Parse("2026-11-21T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture)),
    };

    public static Task<RepositoryKeys> NewRepositoryAsync(IStorageBackend? backend = null, RepositoryKeyOptions? options = null) =>
        RepositoryKeys.InitializeAsync(backend ?? new InMemoryStorageBackend(), Passphrase, "primary", options ?? FastOptions());

    /// <summary>A cipher over fixed keys, for envelope tests that need no repository.</summary>
    public static ObjectCipher FixedCipher(byte repoFill = 0x11, byte masterFill = 0x22, int chunkShift = 16, uint epoch = 1, byte epochFill = 0x33)
    {
        var ring = new KeyRing(Filled(16, repoFill), Filled(32, masterFill));
        ring.AddEpoch(epoch, 0, Filled(32, epochFill));
        return new ObjectCipher(ring, chunkShift);
    }

    public static byte[] Filled(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>Keeps every formatted log line, to prove no secret is ever logged.</summary>
internal sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Lines.Enqueue($"{eventId.Id} {formatter(state, exception)} {exception}");
    }
}

/// <summary>A fact about Unix file permissions: skipped, visibly, on Windows.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Unix file permissions only";
        }
    }
}
