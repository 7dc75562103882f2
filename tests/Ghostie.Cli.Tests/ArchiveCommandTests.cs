using System.Text;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary><c>ghostie export</c> and <c>ghostie import</c> end to end, between device homes of folder repositories.</summary>
public sealed class ArchiveCommandTests : IDisposable
{
    private const string ArchivePassphrase = "lantern oxide meadow quartz 19";
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private string SecondRepository => Path.Combine(_sandbox.Root, "repo-two");

    private Task<CliResult> RunAsync(string device, string? archivePassphrase, params string[] args) =>
        GhostieCli.RunAsync(["--home", _sandbox.Home(device), .. args], _sandbox.Root, new Dictionary<string, string?>
        {
            ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home"),
            ["GHOSTIE_PASSPHRASE"] = null,
            ["GHOSTIE_ARCHIVE_PASSPHRASE"] = archivePassphrase,
        });

    private async Task SetupOnSecondRepositoryAsync(string device) =>
        (await _sandbox.RunWithPassphraseAsync(device, Sandbox.Passphrase, "sync", "setup", "--backend", "folder", "--path", SecondRepository, "--device", device)).Expect(0);

    private async Task<string[]> MemoriesAsync(string device)
    {
        JsonElement list = (await RunAsync(device, null, "memory", "list", "--json")).Expect(0).Json();
        return list.GetProperty("memories").EnumerateArray()
            .Select(m => $"{m.GetProperty("id").GetString()} {m.GetProperty("timestamp").GetString()} {m.GetProperty("device_id").GetString()} {m.GetProperty("category").GetString()} {m.GetProperty("content").GetString()} {m.GetProperty("context").GetRawText()}")
            .Order(StringComparer.Ordinal).ToArray();
    }

    private async Task<string> ArchiveOfLaptopAsync(params string[] options)
    {
        await _sandbox.SetupAsync("laptop");
        (await RunAsync("laptop", null, "memory", "add", "Alice drinks jasmine tea 🍵", "--category", "taste", "--context", """{"source":"chat","n":1.0}""")).Expect(0);
        (await RunAsync("laptop", null, "memory", "add", "\u001b[31mred escape\u001b[0m and 日本語")).Expect(0);
        (await RunAsync("laptop", null, "memory", "add", "the build server is build-07")).Expect(0);
        (await RunAsync("laptop", null, "sync", "push")).Expect(0);
        (await RunAsync("laptop", null, "memory", "search", "jasmine tea", "--embeddings", "lexical")).Expect(0); // writes vectors/memories.gvx
        string archive = Path.Combine(_sandbox.Root, "laptop.ghostie");
        (await RunAsync("laptop", options.Contains("--plain") ? null : ArchivePassphrase, ["export", archive, .. options])).Expect(0);
        return archive;
    }

