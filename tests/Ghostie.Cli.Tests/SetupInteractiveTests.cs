using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>
/// <c>ghostie sync setup</c> typed on a terminal without the options that say where the repository is: it asks (backend,
/// settings, device id and name, passphrase twice, never echoed), shows a summary and writes only after a yes. Driven
/// end to end on a pseudo-terminal (scripts/pty-run.py). Without a terminal the flag-only form is unchanged.
/// </summary>
public sealed class SetupInteractiveTests : IDisposable
{
    private const string Enter = "\r";
    private const string CtrlC = "\u0003";
    private const string CtrlD = "\u0004";
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private void AssertNothingWritten(string device)
    {
        Assert.False(Directory.Exists(_sandbox.Repository), "no repository folder is created before the summary is confirmed");
        Assert.False(Directory.Exists(_sandbox.Home(device)), "nothing is written in the home before the summary is confirmed");
    }

    [Fact]
    public async Task Setup_OnATerminalWithNoOptions_AsksEverything_ShowsASummary_ThenCreatesTheRepository()
    {
        const string weak = "abc";
        TerminalResult run = (await _sandbox.RunOnTerminalAsync("laptop", ["sync", "setup"],
            ("Backend (folder, s3, azure, gist, postgres, drive, dropbox): [folder]", Enter),
            ("Repository folder", _sandbox.Repository + Enter),
            ("This device's id", "laptop" + Enter),
            ("The name other devices show for it: [laptop]", "Work laptop" + Enter),
            ("Choose a passphrase for the new repository", weak + Enter),
            ("too weak", ""),
            ("Choose a passphrase for the new repository", Sandbox.Passphrase + Enter),
            ("Type it again:", Sandbox.Passphrase + Enter),
            ("Write this setup? [Y/n]", Enter))).Expect(0);

        Assert.Contains("Summary:", run.Output, StringComparison.Ordinal);
        Assert.Contains($"Repository:  {_sandbox.Repository} (create a new repository there)", run.Output, StringComparison.Ordinal);
        Assert.Contains("Device:      laptop (\"Work laptop\")", run.Output, StringComparison.Ordinal);
        Assert.Contains("Created repository", run.Output, StringComparison.Ordinal);
        Assert.True(run.Output.IndexOf("Summary:", StringComparison.Ordinal) < run.Output.IndexOf("Created repository", StringComparison.Ordinal));
        Assert.DoesNotContain(Sandbox.Passphrase, run.Output, StringComparison.Ordinal);  // never echoed
        Assert.DoesNotContain(weak + "\n", run.Output, StringComparison.Ordinal);

        JsonElement status = (await _sandbox.RunAsync("laptop", "sync", "status", "--json")).Expect(0).Json();
        Assert.Equal("laptop", status.GetProperty("device_id").GetString());
        Assert.Equal("Work laptop", Assert.Single(status.GetProperty("known_devices").EnumerateArray()).GetProperty("device_name").GetString());

        // The passphrase typed at the prompt is the repository's: another device joins with it from a script.
        Assert.False((await _sandbox.SetupAsync("tablet")).GetProperty("created_repository").GetBoolean());
    }

    [Fact]
    public async Task Setup_OnATerminalJoining_AsksOnlyWhatIsMissing_AndThePassphraseOnce()
    {
        await _sandbox.SetupAsync("laptop");

        TerminalResult run = (await _sandbox.RunOnTerminalAsync("phone", ["sync", "setup", "--backend", "folder", "--device", "phone"],
            ("Repository folder", _sandbox.Repository + Enter),
            ("The name other devices show for it: [phone]", Enter),
            ("Passphrase that unlocks the repository", Sandbox.Passphrase + Enter),
            ("Write this setup?", "yes" + Enter))).Expect(0);

        Assert.DoesNotContain("Backend (", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("device's id", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Type it again", run.Output, StringComparison.Ordinal);
        Assert.Contains("(join the repository there)", run.Output, StringComparison.Ordinal);
        Assert.Contains("Joined repository", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Sandbox.Passphrase, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setup_OnATerminal_NoAtTheSummary_WritesNothing()
    {
        TerminalResult run = (await _sandbox.RunOnTerminalAsync("laptop", ["sync", "setup"],
            ("Backend", "folder" + Enter),
            ("Repository folder", _sandbox.Repository + Enter),
            ("This device's id", Enter),
            ("The name other devices show", Enter),
            ("Choose a passphrase", Sandbox.Passphrase + Enter),
            ("Type it again:", Sandbox.Passphrase + Enter),
            ("Write this setup?", "n" + Enter))).Expect(130);

        Assert.Contains("nothing was written", run.Output, StringComparison.Ordinal);
        AssertNothingWritten("laptop");
    }

    [Fact]
    public async Task Setup_OnATerminal_CtrlCAtThePassphrase_WritesNothing()
    {
        TerminalResult run = (await _sandbox.RunOnTerminalAsync("laptop", ["sync", "setup"],
            ("Backend", Enter),
            ("Repository folder", _sandbox.Repository + Enter),
            ("This device's id", Enter),
            ("The name other devices show", Enter),
            ("Choose a passphrase", "half typed" + CtrlC))).Expect(130);

        Assert.Contains("Cancelled at the prompt; nothing was written.", run.Output, StringComparison.Ordinal);
        AssertNothingWritten("laptop");
    }

    [Fact]
    public async Task Setup_OnATerminal_EndOfInputAtAQuestion_WritesNothing()
    {
        TerminalResult run = (await _sandbox.RunOnTerminalAsync("laptop", ["sync", "setup", "--backend", "s3"],
            ("S3 bucket:", CtrlD))).Expect(130);

        Assert.Contains("nothing was written", run.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_sandbox.Home("laptop")));
    }

    [Fact]
    public async Task Setup_OnATerminal_ABadAnswerIsExplainedAndAskedAgain()
    {
        string file = Path.Combine(_sandbox.Root, "a-file");
        await File.WriteAllTextAsync(file, "not a folder");

        (await _sandbox.RunOnTerminalAsync("laptop", ["sync", "setup"],
            ("Backend", "ftp" + Enter),
            ("'ftp' is not a backend", ""),
            ("Backend", "folder" + Enter),
            ("Repository folder", file + Enter),
            ("is a file, not a folder", ""),
            ("Repository folder", _sandbox.Repository + Enter),
            ("This device's id", "bad id!" + Enter),
            ("This device's id", "laptop" + Enter),
            ("The name other devices show", Enter),
            ("Choose a passphrase", Sandbox.Passphrase + Enter),
            ("Type it again:", "a typo" + Enter),
            ("The two passphrases differ.", ""),
            ("Choose a passphrase", Sandbox.Passphrase + Enter),
            ("Type it again:", Sandbox.Passphrase + Enter),
            ("Write this setup?", "y" + Enter))).Expect(0);

        Assert.Equal("laptop", (await _sandbox.RunAsync("laptop", "sync", "status", "--json")).Expect(0).Json().GetProperty("device_id").GetString());
    }

    [Fact]
    public async Task Setup_WithoutATerminalAndNoOptions_IsStillTheUsageErrorNamingTheOption()
    {
        CliResult result = (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "sync", "setup")).Expect(1);

        Assert.Contains("--path", result.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_sandbox.Home("laptop")));
    }
}
