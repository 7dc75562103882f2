using System.Diagnostics;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary><c>ghostie --verbose</c> shows the library's log events on stderr; <c>ghostie completion</c> prints shell
/// scripts that complete through the <c>[suggest]</c> directive.</summary>
public sealed class VerboseAndCompletionTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Verbose_SetupAndPush_ShowTheLibrarysCryptoAndSyncEventsOnStderr_NeverThePassphrase_AndStdoutStaysOneDocument()
    {
        CliResult setup = (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "--verbose", "sync", "setup", "--backend", "folder",
            "--path", _sandbox.Repository, "--device", "laptop", "--json")).Expect(0);
        setup.Json();
        Assert.Contains("ghostie: info: Repository ", setup.StdErr, StringComparison.Ordinal); // crypto event 1001
        Assert.Contains("[Ghostie.Sync.Crypto.RepositoryKeys 1001]", setup.StdErr, StringComparison.Ordinal);

        (await _sandbox.RunAsync("laptop", "memory", "add", "Prefers dark mode")).Expect(0);
        CliResult push = (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "sync", "push", "--json", "--verbose")).Expect(0);

        Assert.Equal(1, push.Json().GetProperty("uploaded").GetInt32());
        Assert.Contains("ghostie: info: Pushed 1 version(s) in 1 pack(s)", push.StdErr, StringComparison.Ordinal);
        Assert.Contains("[Ghostie.Sync.MemorySyncManager 2002]", push.StdErr, StringComparison.Ordinal);
        foreach (CliResult result in new[] { setup, push })
        {
            Assert.DoesNotContain(Sandbox.Passphrase, result.StdOut + result.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain("Prefers dark mode", result.StdErr, StringComparison.Ordinal);
        }

        // Without --verbose: no log events.
        (await _sandbox.RunAsync("laptop", "memory", "add", "Second memory")).Expect(0);
        CliResult quiet = (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        Assert.DoesNotContain("Pushed 1 version(s)", quiet.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_UnlockWithThePassphrase_ShowsTheUnlockEvent_WithoutThePassphrase()
    {
        await _sandbox.SetupAsync("laptop");
        File.Delete(Ghostie.Sync.Crypto.DeviceKeyCache.ForHome(_sandbox.Home("laptop")).FilePath); // the next command unlocks

        CliResult status = (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "--verbose", "sync", "status")).Expect(0);

        Assert.Contains("[Ghostie.Sync.Crypto.RepositoryKeys 1002]", status.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(Sandbox.Passphrase, status.StdOut + status.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ghostie sy", "sync")]
    [InlineData("ghostie sync pu", "push")]
    [InlineData("ghostie sync ", "setup")]
    [InlineData("ghostie --ver", "--verbose")]
    public async Task SuggestDirective_CompletesCommandsAndOptions(string line, string expected)
    {
        CliResult result = (await _sandbox.RunRawAsync(null, $"[suggest:{line.Length}]", line)).Expect(0);

        string[] suggestions = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(expected, suggestions);
        if (line.EndsWith("sy", StringComparison.Ordinal))
        {
            Assert.All(suggestions, s => Assert.StartsWith("sy", s, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task CompletionBash_PrintsAValidScript_ThatCompletesSyThroughTheDirective()
    {
        CliResult result = (await _sandbox.RunRawAsync(null, "completion", "bash")).Expect(0);
        string script = Path.Combine(_sandbox.Root, "ghostie.bash");
        await File.WriteAllTextAsync(script, result.StdOut);
        Assert.Contains("[suggest:", result.StdOut, StringComparison.Ordinal);

        (int syntax, string syntaxOutput) = await RunShellAsync("bash", "-n", script);
        Assert.True(syntax == 0, "bash -n: " + syntaxOutput);

        // Drive the completion function as bash's programmable completion would, with 'ghostie' running this build.
        string driver = $$"""
            ghostie() { '{{GhostieCli.DotnetHost()}}' '{{GhostieCli.DllPath}}' "$@"; }
            source '{{script}}'
            COMP_LINE='ghostie sy'; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(ghostie sy); COMP_CWORD=1
            _ghostie_complete
            printf '%s\n' "${COMPREPLY[@]}"
            """;
        (int exit, string output) = await RunShellAsync("bash", "-c", driver);
        Assert.True(exit == 0, output);
        Assert.Equal(["sync"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Theory]
    [InlineData("zsh", "compdef")]
    [InlineData("fish", "complete -c ghostie")]
    public async Task CompletionZshAndFish_PrintScriptsThatCallTheDirective_ValidWhereTheShellIsInstalled(string shell, string marker)
    {
        CliResult result = (await _sandbox.RunRawAsync(null, "completion", shell)).Expect(0);
        Assert.Contains("[suggest:", result.StdOut, StringComparison.Ordinal);
        Assert.Contains(marker, result.StdOut, StringComparison.Ordinal);

        string? path = FindOnPath(shell);
        if (path is null)
        {
            return; // the syntax check needs the shell; the script's content is checked above
        }

        string script = Path.Combine(_sandbox.Root, "ghostie." + shell);
        await File.WriteAllTextAsync(script, result.StdOut);
        (int exit, string output) = await RunShellAsync(path, "-n", script);
        Assert.True(exit == 0, $"{shell} -n: {output}");
    }

    [Theory]
    [InlineData("fish")]
    [InlineData("zsh")]
    public async Task CompletionFishAndZsh_CompleteSyThroughTheDirective_WhereTheShellIsInstalled(string shell)
    {
        string? path = FindOnPath(shell);
        if (path is null)
        {
            return; // needs the shell
        }

        CliResult result = (await _sandbox.RunRawAsync(null, "completion", shell)).Expect(0);
        string script = Path.Combine(_sandbox.Root, "ghostie." + shell);
        await File.WriteAllTextAsync(script, result.StdOut);
        string ghostie = $"'{GhostieCli.DotnetHost()}' '{GhostieCli.DllPath}'";
        // fish completes a command line itself (complete -C); for zsh, the completion system's words/CURRENT are set
        // as compsys would, and compadd prints what it is given.
        string driver = shell == "fish"
            ? $"function ghostie; {ghostie} $argv; end; source '{script}'; complete -C 'ghostie sy'"
            : $$"""ghostie() { {{ghostie}} "$@" }; compadd() { shift; print -l -- "${(@P)1}" }; source '{{script}}'; words=(ghostie sy); CURRENT=2; _ghostie""";

        (int exit, string output) = await RunShellAsync(path, shell == "zsh" ? "-fc" : "-c", driver);

        Assert.True(exit == 0, output);
        Assert.Equal(["sync"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Completion_OfAnUnknownShell_IsAUsageError()
    {
        CliResult result = await _sandbox.RunRawAsync(null, "completion", "powershell");

        Assert.Equal(1, result.ExitCode); // ExitCodes.Usage
        Assert.Contains("powershell", result.StdErr, StringComparison.Ordinal);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static async Task<(int Exit, string Output)> RunShellAsync(string shell, params string[] args)
    {
        var start = new ProcessStartInfo(shell) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