    [Fact]
    public async Task ExportThenImport_IntoADeviceOfAnotherFolderRepository_KeepsEveryMemoryAndTheVectorIndex_AndPushesThem()
    {
        string archive = await ArchiveOfLaptopAsync();
        await SetupOnSecondRepositoryAsync("desktop");

        JsonElement imported = (await RunAsync("desktop", ArchivePassphrase, "import", archive, "--json")).Expect(0).Json();

        Assert.Equal(3, imported.GetProperty("memories").GetInt64());
        Assert.Equal(3, imported.GetProperty("merged").GetInt64());
        Assert.Equal(3, imported.GetProperty("pushed").GetInt32());
        Assert.Equal(await MemoriesAsync("laptop"), await MemoriesAsync("desktop"));
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(_sandbox.Home("laptop"), "vectors", "memories.gvx")),
            File.ReadAllBytes(Path.Combine(_sandbox.Home("desktop"), "vectors", "memories.gvx")));
        JsonElement found = (await RunAsync("desktop", null, "memory", "search", "jasmine", "--json", "--top", "1", "--embeddings", "lexical")).Expect(0).Json();
        Assert.Contains("jasmine", found.GetRawText(), StringComparison.Ordinal);

        // Pushed into the second repository: its other devices pull it like any change, with no problem reported.
        await SetupOnSecondRepositoryAsync("phone");
        (await RunAsync("phone", null, "sync", "pull")).Expect(0);
        Assert.Equal(await MemoriesAsync("laptop"), await MemoriesAsync("phone"));

        // Importing it again changes nothing.
        JsonElement again = (await RunAsync("desktop", ArchivePassphrase, "import", archive, "--json")).Expect(0).Json();
        Assert.Equal(0, again.GetProperty("merged").GetInt64());
        Assert.Equal(3, again.GetProperty("already_present").GetInt64());
        Assert.Equal(1, again.GetProperty("files_unchanged").GetInt64());
    }

    [Fact]
    public async Task Import_AConcurrentEditOnAnotherDeviceOfTheSameRepository_IsKeptAsAConflict()
    {
        string archive = await ArchiveOfLaptopAsync();
        (await _sandbox.RunWithPassphraseAsync("phone", Sandbox.Passphrase, "sync", "setup", "--backend", "folder", "--path", _sandbox.Repository, "--device", "phone")).Expect(0);
        (await RunAsync("phone", null, "sync", "pull")).Expect(0);
        string id = (await RunAsync("phone", null, "memory", "list", "--json")).Expect(0).Json().GetProperty("memories").EnumerateArray()
            .First(m => m.GetProperty("content").GetString()!.Contains("build-07", StringComparison.Ordinal)).GetProperty("id").GetString()!;
        (await RunAsync("laptop", null, "memory", "edit", id, "the build server moved to build-09")).Expect(0);
        string newer = Path.Combine(_sandbox.Root, "newer.ghostie");
        (await RunAsync("laptop", ArchivePassphrase, "export", newer)).Expect(0);
        (await RunAsync("phone", null, "memory", "edit", id, "phone says build-08")).Expect(0);

        CliResult result = (await RunAsync("phone", ArchivePassphrase, "import", newer)).Expect(0);

        Assert.Contains("1 new conflicts", result.StdOut, StringComparison.Ordinal);
        JsonElement conflicts = (await RunAsync("phone", null, "sync", "conflict", "list", "--json")).Json();
        string text = conflicts.GetRawText();
        Assert.Contains("build-09", text, StringComparison.Ordinal);
        Assert.Contains("build-08", text, StringComparison.Ordinal);
        _ = archive;
    }

    [Fact]
    public async Task Export_Plain_WarnsThatEverythingIsInTheClear_AndTheArchiveImportsWithoutAPassphrase()
    {
        string archive = await ArchiveOfLaptopAsync("--plain");
        CliResult warned = (await RunAsync("laptop", null, "export", archive + ".2", "--plain")).Expect(0);
        await SetupOnSecondRepositoryAsync("desktop");

        (await RunAsync("desktop", null, "import", archive)).Expect(0);

        Assert.Contains("in the clear", warned.StdErr, StringComparison.Ordinal);
        Assert.Contains("NOT encrypted", warned.StdOut, StringComparison.Ordinal);
        Assert.Contains("build-07", Encoding.UTF8.GetString(File.ReadAllBytes(archive)), StringComparison.Ordinal);
        Assert.Equal(await MemoriesAsync("laptop"), await MemoriesAsync("desktop"));
    }

    [Fact]
    public async Task Export_WithoutAPassphraseOrPlain_OrOverAnExistingFile_IsRefused_AndWritesNothing()
    {
        await _sandbox.SetupAsync("laptop");
        string archive = Path.Combine(_sandbox.Root, "none.ghostie");

        CliResult refused = (await RunAsync("laptop", null, "export", archive)).Expect(1);
        File.WriteAllText(archive, "someone's file");
        CliResult exists = (await RunAsync("laptop", ArchivePassphrase, "export", archive)).Expect(1);

        Assert.Contains("GHOSTIE_ARCHIVE_PASSPHRASE", refused.StdErr, StringComparison.Ordinal);
        Assert.Contains("--force", exists.StdErr, StringComparison.Ordinal);
        Assert.Equal("someone's file", File.ReadAllText(archive));
    }

    [Fact]
    public async Task Import_WrongPassphrase_Tampered_Truncated_OrNewerArchive_FailsWithItsExitCode_AndImportsNothing()
    {
        string archive = await ArchiveOfLaptopAsync();
        await SetupOnSecondRepositoryAsync("desktop");
        byte[] bytes = File.ReadAllBytes(archive);
        string tampered = Path.Combine(_sandbox.Root, "tampered.ghostie"), truncated = Path.Combine(_sandbox.Root, "truncated.ghostie"), newer = Path.Combine(_sandbox.Root, "newer.ghostie");
        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(tampered, flipped);
        File.WriteAllBytes(truncated, bytes[..^10]);
        byte[] future = (byte[])bytes.Clone();
        future[4] = 2;
        File.WriteAllBytes(newer, future);

        CliResult wrong = (await RunAsync("desktop", "not the archive passphrase", "import", archive)).Expect(2);
        CliResult damaged = (await RunAsync("desktop", ArchivePassphrase, "import", tampered)).Expect(3);
        CliResult cut = (await RunAsync("desktop", ArchivePassphrase, "import", truncated)).Expect(3);
        CliResult upgrade = (await RunAsync("desktop", ArchivePassphrase, "import", newer, "--json")).Expect(9);

        Assert.DoesNotContain("not the archive passphrase", wrong.StdErr + wrong.StdOut, StringComparison.Ordinal);
        Assert.Contains("tampered", damaged.StdErr, StringComparison.Ordinal);
        Assert.Contains("truncated", cut.StdErr, StringComparison.Ordinal);
        Assert.Contains("Upgrade Ghostie.Sync to read this archive (archive format 2, this version reads up to 1)", upgrade.StdErr, StringComparison.Ordinal);
        Assert.Equal("UnsupportedFormat", upgrade.Json().GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(await MemoriesAsync("desktop"));
        Assert.False(Directory.Exists(Path.Combine(_sandbox.Home("desktop"), "vectors")));
    }
}
