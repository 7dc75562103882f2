using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>
/// Text that came from a memory, another device or the repository never reaches the terminal with raw control
/// characters (ESC, BEL, CSI U+009B) or bidirectional overrides in human output; with <c>--json</c> it stays exact.
/// </summary>
public sealed class TerminalEscapingTests : IDisposable
{
    // Retitles the terminal (OSC 0 ... BEL), clears it (CSI 2J, 8-bit CSI), and reverses what follows (RLO).
    private const string Hostile = "title\u001b]0;PWNED\u0007 clear\u001b[2J csi\u009b31m rlo\u202egnp.exe cr\roverwrite";

    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private static void AssertNoRawControls(string output)
    {
        foreach (char c in output)
        {
            bool allowed = c is '\n' or '\t' || c == '\r' && Environment.NewLine == "\r\n";
            Assert.False(!allowed && (c < 0x20 || c is >= '\u007f' and <= '\u009f' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069'),
                $"raw U+{(int)c:X4} in the output:\n{output}");
        }
    }

    [Fact]
    public async Task MemoryListShowSearch_HostileContent_AreEscapedVisibly_JsonStaysExact()
    {
        string id = (await _sandbox.RunAsync("laptop", "memory", "add", Hostile + "\nsecond line", "--category", "cat\u001b[31m", "--json"))
            .Expect(0).Json().GetProperty("id").GetString()!;

        CliResult list = (await _sandbox.RunAsync("laptop", "memory", "list")).Expect(0);
        CliResult show = (await _sandbox.RunAsync("laptop", "memory", "show", id)).Expect(0);
        CliResult search = (await _sandbox.RunAsync("laptop", "memory", "search", "title clear")).Expect(0);

        foreach (CliResult result in new[] { list, show, search })
        {
            AssertNoRawControls(result.StdOut + result.StdErr);
            Assert.Contains("title\\x1b]0;PWNED\\x07", result.StdOut, StringComparison.Ordinal);
            Assert.Contains("csi\\u009b31m", result.StdOut, StringComparison.Ordinal);
            Assert.Contains("cat\\x1b[31m", result.StdOut, StringComparison.Ordinal);
        }

        Assert.Contains("rlo\\u202egnp.exe", show.StdOut, StringComparison.Ordinal);
        Assert.Contains("cr\\roverwrite", show.StdOut, StringComparison.Ordinal);

        // memory show keeps the content's line break readable, the continuation indented under the content.
        Assert.Contains("overwrite\n           second line", show.StdOut.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        // --json is exact.
        JsonElement json = (await _sandbox.RunAsync("laptop", "memory", "show", id, "--json")).Expect(0).Json();
        Assert.Equal(Hostile + "\nsecond line", json.GetProperty("content").GetString());
        Assert.Equal("cat\u001b[31m", json.GetProperty("category").GetString());
        JsonElement listed = Assert.Single((await _sandbox.RunAsync("laptop", "memory", "list", "--json")).Expect(0).Json().GetProperty("memories").EnumerateArray());
        Assert.Equal(Hostile + "\nsecond line", listed.GetProperty("content").GetString());
    }

    [Fact]
    public async Task ErrorMessage_QuotingAHostileId_IsEscaped()
    {
        CliResult human = (await _sandbox.RunAsync("laptop", "memory", "show", "\u001b]0;PWNED\u0007")).Expect(1);

        AssertNoRawControls(human.StdErr);
        Assert.Contains("\\x1b]0;PWNED\\x07", human.StdErr, StringComparison.Ordinal);

        JsonElement error = (await _sandbox.RunAsync("laptop", "memory", "show", "\u001b]0;PWNED\u0007", "--json")).Expect(1).Json().GetProperty("error");
        Assert.Contains("\u001b]0;PWNED\u0007", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConflictListShow_HostileVersions_AreEscaped()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string id = (await _sandbox.RunAsync("laptop", "memory", "add", "plain", "--json")).Expect(0).Json().GetProperty("id").GetString()!;
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(0);
        (await _sandbox.RunAsync("laptop", "memory", "edit", id, "laptop " + Hostile)).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("phone", "memory", "edit", id, "phone " + Hostile)).Expect(0);
        (await _sandbox.RunAsync("phone", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(0);

        CliResult list = (await _sandbox.RunAsync("phone", "sync", "conflict", "list")).Expect(0);
        CliResult show = (await _sandbox.RunAsync("phone", "sync", "conflict", "show", id)).Expect(0);

        Assert.Contains(id, list.StdOut, StringComparison.Ordinal);
        foreach (CliResult result in new[] { list, show })
        {
            AssertNoRawControls(result.StdOut + result.StdErr);
            Assert.Contains("title\\x1b]0;PWNED\\x07", result.StdOut, StringComparison.Ordinal);
        }

        Assert.Contains("laptop title\\x1b]0;PWNED\\x07", show.StdOut, StringComparison.Ordinal);
        Assert.Contains("phone title\\x1b]0;PWNED\\x07", show.StdOut, StringComparison.Ordinal);
        JsonElement json = (await _sandbox.RunAsync("phone", "sync", "conflict", "show", id, "--json")).Expect(0).Json();
        Assert.Contains(new[] { json.GetProperty("current") }.Concat(json.GetProperty("others").EnumerateArray()),
            v => v.GetProperty("record").GetProperty("content").GetString() == "laptop " + Hostile);
    }

    [Fact]
    public async Task HandoffListResume_HostileTitle_IsEscaped()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string transcript = Path.Combine(_sandbox.Root, "chat.json");
        await File.WriteAllTextAsync(transcript, """[{"role":"user","content":"fix the \u001b]0;PWNED\u0007 queue"},{"role":"assistant","content":"done"}]""");
        string id = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--to", "phone", "--title", "T\u001b]0;PWNED\u0007", "--json"))
            .Expect(0).Json().GetProperty("package_id").GetString()!;

        CliResult list = (await _sandbox.RunAsync("phone", "handoff", "list")).Expect(0);
        CliResult resume = (await _sandbox.RunAsync("phone", "handoff", "resume", id, "--keep")).Expect(0);

        foreach (CliResult result in new[] { list, resume })
        {
            AssertNoRawControls(result.StdOut + result.StdErr);
            Assert.Contains("T\\x1b]0;PWNED\\x07", result.StdOut, StringComparison.Ordinal);
        }

        JsonElement json = (await _sandbox.RunAsync("phone", "handoff", "list", "--json")).Expect(0).Json();
        Assert.Equal("T\u001b]0;PWNED\u0007", Assert.Single(json.GetProperty("pending").EnumerateArray()).GetProperty("title").GetString());
    }
}
