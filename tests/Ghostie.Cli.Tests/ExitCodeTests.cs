using System.Text;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>The documented exit codes, and errors that never leak the passphrase or a stack trace.</summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Setup_WrongPassphrase_ExitsTwoAndNeverShowsOrStoresAPassphrase()
    {
        const string wrong = "definitely-not-it-7731";
        await _sandbox.SetupAsync("owner");

        CliResult human = (await _sandbox.RunWithPassphraseAsync("intruder", wrong, "sync", "setup", "--path", _sandbox.Repository, "--device", "intruder")).Expect(2);
        Assert.Contains("passphrase", human.StdErr, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(human.StdOut);

        CliResult json = (await _sandbox.RunWithPassphraseAsync("intruder", wrong, "sync", "setup", "--path", _sandbox.Repository, "--device", "intruder", "--json")).Expect(2);
        JsonElement error = json.Json().GetProperty("error");
        Assert.Equal("WrongPassphrase", error.GetProperty("code").GetString());
        Assert.Equal(2, error.GetProperty("exit_code").GetInt32());

        foreach (CliResult result in new[] { human, json })
        {
            Assert.DoesNotContain(wrong, result.StdOut + result.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain(Sandbox.Passphrase, result.StdOut + result.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.StdErr, StringComparison.Ordinal); // no stack trace
        }

        Assert.False(File.Exists(Path.Combine(_sandbox.Home("intruder"), "sync", "config.json")));
        byte[][] secrets = [Encoding.UTF8.GetBytes(wrong), Encoding.UTF8.GetBytes(Sandbox.Passphrase)];
        foreach (string file in Directory.EnumerateFiles(_sandbox.Root, "*", SearchOption.AllDirectories))
        {
            byte[] bytes = await File.ReadAllBytesAsync(file);
            Assert.All(secrets, secret => Assert.True(bytes.AsSpan().IndexOf(secret) < 0, $"{file} holds a passphrase"));
        }
    }

    [Theory]
    [InlineData("sync", "status")]
    [InlineData("sync", "push")]
    [InlineData("sync", "pull")]
    [InlineData("sync", "conflict", "list")]
    [InlineData("--sync", "status")]
    [InlineData("--sync=push")]
    public async Task SyncCommand_HomeNotConfigured_ExitsFour(params string[] command)
    {
        CliResult human = (await _sandbox.RunAsync("empty", command)).Expect(4);
        Assert.Contains("ghostie sync setup", human.StdErr, StringComparison.Ordinal);

        JsonElement error = (await _sandbox.RunAsync("empty", [.. command, "--json"])).Expect(4).Json().GetProperty("error");
        Assert.Equal("NotConfigured", error.GetProperty("code").GetString());
        Assert.Equal(4, error.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task Setup_NoPassphraseAndNoTerminal_ExitsOneNamingTheVariable()
    {
        CliResult result = (await _sandbox.RunAsync("new", "sync", "setup", "--path", _sandbox.Repository, "--device", "new")).Expect(1);
        Assert.Contains("GHOSTIE_PASSPHRASE", result.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_sandbox.Repository), "nothing is created without a passphrase");
        Assert.False(Directory.Exists(_sandbox.Home("new")), "nothing is created without a passphrase");
    }

    [Fact]
    public async Task Setup_UnknownBackend_ExitsOneListingTheAvailableOnes()
    {
        CliResult result = (await _sandbox.RunWithPassphraseAsync("new", Sandbox.Passphrase, "sync", "setup", "--backend", "ftp", "--path", _sandbox.Repository)).Expect(1);
        Assert.Contains("'ftp' is not known", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("folder, s3, azure, gist", result.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_sandbox.Repository), "nothing is created for an unknown backend");
    }

    [Fact]
    public async Task Setup_HomeAlreadySetUp_KeepsItsDeviceAndRepository()
    {
        JsonElement first = await _sandbox.SetupAsync("laptop");
        string elsewhere = Path.Combine(_sandbox.Root, "empty-folder");

        CliResult otherDevice = (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "sync", "setup", "--path", _sandbox.Repository, "--device", "desktop")).Expect(1);
        Assert.Contains("already set up as device 'laptop'", otherDevice.StdErr, StringComparison.Ordinal);
        CliResult otherRepository = (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "sync", "setup", "--path", elsewhere)).Expect(1);
        Assert.Contains(first.GetProperty("repository_id").GetString()!, otherRepository.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(elsewhere), "no repository is created for a home that has one");

        // Setting up again with the same folder (say, after it moved) rejoins as the same device.
        JsonElement again = (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "sync", "setup", "--path", _sandbox.Repository, "--json")).Expect(0).Json();
        Assert.Equal("laptop", again.GetProperty("device_id").GetString());
        Assert.False(again.GetProperty("created_repository").GetBoolean());
    }

    [Fact]
    public async Task Pull_RepositoryFolderGone_ExitsFiveWithoutRecreatingIt()
    {
        await _sandbox.SetupAsync("laptop");
        Directory.Move(_sandbox.Repository, _sandbox.Repository + "-unmounted");

        CliResult result = (await _sandbox.RunAsync("laptop", "sync", "pull")).Expect(5);
        Assert.Contains(_sandbox.Repository, result.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_sandbox.Repository));
    }

    [Fact]
    public async Task Setup_FolderWhoseKeysAreNotDeliveredYet_ExitsFiveNamingWhatItFound_AndChangesNothing()
    {
        await _sandbox.SetupAsync("laptop");
        (await _sandbox.RunAsync("laptop", "memory", "add", "delivered before its keys")).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        string keys = Path.Combine(_sandbox.Repository, "keys");
        Directory.Move(keys, keys + "-still-syncing"); // Syncthing delivered h/, p/ and epochs/ first
        Dictionary<string, string> before = Directory.EnumerateFiles(_sandbox.Repository, "*", SearchOption.AllDirectories)
            .ToDictionary(p => p, p => Convert.ToHexString(File.ReadAllBytes(p)), StringComparer.Ordinal);

        CliResult result = (await _sandbox.RunWithPassphraseAsync("phone", Sandbox.Passphrase,
            "sync", "setup", "--backend", "folder", "--path", _sandbox.Repository, "--device", "phone", "--json")).Expect(5);

        JsonElement error = result.Json().GetProperty("error");
        Assert.Equal("RepositoryNotInitialized", error.GetProperty("code").GetString());
        Assert.Contains("found 1 head, 1 pack and 1 epoch but no key file", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("wait for your sync tool to deliver keys/", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(before, Directory.EnumerateFiles(_sandbox.Repository, "*", SearchOption.AllDirectories)
            .ToDictionary(p => p, p => Convert.ToHexString(File.ReadAllBytes(p)), StringComparer.Ordinal));
        Assert.False(File.Exists(Path.Combine(_sandbox.Home("phone"), "sync", "config.json")));

        // Found before any passphrase is asked for: nobody is asked to invent a "new" passphrase for it.
        CliResult unprompted = (await _sandbox.RunAsync("phone", "sync", "setup", "--backend", "folder", "--path", _sandbox.Repository, "--device", "phone")).Expect(5);
        Assert.Contains("no key file", unprompted.StdErr, StringComparison.Ordinal);

        Directory.Move(keys + "-still-syncing", keys); // delivered at last: the phone joins and gets the memory
        Assert.False((await _sandbox.SetupAsync("phone")).GetProperty("created_repository").GetBoolean());
        (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(0);
        Assert.Contains("delivered before its keys", (await _sandbox.RunAsync("phone", "memory", "list")).Expect(0).StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setup_FolderWithOnlyTheFoldersOfARepository_ExitsFive_AndCreatesNothing()
    {
        // Syncthing creates the folders before it copies the files: a repository created now would be a second one.
        Directory.CreateDirectory(Path.Combine(_sandbox.Repository, "keys"));
        Directory.CreateDirectory(Path.Combine(_sandbox.Repository, "h", "aaaabbbbccccddddeeeeffffgggghhhh"));

        CliResult result = (await _sandbox.RunWithPassphraseAsync("phone", Sandbox.Passphrase,
            "sync", "setup", "--backend", "folder", "--path", _sandbox.Repository, "--device", "phone", "--json")).Expect(5);

        JsonElement error = result.Json().GetProperty("error");
        Assert.Equal("RepositoryNotInitialized", error.GetProperty("code").GetString());
        Assert.Contains("keys/, h/", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_sandbox.Repository, "*", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(_sandbox.Home("phone"), "sync", "config.json")));
    }

    [Fact]
    public async Task Setup_KeysFolderHoldingOnlyAnotherFile_SaysItIsNotAKeyFile()
    {
        Directory.CreateDirectory(Path.Combine(_sandbox.Repository, "keys"));
        File.WriteAllText(Path.Combine(_sandbox.Repository, "keys", "foo"), "x");

        CliResult result = (await _sandbox.RunWithPassphraseAsync("phone", Sandbox.Passphrase,
            "sync", "setup", "--backend", "folder", "--path", _sandbox.Repository, "--device", "phone")).Expect(5);

        Assert.Contains("1 file under keys/ that is not a key file that opens", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("found 1 key file", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(["foo"], Directory.EnumerateFiles(_sandbox.Repository, "*", SearchOption.AllDirectories).Select(Path.GetFileName));
    }

    [Fact]
    public async Task JunkAtAKeyFileName_IsSkippedAndReported_ByPullAndKeyList()
    {
        await _sandbox.SetupAsync("laptop");
        File.WriteAllBytes(Path.Combine(_sandbox.Repository, "keys", "0000000000000000"), [1, 2, 3, 4, 5]);

        CliResult pull = (await _sandbox.RunAsync("laptop", "sync", "pull")).Expect(0);
        Assert.Contains("keys/0000000000000000 is not a readable key file", pull.StdErr, StringComparison.Ordinal);
        CliResult list = (await _sandbox.RunAsync("laptop", "key", "list", "--json")).Expect(0);
        Assert.Contains("keys/0000000000000000 is not a readable key file", list.StdErr, StringComparison.Ordinal);
        Assert.Equal(1, list.Json().GetProperty("key_files").GetArrayLength());
    }

    [Fact]
    public async Task Push_AnotherProcessHoldsTheHome_ExitsEight()
    {
        await _sandbox.SetupAsync("laptop");
        (await _sandbox.RunAsync("laptop", "memory", "add", "Something to push")).Expect(0);

        // The same lock file a syncing process holds (see LocalLock in Ghostie.Sync.Core).
        string lockPath = Path.Combine(_sandbox.Home("laptop"), "sync", ".lock");
        using (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            JsonElement error = (await _sandbox.RunAsync("laptop", "sync", "push", "--json")).Expect(8).Json().GetProperty("error");
            Assert.Equal("Busy", error.GetProperty("code").GetString());
        }

        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
    }

    [Fact]
    public async Task UnknownCommand_ExitsOneWithAJsonErrorDocument()
    {
        JsonElement error = (await _sandbox.RunAsync("any", "frobnicate", "--json")).Expect(1).Json().GetProperty("error");
        Assert.Equal(1, error.GetProperty("exit_code").GetInt32());
        (await _sandbox.RunAsync("any", "sync", "conflict", "resolve", "abc", "--keep", "maybe")).Expect(1);
        (await _sandbox.RunAsync("any", "sync", "conflict", "resolve", "abc")).Expect(1);
    }

    [Fact]
    public async Task Help_ListsExitCodesAndEnvironment()
    {
        foreach (string[] args in new[] { new[] { "--help" }, ["sync", "push", "--help"], ["--sync", "--help"] })
        {
            CliResult help = (await _sandbox.RunRawAsync(null, args)).Expect(0);
            Assert.Contains("Exit codes:", help.StdOut, StringComparison.Ordinal);
            Assert.Contains("8   busy", help.StdOut, StringComparison.Ordinal);
            Assert.Contains("GHOSTIE_PASSPHRASE", help.StdOut, StringComparison.Ordinal);
            Assert.Contains("GHOSTIE_HOME", help.StdOut, StringComparison.Ordinal);
        }
    }
}

/// <summary>Forgetting a device: the cached key goes; the passphrase is needed again, and caches the key again.</summary>
public sealed class ForgetTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Forget_RemovesTheCachedKey_NextSyncNeedsThePassphrase()
    {
        await _sandbox.SetupAsync("laptop");
        string cache = Path.Combine(_sandbox.Home("laptop"), "keys", "master.key");
        Assert.True(File.Exists(cache));

        JsonElement forgot = (await _sandbox.RunAsync("laptop", "sync", "forget", "--json")).Expect(0).Json();
        Assert.True(forgot.GetProperty("forgotten").GetBoolean());
        Assert.False(File.Exists(cache));

        CliResult locked = (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(1); // no cached key, no passphrase, no terminal to ask on
        Assert.Contains("GHOSTIE_PASSPHRASE", locked.StdErr, StringComparison.Ordinal);
        (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "sync", "push")).Expect(0);
        Assert.True(File.Exists(cache)); // unlocked again and cached
        File.Delete(cache);
        Assert.False((await _sandbox.RunAsync("laptop", "sync", "forget", "--json")).Expect(0).Json().GetProperty("forgotten").GetBoolean());
    }
}
