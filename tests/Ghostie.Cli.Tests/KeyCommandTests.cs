using System.Text;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary><c>ghostie key list | add | change | remove | rotate</c> between devices sharing one folder repository.</summary>
public sealed class KeyCommandTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private Task<CliResult> RunAsync(string device, string? passphrase, string? newPassphrase, params string[] args) =>
        GhostieCli.RunAsync(["--home", _sandbox.Home(device), .. args], _sandbox.Root, new Dictionary<string, string?>
        {
            ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home"),
            ["GHOSTIE_PASSPHRASE"] = passphrase,
            ["GHOSTIE_NEW_PASSPHRASE"] = newPassphrase,
        });

    private Task<CliResult> SetupAsync(string device, string passphrase) =>
        RunAsync(device, passphrase, null, "sync", "setup", "--backend", "folder", "--path", _sandbox.Repository, "--device", device);

    private static List<JsonElement> KeyFiles(CliResult list) => [.. list.Json().GetProperty("key_files").EnumerateArray()];

    [Fact]
    public async Task GeneratedRecoveryKey_IsPrintedOnce_UnlocksTheRepository_AndIsStoredNowhereInPlaintext()
    {
        await _sandbox.SetupAsync("laptop");

        CliResult added = (await RunAsync("laptop", null, null, "key", "add", "--label", "printed recovery key", "--generate")).Expect(0);

        string recoveryKey = added.StdOut.Trim();
        Assert.Matches("^([a-z2-7]{4}-){7}[a-z2-7]{4}$", recoveryKey);
        Assert.Contains("shown only now", added.StdErr, StringComparison.Ordinal);
        List<JsonElement> files = KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0));
        Assert.Equal(["primary", "printed recovery key"], files.Select(f => f.GetProperty("label").GetString()).Order(StringComparer.Ordinal));
        Assert.All(files, f => Assert.Equal(("argon2id", 10, 65_536, 1),
            (f.GetProperty("kdf").GetString(), f.GetProperty("iterations").GetInt32(), f.GetProperty("memory_kib").GetInt32(), f.GetProperty("parallelism").GetInt32())));

        // A new device joins with the recovery key alone.
        (await SetupAsync("phone", recoveryKey)).Expect(0);

        byte[] needle = Encoding.UTF8.GetBytes(recoveryKey);
        foreach (string file in Directory.EnumerateFiles(_sandbox.Root, "*", SearchOption.AllDirectories))
        {
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{file} holds the recovery key in plaintext");
        }
    }

    [Fact]
    public async Task SetupWithKdfPbkdf2_WritesAPbkdf2KeyFile_AndKeyChangeUpgradesItToArgon2id()
    {
        (await RunAsync("laptop", Sandbox.Passphrase, null, "sync", "setup", "--backend", "folder", "--path", _sandbox.Repository, "--device", "laptop", "--kdf", "pbkdf2")).Expect(0);
        JsonElement before = KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0)).Single();
        Assert.Equal(("pbkdf2", 600_000, JsonValueKind.Null), (before.GetProperty("kdf").GetString(), before.GetProperty("iterations").GetInt32(), before.GetProperty("memory_kib").ValueKind));
        Assert.Contains("PBKDF2-HMAC-SHA256 600,000 iterations", (await RunAsync("laptop", null, null, "key", "list")).Expect(0).StdOut, StringComparison.Ordinal);

        // No --kdf: the replacement is Argon2id (the default), which is how old key files are upgraded.
        (await RunAsync("laptop", null, "an upgraded passphrase 51", "key", "change")).Expect(0);

        JsonElement after = KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0)).Single();
        Assert.Equal(("argon2id", 10, 65_536, 1), (after.GetProperty("kdf").GetString(), after.GetProperty("iterations").GetInt32(),
            after.GetProperty("memory_kib").GetInt32(), after.GetProperty("parallelism").GetInt32()));
        Assert.Contains("Argon2id m=65,536 KiB t=10 p=1", (await RunAsync("laptop", null, null, "key", "list")).Expect(0).StdOut, StringComparison.Ordinal);
        (await SetupAsync("tablet", "an upgraded passphrase 51")).Expect(0);
    }

    [Theory]
    [InlineData("argon2id-phone", "argon2id", 4, 32_768)]
    [InlineData("pbkdf2", "pbkdf2", 600_000, null)]
    public async Task KeyChangeAndAdd_WithKdf_WriteThatKeyDerivation(string kdf, string expectedKdf, int iterations, int? memoryKiB)
    {
        await _sandbox.SetupAsync("laptop");

        JsonElement changed = (await RunAsync("laptop", null, "a changed passphrase 64", "key", "change", "--kdf", kdf, "--json")).Expect(0).Json().GetProperty("key_file");
        JsonElement added = (await RunAsync("laptop", null, "an added passphrase 83", "key", "add", "--label", "second", "--kdf", kdf, "--json")).Expect(0).Json().GetProperty("key_file");

        foreach (JsonElement file in new[] { changed, added })
        {
            Assert.Equal((expectedKdf, iterations), (file.GetProperty("kdf").GetString(), file.GetProperty("iterations").GetInt32()));
            Assert.Equal(memoryKiB, file.GetProperty("memory_kib").ValueKind == JsonValueKind.Null ? null : file.GetProperty("memory_kib").GetInt32());
        }

        (await SetupAsync("phone", "an added passphrase 83")).Expect(0);
    }

    [Fact]
    public async Task Kdf_UnknownName_IsRefused_NothingChanged()
    {
        await _sandbox.SetupAsync("laptop");
        string before = KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0)).Single().GetProperty("id").GetString()!;

        CliResult refused = await RunAsync("laptop", null, "a changed passphrase 64", "key", "change", "--kdf", "scrypt");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("argon2id", refused.StdErr, StringComparison.Ordinal);
        Assert.Equal(before, KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0)).Single().GetProperty("id").GetString());
    }

    [Fact]
    public async Task Change_ReplacesThePassphrase_TheOldOneNoLongerUnlocks_SetUpDevicesKeepWorking()
    {
        await _sandbox.SetupAsync("laptop");
        string oldId = KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0)).Single().GetProperty("id").GetString()!;

        JsonElement changed = (await RunAsync("laptop", null, "a brand new passphrase 77", "key", "change", "--json")).Expect(0).Json();

        Assert.Equal(oldId, changed.GetProperty("replaced").GetString());
        Assert.NotEqual(oldId, changed.GetProperty("key_file").GetProperty("id").GetString());
        Assert.Equal("primary", changed.GetProperty("key_file").GetProperty("label").GetString());
        CliResult refused = (await SetupAsync("phone", Sandbox.Passphrase)).Expect(2);
        Assert.DoesNotContain(Sandbox.Passphrase, refused.StdErr + refused.StdOut, StringComparison.Ordinal);
        (await SetupAsync("tablet", "a brand new passphrase 77")).Expect(0);
        (await RunAsync("laptop", null, null, "memory", "add", "still syncing")).Expect(0);
        (await RunAsync("laptop", null, null, "sync", "push")).Expect(0);
        (await RunAsync("tablet", null, null, "sync", "pull")).Expect(0);
        Assert.Contains("still syncing", (await RunAsync("tablet", null, null, "memory", "list")).Expect(0).StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remove_RefusesTheLastKeyFile_AndARemovedPassphraseNoLongerUnlocks()
    {
        await _sandbox.SetupAsync("laptop");
        string primary = KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0)).Single().GetProperty("id").GetString()!;

        CliResult last = (await RunAsync("laptop", null, null, "key", "remove", primary)).Expect(1);
        Assert.Contains("only key file", last.StdErr, StringComparison.Ordinal);
        (await RunAsync("laptop", null, null, "key", "remove", "0123456789abcdef")).Expect(1);

        (await RunAsync("laptop", null, "temporary passphrase 5", "key", "add", "--label", "temp")).Expect(0);
        string temp = KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0))
            .Single(f => f.GetProperty("label").GetString() == "temp").GetProperty("id").GetString()!;
        (await SetupAsync("phone", "temporary passphrase 5")).Expect(0);
        (await RunAsync("laptop", null, null, "key", "remove", temp.ToUpperInvariant())).Expect(0);

        (await SetupAsync("tablet", "temporary passphrase 5")).Expect(2);
        Assert.Single(KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0)));
    }

    [Fact]
    public async Task Rotate_StartsANewEpoch_AndDevicesStillSyncBothWays()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string before = (await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0).Json().GetProperty("current_epoch").GetString()!;

        JsonElement rotated = (await RunAsync("laptop", null, null, "key", "rotate", "--json")).Expect(0).Json();

        Assert.NotEqual(before, rotated.GetProperty("current_epoch").GetString());
        Assert.Equal(2, rotated.GetProperty("epochs").GetInt32());
        JsonElement phoneView = (await RunAsync("phone", null, null, "key", "list", "--json")).Expect(0).Json();
        Assert.Equal(rotated.GetProperty("current_epoch").GetString(), phoneView.GetProperty("current_epoch").GetString());
        (await RunAsync("phone", null, null, "memory", "add", "sealed under the new epoch")).Expect(0);
        (await RunAsync("phone", null, null, "sync", "push")).Expect(0);
        (await RunAsync("laptop", null, null, "sync", "pull")).Expect(0);
        Assert.Contains("sealed under the new epoch", (await RunAsync("laptop", null, null, "memory", "list")).Expect(0).StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_WithoutANewPassphraseAndNoTerminal_IsAUsageErrorNamingTheVariable()
    {
        await _sandbox.SetupAsync("laptop");

        CliResult result = (await RunAsync("laptop", null, null, "key", "add", "--label", "x")).Expect(1);

        Assert.Contains("GHOSTIE_NEW_PASSPHRASE", result.StdErr, StringComparison.Ordinal);
        Assert.Single(KeyFiles((await RunAsync("laptop", null, null, "key", "list", "--json")).Expect(0)));
        (await RunAsync("laptop", null, null, "key", "add", "--label", "bad\nlabel", "--generate")).Expect(1);
    }
}
