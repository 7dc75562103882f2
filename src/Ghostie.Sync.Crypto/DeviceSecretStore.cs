using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Crypto;

/// <summary>
/// Backend credentials (an S3 secret key, an Azure account key or SAS, a GitHub token) kept on this device,
/// encrypted, so they never sit in plaintext in <c>sync/config.json</c> or anywhere else. The store is two files
/// in the home's <c>keys/</c> folder (0700): <c>device.key</c>, 32 random bytes made on first use (0600), and
/// <c>credentials</c>, one AES-256-GCM sealed JSON map from a setting name to its secret (0600).
/// </summary>
/// <remarks>
/// What this protects: the configuration can be shown, copied, backed up or pasted into a bug report without
/// leaking a credential, and a copy of <c>credentials</c> alone is useless. What it does not: whoever can read the
/// whole <c>keys/</c> folder (a stolen, unlocked device) can decrypt it, exactly like the cached master key next to
/// it (docs/security.md). Environment variables, when set, take precedence and keep secrets off the disk entirely.
/// </remarks>
public sealed class DeviceSecretStore
{
    private const byte Version = 1;
    private const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 8;
    private static ReadOnlySpan<byte> Magic => "GHDS"u8;

    private readonly string _keyPath;

    /// <summary>Creates the store of a Ghostie home: <c>&lt;home&gt;/keys/device.key</c> and <c>&lt;home&gt;/keys/credentials</c>.</summary>
    /// <param name="ghostieHome">The Ghostie home folder.</param>
    public DeviceSecretStore(string ghostieHome)
    {
        ArgumentException.ThrowIfNullOrEmpty(ghostieHome);
        string keys = Path.Combine(Path.GetFullPath(ghostieHome), "keys");
        _keyPath = Path.Combine(keys, "device.key");
        FilePath = Path.Combine(keys, "credentials");
    }

    /// <summary>The encrypted credentials file.</summary>
    public string FilePath { get; }

    /// <summary>Stores (or replaces) the secret under <paramref name="name"/>, atomically.</summary>
    /// <param name="name">A non-secret setting name, for example "s3.secret_access_key".</param>
    /// <param name="secret">The secret.</param>
    /// <exception cref="GhostieSyncException">A file is damaged or readable by others.</exception>
    public void Set(string name, string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        Dictionary<string, string> all = ReadAll();
        all[name] = secret;
        WriteAll(all);
    }

    /// <summary>Stores (or replaces) several secrets in one atomic write.</summary>
    /// <param name="secrets">Setting name -> secret.</param>
    /// <exception cref="GhostieSyncException">A file is damaged or readable by others.</exception>
    public void SetMany(IReadOnlyDictionary<string, string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        Dictionary<string, string> all = ReadAll();
        foreach ((string name, string secret) in secrets)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            ArgumentException.ThrowIfNullOrEmpty(secret);
            all[name] = secret;
        }

