using System.Buffers.Binary;
using System.Security.Cryptography;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Crypto;

/// <summary>
/// The device-local cache of an unlocked repository key, so the user types the passphrase once per device.
/// It is a small file (default <c>~/.ghostie/keys/master.key</c>) that only the user can read: created with mode
/// 0600 in a 0700 folder on Unix, and refused with a clear error if its permissions were widened later.
/// </summary>
/// <remarks>
/// The file holds the repository id and the master key in the clear (format in docs/format.md, "Device key
/// cache"): whoever can read it can read the repository, exactly like an SSH private key without a passphrase.
/// <see cref="Forget"/> removes it; docs/security.md says what to do when a device is lost.
/// </remarks>
public sealed class DeviceKeyCache
{
    private const byte Version = 1;
    private const int BodySize = 4 + 1 + 3 + EnvelopeFormat.RepositoryIdSize + EnvelopeFormat.KeySize;
    private const int FileSize = BodySize + 32;

    private static ReadOnlySpan<byte> Magic => "GHDK"u8;

    /// <summary>Creates a cache at an explicit path.</summary>
    /// <param name="path">The cache file's path.</param>
    public DeviceKeyCache(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FilePath = Path.GetFullPath(path);
    }

    /// <summary>The cache file's full path.</summary>
    public string FilePath { get; }

    /// <summary>Whether a cached key exists.</summary>
    public bool Exists => File.Exists(FilePath);

    /// <summary>The cache of a Ghostie home folder: <c>&lt;home&gt;/keys/master.key</c>.</summary>
    /// <param name="ghostieHome">The Ghostie home (default <c>~/.ghostie</c>).</param>
    public static DeviceKeyCache ForHome(string ghostieHome) => new(Path.Combine(ghostieHome, "keys", "master.key"));

    /// <summary>Writes the unlocked key of <paramref name="keys"/> to the cache, atomically (temporary file, flush, rename), readable only by the user.</summary>
    /// <param name="keys">An unlocked repository.</param>
    public void Save(RepositoryKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        string directory = Path.GetDirectoryName(FilePath)!;
        OwnerOnlyFile.CreateDirectory(directory);
        byte[] content = GC.AllocateUninitializedArray<byte>(FileSize, pinned: true);
        string temp = FilePath + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            Magic.CopyTo(content);
            content[4] = Version;
            content[5] = content[6] = content[7] = 0;
            keys.Ring.RepositoryId.CopyTo(content.AsSpan(8));
            keys.Ring.MasterKey.CopyTo(content.AsSpan(24));
            SHA256.HashData(content.AsSpan(0, BodySize), content.AsSpan(BodySize));
            using (FileStream stream = OwnerOnlyFile.Open(temp, FileMode.CreateNew))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, FilePath, overwrite: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Opens the repository in <paramref name="backend"/> with the cached key, without a passphrase.</summary>
    /// <param name="backend">Where the repository lives.</param>
    /// <param name="options">Clock and logger; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The unlocked keys, or null when nothing is cached.</returns>
    /// <exception cref="GhostieSyncException">The file is readable by others (<see cref="GhostieErrorCode.InsecurePermissions"/>),
    /// damaged (<see cref="GhostieErrorCode.IntegrityFailure"/>), or belongs to another repository.</exception>
    public async Task<RepositoryKeys?> TryOpenAsync(IStorageBackend backend, RepositoryKeyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (!Exists)
        {
            return null;
        }

        byte[] content = GC.AllocateUninitializedArray<byte>(FileSize + 1, pinned: true);
        try
        {
            int length;
            using (FileStream stream = OwnerOnlyFile.OpenForReading(FilePath, $"The device key cache '{FilePath}'", "forget the device and unlock again with the passphrase"))
            {
                length = stream.ReadAtLeast(content, content.Length, throwOnEndOfStream: false);
            }

            if (length < 5 || !content.AsSpan(0, 4).SequenceEqual(Magic))
            {
                throw Damaged($"it is {length} bytes or lacks the 'GHDK' magic");
            }

            // The version before the length: a newer version may well have another size.
            if (content[4] > Version)
            {
                throw new UnsupportedFormatException($"Device key cache '{FilePath}'", content[4], Version);
            }

            if (content[4] != Version || length != FileSize)
            {
                throw Damaged(content[4] != Version ? "its version byte is 0, which no version writes" : $"it is {length} bytes where a v1 cache is {FileSize}");
            }

            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(content.AsSpan(0, BodySize), digest);
            if (!CryptographicOperations.FixedTimeEquals(digest, content.AsSpan(BodySize, 32)))
            {
                throw Damaged("its checksum does not match");
            }

            return await RepositoryKeys.OpenWithMasterKeyAsync(backend, content.AsMemory(8, 16), content.AsMemory(24, 32),
                options ?? new RepositoryKeyOptions(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    /// <summary>
    /// Forgets the cached key on this device: overwrites the file with zeros, then deletes it, together with any
    /// temporary copy (<c>master.key.*.tmp</c>) that a save interrupted by a crash left beside it. Afterwards the
    /// passphrase is needed again. A file made read-only is still wiped and deleted; a symbolic link is deleted
    /// without writing through it. (On SSDs and copy-on-write file systems the overwrite is best effort.)
    /// </summary>
    /// <returns>Whether a cached key existed.</returns>
    public bool Forget()
    {
        bool existed = File.Exists(FilePath) || new FileInfo(FilePath).LinkTarget is not null;
        string directory = Path.GetDirectoryName(FilePath)!;
        if (Directory.Exists(directory))
        {
            foreach (string leftover in Directory.EnumerateFiles(directory, Path.GetFileName(FilePath) + ".*.tmp"))
            {
                WipeAndDelete(leftover);
            }
        }

        if (existed)
        {
            WipeAndDelete(FilePath);
        }

        return existed;
    }

    private static void WipeAndDelete(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null && info.Exists)
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserWrite) == 0)
            {
                File.SetUnixFileMode(path, OwnerOnlyFile.FileMode600); // made read-only: still ours to wipe
            }
            else if (OperatingSystem.IsWindows() && info.IsReadOnly)
            {
                info.IsReadOnly = false;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
            stream.Write(new byte[Math.Max(stream.Length, FileSize)]);
            stream.Flush(flushToDisk: true);
        }

        File.Delete(path);
    }

    private GhostieSyncException Damaged(string reason) =>
        new(GhostieErrorCode.IntegrityFailure,
            $"The device key cache '{FilePath}' is damaged: {reason}. Forget this device's cached key and unlock again with the passphrase.");
}
