// A tour of Ghostie.Sync's foundation: a repository's keys and encrypted objects, in a temporary folder, with
// no account anywhere. (The main sample, with two devices syncing, is samples/Ghostie.TwoDevices.)
using System.Text;
using Ghostie.Sync;
using Ghostie.Sync.Crypto;

string root = Path.Combine(Path.GetTempPath(), "ghostie-demo-" + Guid.NewGuid().ToString("N")[..8]);
string storageDir = Path.Combine(root, "storage");
string home = Path.Combine(root, "home");
string passphrase = Environment.GetEnvironmentVariable("GHOSTIE_PASSPHRASE") is { Length: > 0 } fromEnv ? fromEnv : "demo passphrase - use your own";
var storage = new InMemoryStorageBackend();

try
{
    Step("1. Create a repository (random master key, wrapped under the passphrase with Argon2id, 64 MiB, 10 passes)");
    using RepositoryKeys keys = await RepositoryKeys.InitializeAsync(storage, passphrase, "primary");
    Console.WriteLine($"   repository id {keys.RepositoryId}, key epoch {keys.CurrentEpoch:x8}");

    Step("2. Seal a memory and store it");
    byte[] memory = Encoding.UTF8.GetBytes("""{"category":"network","content":"Discovered new network topology...","device_id":"pixel9-pro-xl-termux"}""");
    string objectName = keys.DeriveObjectName("packs/", "demo", "first-memory"u8);
    await storage.PutAsync(objectName, new MemoryStream(keys.Cipher.Seal(memory, ObjectKind.Pack, objectName)));
    Console.WriteLine($"   {memory.Length} bytes of JSON sealed to {storage.GetRaw(objectName)!.Length} bytes under '{objectName}'");

    Step("3. What the storage provider sees (written to " + storageDir + ")");
    await DumpAsync(storage, storageDir);
    bool leaked = Directory.EnumerateFiles(storageDir, "*", SearchOption.AllDirectories)
        .Any(f => Encoding.Latin1.GetString(File.ReadAllBytes(f)).Contains("network", StringComparison.Ordinal));
    Console.WriteLine($"   plaintext 'network' found in stored bytes: {(leaked ? "YES (bug!)" : "no")}");

    Step("4. Add a printed recovery key, then unlock with it (no data re-encrypted)");
    string recovery = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    await keys.AddPassphraseAsync(recovery, "printed recovery key");
    using (RepositoryKeys viaRecovery = await RepositoryKeys.UnlockAsync(storage, recovery))
    {
        byte[] opened = viaRecovery.Cipher.Open(storage.GetRaw(objectName)!, ObjectKind.Pack, objectName);
        Console.WriteLine($"   unlocked with the recovery key; memory reads back: {opened.AsSpan().SequenceEqual(memory)}");
        foreach (KeyFileInfo k in await viaRecovery.ListKeyFilesAsync())
        {
            Console.WriteLine($"   key file {k.Id}  {k.Label,-22} {k.KdfDescription}{(k.IsCurrent ? "  (used now)" : "")}");
        }
    }

    Step("5. A wrong passphrase is a wrong-passphrase error");
    await ShowErrorAsync(() => RepositoryKeys.UnlockAsync(storage, "not the passphrase"));

    Step("6. A tampered object is an integrity error naming the object");
    byte[] tampered = storage.GetRaw(objectName)!;
    tampered[60] ^= 1;
    await ShowErrorAsync(() => Task.FromResult(keys.Cipher.Open(tampered, ObjectKind.Pack, objectName)));
    await ShowErrorAsync(() => Task.FromResult(keys.Cipher.Open(storage.GetRaw(objectName)!, ObjectKind.Pack, "packs/renamed")));

    Step("7. Rotate the key epoch, then re-encrypt old objects (resumable)");
    uint epoch = await keys.RotateEpochAsync();
    ReencryptionResult result = await keys.ReencryptAsync([objectName]);
    Console.WriteLine($"   new epoch {epoch:x8}; re-encrypted {result.Reencrypted}, already current {result.AlreadyCurrent}; epochs now: {string.Join(", ", keys.Epochs.Select(e => e.ToString("x8")))}");

    Step("8. Cache the unlocked key on this device (mode 0600), reopen without a passphrase, then forget the device");
    DeviceKeyCache cache = DeviceKeyCache.ForHome(home);
    cache.Save(keys);
    string mode = OperatingSystem.IsWindows() ? "n/a" : Convert.ToString((int)File.GetUnixFileMode(cache.FilePath), 8);
    using (RepositoryKeys? cached = await cache.TryOpenAsync(storage))
    {
        Console.WriteLine($"   {cache.FilePath} (mode {mode}) reopened repository {cached!.RepositoryId}");
    }

    cache.Forget();
    Console.WriteLine($"   forgotten: cache file exists = {cache.Exists}");
    Console.WriteLine();
    Console.WriteLine("Done. Everything lived under " + root + " and has been removed.");
    return 0;
}
catch (GhostieSyncException ex)
{
    Console.Error.WriteLine($"error ({ex.Code}): {ex.Message}");
    return 1;
}
finally
{
    if (Directory.Exists(root))
    {
        Directory.Delete(root, recursive: true);
    }
}

static void Step(string title)
{
    Console.WriteLine();
    Console.WriteLine(title);
}

static async Task ShowErrorAsync<T>(Func<Task<T>> action)
{
    try
    {
        await action();
        Console.WriteLine("   (no error: unexpected)");
    }
    catch (GhostieSyncException ex)
    {
        Console.WriteLine($"   {ex.GetType().Name} ({ex.Code}): {ex.Message}");
    }
}

static async Task DumpAsync(InMemoryStorageBackend storage, string directory)
{
    await foreach (string name in storage.ListAsync(""))
    {
        byte[] raw = storage.GetRaw(name)!;
        string path = Path.Combine(directory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, raw);
        Console.WriteLine($"   {name,-42} {raw.Length,5} bytes  {Convert.ToHexStringLower(raw.AsSpan(0, 12))}...");
    }
}
