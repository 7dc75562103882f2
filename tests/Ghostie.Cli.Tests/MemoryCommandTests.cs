using System.Text.Json;
using System.Text.RegularExpressions;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary><c>ghostie memory ...</c>: works on the home's memory files, with no sync setup and no passphrase.</summary>
public sealed partial class MemoryCommandTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task AddListShowEditRemove_WithoutSyncSetup_RoundTrip()
    {
        JsonElement added = (await _sandbox.RunAsync("fresh", "memory", "add", "Likes <tea> & \"quotes\"", "--category", "taste", "--context", """{"source":"chat"}""", "--json")).Expect(0).Json();
        string id = added.GetProperty("id").GetString()!;
        Assert.Equal("Likes <tea> & \"quotes\"", added.GetProperty("content").GetString());
        Assert.Matches(DeviceId(), added.GetProperty("device_id").GetString()!); // the machine name, sanitized
        Assert.True(File.Exists(Path.Combine(_sandbox.Home("fresh"), "memories", id + ".json")));

        // A leading '@' is content, not a response file; --quiet prints nothing on success.
        CliResult quiet = (await _sandbox.RunAsync("fresh", "memory", "add", "@alice prefers tea", "--quiet")).Expect(0);
        Assert.Empty(quiet.StdOut);

        JsonElement list = (await _sandbox.RunAsync("fresh", "memory", "list", "--json")).Expect(0).Json();
        Assert.Equal(2, list.GetProperty("memories").GetArrayLength());
        Assert.Contains(list.GetProperty("memories").EnumerateArray(), m => m.GetProperty("content").GetString() == "@alice prefers tea");
        Assert.Empty(list.GetProperty("problems").EnumerateArray());
        JsonElement onlyTaste = (await _sandbox.RunAsync("fresh", "memory", "list", "--category", "taste", "--json")).Expect(0).Json();
        Assert.Equal(id, Assert.Single(onlyTaste.GetProperty("memories").EnumerateArray()).GetProperty("id").GetString());

        CliResult show = (await _sandbox.RunAsync("fresh", "memory", "show", id)).Expect(0);
        Assert.Contains("Likes <tea> & \"quotes\"", show.StdOut, StringComparison.Ordinal);
        Assert.Contains("taste", show.StdOut, StringComparison.Ordinal);

        JsonElement edited = (await _sandbox.RunAsync("fresh", "memory", "edit", id, "Likes green tea", "--json")).Expect(0).Json();
        Assert.Equal("Likes green tea", edited.GetProperty("content").GetString());
        Assert.Equal("taste", edited.GetProperty("category").GetString());
        Assert.Equal("chat", edited.GetProperty("context").GetProperty("source").GetString());
        Assert.Equal(added.GetProperty("timestamp").GetDateTimeOffset(), edited.GetProperty("timestamp").GetDateTimeOffset());
        Assert.Equal("Likes green tea", (await _sandbox.RunAsync("fresh", "memory", "show", id, "--json")).Expect(0).Json().GetProperty("content").GetString());

        JsonElement removed = (await _sandbox.RunAsync("fresh", "memory", "rm", id, "--json")).Expect(0).Json();
        Assert.True(removed.GetProperty("deleted").GetBoolean());
        (await _sandbox.RunAsync("fresh", "memory", "show", id)).Expect(1);
        (await _sandbox.RunAsync("fresh", "memory", "rm", id)).Expect(1);
        Assert.Single((await _sandbox.RunAsync("fresh", "memory", "list", "--json")).Expect(0).Json().GetProperty("memories").EnumerateArray());
        Assert.False(Directory.Exists(Path.Combine(_sandbox.Home("fresh"), "keys")), "memory commands never touch keys");
    }

    [Fact]
    public async Task Add_HomeWithDeviceIdFile_UsesThatDeviceId()
    {
        Directory.CreateDirectory(Path.Combine(_sandbox.Home("named"), "sync"));
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Home("named"), "sync", "device_id"), "pixel9-pro-xl-termux\n");

        JsonElement added = (await _sandbox.RunAsync("named", "memory", "add", "From the phone", "--json")).Expect(0).Json();
        Assert.Equal("pixel9-pro-xl-termux", added.GetProperty("device_id").GetString());
    }

    [Theory]
    [InlineData("memory", "add", "x", "--context", "{not json")]
    [InlineData("memory", "add", "  ")]
    [InlineData("memory", "show", "../../etc/passwd")]
    [InlineData("memory", "edit", "no-such-memory", "text")]
    public async Task BadInput_ExitsOneWithAJsonError(params string[] command)
    {
        JsonElement error = (await _sandbox.RunAsync("fresh", [.. command, "--json"])).Expect(1).Json().GetProperty("error");
        Assert.Equal(1, error.GetProperty("exit_code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }

    /// <summary>About 1 MB of text on several lines, with non-ASCII characters, and no trailing line break.</summary>
    private static string LargeContent()
    {
        var builder = new System.Text.StringBuilder();
        for (int i = 0; builder.Length < 1_000_000; i++)
        {
            builder.Append("line ").Append(i).Append(": naïve café résumé, 東京, ").Append('x', i % 50).Append('\n');
        }

        return builder.ToString().TrimEnd('\n');
    }

    [Fact]
    public async Task Add_Dash_ReadsAOneMegabyteMemoryFromStdin()
    {
        string content = LargeContent();

        // A trailing line break (as echo and most editors write) is not part of the memory.
        JsonElement added = (await _sandbox.RunWithInputAsync("fresh", System.Text.Encoding.UTF8.GetBytes(content + "\n"), "memory", "add", "-", "--category", "big", "--json"))
            .Expect(0).Json();

        string id = added.GetProperty("id").GetString()!;
        Assert.Equal(content, added.GetProperty("content").GetString());
        Assert.Equal(content, (await _sandbox.RunAsync("fresh", "memory", "show", id, "--json")).Expect(0).Json().GetProperty("content").GetString());
        Assert.Equal("big", added.GetProperty("category").GetString());
    }

    [Fact]
    public async Task AddAndEdit_File_ReadTheContentFromTheFile()
    {
        string content = LargeContent();
        string file = Path.Combine(_sandbox.Root, "memory.txt");
        await File.WriteAllTextAsync(file, content + "\r\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        JsonElement added = (await _sandbox.RunAsync("fresh", "memory", "add", "--file", file, "--json")).Expect(0).Json();
        Assert.Equal(content, added.GetProperty("content").GetString());  // no BOM, no trailing CRLF

        string id = added.GetProperty("id").GetString()!;
        await File.WriteAllTextAsync(file, "edited\nfrom a file");
        Assert.Equal("edited\nfrom a file", (await _sandbox.RunAsync("fresh", "memory", "edit", id, "--file", file, "--json")).Expect(0).Json().GetProperty("content").GetString());
        Assert.Equal("from stdin", (await _sandbox.RunWithInputAsync("fresh", "from stdin"u8.ToArray(), "memory", "edit", id, "-", "--json")).Expect(0).Json().GetProperty("content").GetString());
    }

    [Fact]
    public async Task Add_BadFileOrStdin_IsAUsageErrorNamingIt_AndAddsNothing()
    {
        string missing = Path.Combine(_sandbox.Root, "no-such-file.txt");
        string binary = Path.Combine(_sandbox.Root, "binary.bin");
        await File.WriteAllBytesAsync(binary, [0x68, 0x69, 0xff, 0xfe, 0x00]);
        string huge = Path.Combine(_sandbox.Root, "huge.txt");
        await using (FileStream stream = File.Create(huge))
        {
            stream.SetLength(16 * 1024 * 1024 + 1);
        }

        string text = Path.Combine(_sandbox.Root, "ok.txt");
        await File.WriteAllTextAsync(text, "fine");

        Assert.Contains(missing, (await _sandbox.RunAsync("fresh", "memory", "add", "--file", missing)).Expect(1).StdErr, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8", (await _sandbox.RunAsync("fresh", "memory", "add", "--file", binary)).Expect(1).StdErr, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8", (await _sandbox.RunWithInputAsync("fresh", [0xc3, 0x28], "memory", "add", "-")).Expect(1).StdErr, StringComparison.Ordinal);
        Assert.Contains("16 MiB", (await _sandbox.RunAsync("fresh", "memory", "add", "--file", huge)).Expect(1).StdErr, StringComparison.Ordinal);
        Assert.Contains("empty", (await _sandbox.RunWithInputAsync("fresh", "\n"u8.ToArray(), "memory", "add", "-")).Expect(1).StdErr, StringComparison.Ordinal);
        Assert.Contains("--file", (await _sandbox.RunAsync("fresh", "memory", "add", "inline text", "--file", text)).Expect(1).StdErr, StringComparison.Ordinal);
        Assert.Contains("--file", (await _sandbox.RunWithInputAsync("fresh", "x"u8.ToArray(), "memory", "add", "-", "--file", text)).Expect(1).StdErr, StringComparison.Ordinal);
        (await _sandbox.RunAsync("fresh", "memory", "add")).Expect(1);

        Assert.Empty((await _sandbox.RunAsync("fresh", "memory", "list", "--json")).Expect(0).Json().GetProperty("memories").EnumerateArray());
    }

    [GeneratedRegex("^[a-z0-9._-]+$")]
    private static partial Regex DeviceId();
}