        WriteAll(all);
    }

    /// <summary>The secret stored under <paramref name="name"/>, or null.</summary>
    /// <param name="name">The setting name.</param>
    /// <exception cref="GhostieSyncException">A file is damaged or readable by others.</exception>
    public string? TryGet(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return ReadAll().TryGetValue(name, out string? secret) ? secret : null;
    }

    /// <summary>Removes the secret under <paramref name="name"/>.</summary>
    /// <param name="name">The setting name.</param>
    /// <returns>Whether it existed.</returns>
    public bool Remove(string name)
    {
        Dictionary<string, string> all = ReadAll();
        if (!all.Remove(name))
        {
            return false;
        }

        WriteAll(all);
        return true;
    }

    /// <summary>Deletes every stored credential and the device key (overwritten with zeros first, best effort).</summary>
    /// <returns>Whether anything existed.</returns>
    public bool Forget()
    {
        bool any = false;
        foreach (string path in new[] { FilePath, _keyPath })
        {
            if (File.Exists(path))
            {
                using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None))
                {
                    stream.Write(new byte[stream.Length]);
                    stream.Flush(flushToDisk: true);
                }

                File.Delete(path);
                any = true;
            }
        }

        return any;
    }

    private Dictionary<string, string> ReadAll()
    {
        if (!File.Exists(FilePath))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        byte[] file = ReadSecretFile(FilePath);
        if (file.Length < HeaderSize + NonceSize + TagSize || !file.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw Damaged(FilePath, "it is too short or lacks the 'GHDS' magic");
        }

        if (file[4] != Version)
        {
            throw new UnsupportedFormatException($"Device credentials '{FilePath}'", file[4], Version);
        }

        if (!File.Exists(_keyPath))
        {
            throw Damaged(_keyPath, "it is missing, so the stored credentials cannot be read");
        }

        byte[] key = ReadKey();
        byte[] plain = new byte[file.Length - HeaderSize - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(file.AsSpan(HeaderSize, NonceSize), file.AsSpan(HeaderSize + NonceSize, plain.Length), file.AsSpan(file.Length - TagSize),
                plain, file.AsSpan(0, HeaderSize));
            return JsonSerializer.Deserialize(plain, DeviceSecretsJson.Default.DictionaryStringString)
                ?? new Dictionary<string, string>(StringComparer.Ordinal);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw Damaged(FilePath, "it does not authenticate under this device's key");
        }
        catch (JsonException)
        {
            throw Damaged(FilePath, "its content is not a credentials map");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private void WriteAll(Dictionary<string, string> all)
    {
        OwnerOnlyFile.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        byte[] key = File.Exists(_keyPath) ? ReadKey() : CreateKey();
        byte[] plain = JsonSerializer.SerializeToUtf8Bytes(all, DeviceSecretsJson.Default.DictionaryStringString);
        byte[] file = new byte[HeaderSize + NonceSize + plain.Length + TagSize];
        string temp = FilePath + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            Magic.CopyTo(file);
            file[4] = Version;
            RandomNumberGenerator.Fill(file.AsSpan(HeaderSize, NonceSize));
            using (var aes = new AesGcm(key, TagSize))
            {
                aes.Encrypt(file.AsSpan(HeaderSize, NonceSize), plain, file.AsSpan(HeaderSize + NonceSize, plain.Length), file.AsSpan(file.Length - TagSize),
                    file.AsSpan(0, HeaderSize));
            }

            using (FileStream stream = OwnerOnlyFile.Open(temp, FileMode.CreateNew))
            {
                stream.Write(file);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, FilePath, overwrite: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(plain);
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private byte[] ReadKey()
    {
        byte[] key = ReadSecretFile(_keyPath);
        if (key.Length != KeySize)
        {
            CryptographicOperations.ZeroMemory(key);
            throw Damaged(_keyPath, $"it is {key.Length} bytes instead of {KeySize}");
        }

        return key;
    }

    private byte[] CreateKey()
    {
        byte[] key = RandomNumberGenerator.GetBytes(KeySize);
        string temp = _keyPath + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        using (FileStream stream = OwnerOnlyFile.Open(temp, FileMode.CreateNew))
        {
            stream.Write(key);
            stream.Flush(flushToDisk: true);
        }

        try
        {
            File.Move(temp, _keyPath, overwrite: false);
        }
        catch (IOException) when (File.Exists(_keyPath))
        {
            // Another process made the device key first: use theirs (ours was never used).
            File.Delete(temp);
            CryptographicOperations.ZeroMemory(key);
            return ReadKey();
        }

        return key;
    }

    private static byte[] ReadSecretFile(string path) =>
        OwnerOnlyFile.ReadAllBytes(path, $"'{path}'", "remove it and enter the credentials again");

    private static GhostieSyncException Damaged(string path, string reason) =>
        new(GhostieErrorCode.IntegrityFailure, $"The device credentials file '{path}' is damaged: {reason}. Remove it and enter the credentials again (ghostie sync setup).");
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class DeviceSecretsJson : System.Text.Json.Serialization.JsonSerializerContext;
