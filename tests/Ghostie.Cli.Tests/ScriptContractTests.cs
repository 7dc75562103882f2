using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>
/// What a script relies on: stdout holds only the result, an error is one line on stderr naming the offending thing,
/// and every exit code is the documented one.
/// </summary>
public sealed class ScriptContractTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task ParseError_WithAListOfAcceptedValues_IsOneErrorLineOnStderr()
    {
        CliResult result = (await _sandbox.RunAsync("any", "sync", "conflict", "resolve", "abc", "--keep", "nope")).Expect(1);
        Assert.Equal("", result.StdOut);
        string[] lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length); // the error, then the pointer to --help
        Assert.StartsWith("ghostie: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains("'nope'", lines[0], StringComparison.Ordinal);
        Assert.Contains("'theirs'", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain('\t', result.StdErr);
    }

    [Fact]
    public async Task Home_ThatIsAFile_OrEmpty_IsAUsageErrorNamingIt()
    {
        string file = Path.Combine(_sandbox.Root, "not-a-folder");
        await File.WriteAllTextAsync(file, "x");
        CliResult result = (await _sandbox.RunRawAsync(null, "--home", file, "memory", "add", "hello", "--json")).Expect(1);
        JsonElement error = result.Json().GetProperty("error");
        Assert.Equal("InvalidArgument", error.GetProperty("code").GetString());
        Assert.Contains(file + " is a file", result.StdErr, StringComparison.Ordinal);

        CliResult empty = (await _sandbox.RunRawAsync(null, "--home", "", "memory", "list")).Expect(1);
        Assert.Contains("--home is empty", empty.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("Parameter", empty.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setup_PathThatIsAFile_IsAUsageError_AndWritesNothing()
    {
        string file = Path.Combine(_sandbox.Root, "repo-file");
        await File.WriteAllTextAsync(file, "x");
        CliResult result = (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "sync", "setup", "--path", file, "--device", "laptop")).Expect(1);
        Assert.Contains($"--path {file} is a file", result.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json")));
        Assert.Equal("x", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task Config_WrittenByANewerVersion_ExitsNine()
    {
        await _sandbox.SetupAsync("laptop");
        string config = Path.Combine(_sandbox.Home("laptop"), "sync", "config.json");
        JsonObject document = JsonNode.Parse(await File.ReadAllTextAsync(config))!.AsObject();
        document["format"] = 2;
        await File.WriteAllTextAsync(config, document.ToJsonString());

        foreach (string[] command in new[] { new[] { "sync", "status" }, ["sync", "push"], ["sync", "setup", "--path", _sandbox.Repository] })
        {
            CliResult result = (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, [.. command, "--json"])).Expect(9);
            Assert.Equal("UnsupportedFormat", result.Json().GetProperty("error").GetProperty("code").GetString());
            Assert.Contains("Upgrade", result.StdErr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EmptyLists_WriteNothingOnStdout_SoEveryStdoutLineIsAResult()
    {
        await _sandbox.SetupAsync("laptop");
        CliResult memories = (await _sandbox.RunAsync("laptop", "memory", "list")).Expect(0);
        Assert.Equal("", memories.StdOut);
        Assert.Contains("No memories.", memories.StdErr, StringComparison.Ordinal);
        CliResult conflicts = (await _sandbox.RunAsync("laptop", "sync", "conflict", "list")).Expect(0);
        Assert.Equal("", conflicts.StdOut);
        Assert.Contains("No conflicts.", conflicts.StdErr, StringComparison.Ordinal);
        Assert.Equal("", (await _sandbox.RunAsync("laptop", "sync", "conflict", "list", "-q")).Expect(0).StdErr);

        CliResult added = (await _sandbox.RunAsync("laptop", "memory", "add", "one line")).Expect(0);
        string id = added.StdOut.Trim().Split(' ')[^1].TrimEnd('.');
        CliResult listed = (await _sandbox.RunAsync("laptop", "memory", "list")).Expect(0);
        string line = Assert.Single(listed.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(id + "  ", line, StringComparison.Ordinal);
    }
}
