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

    [GeneratedRegex("^[a-z0-9._-]+$")]
    private static partial Regex DeviceId();
}
