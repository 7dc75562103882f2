using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>
/// A push or pull killed (SIGKILL) in the middle leaves the home and the repository readable, and running the command
/// again converges. The kill lands at a point the test observes (the first object written to the repository, the first
/// memory file written by a pull); whatever state that leaves, the assertions hold, so the test does not depend on timing.
/// </summary>
public sealed class KillMidSyncTests : IDisposable
{
    private const int Memories = 3000;
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task PushAndPull_KilledMidway_LeaveEverythingReadable_AndARerunConverges()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        Dictionary<string, string> written = WriteMemories(Path.Combine(_sandbox.Home("laptop"), "memories"));

        await KillWhenAsync("laptop", ["sync", "push"], () => Directory.Exists(Path.Combine(_sandbox.Repository, "p")) &&
            Directory.EnumerateFiles(Path.Combine(_sandbox.Repository, "p"), "*", SearchOption.AllDirectories).Any());
        await AssertReadableAsync("laptop", expected: Memories);
        JsonElement push = (await _sandbox.RunAsync("laptop", "sync", "push", "--json")).Expect(0).Json();
        Assert.True(push.GetProperty("success").GetBoolean());

        string phoneMemories = Path.Combine(_sandbox.Home("phone"), "memories");
        await KillWhenAsync("phone", ["sync", "pull"], () => Directory.Exists(phoneMemories) && Directory.EnumerateFiles(phoneMemories).Any());
        await AssertReadableAsync("phone", expected: null);
        JsonElement pull = (await _sandbox.RunAsync("phone", "sync", "pull", "--json")).Expect(0).Json();
        Assert.True(pull.GetProperty("success").GetBoolean());

        JsonElement listed = (await _sandbox.RunAsync("phone", "memory", "list", "--json")).Expect(0).Json();
        Dictionary<string, string> onPhone = listed.GetProperty("memories").EnumerateArray()
            .ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("content").GetString()!);
        Assert.Equal(written.OrderBy(p => p.Key, StringComparer.Ordinal), onPhone.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(0, (await _sandbox.RunAsync("laptop", "sync", "push", "--json")).Expect(0).Json().GetProperty("uploaded").GetInt32());
        Assert.Equal(0, (await _sandbox.RunAsync("phone", "sync", "pull", "--json")).Expect(0).Json().GetProperty("downloaded").GetInt32());

        // The repository holds no memory in plaintext, killed writes included.
        string marker = written.Values.First();
        foreach (string file in Directory.EnumerateFiles(_sandbox.Repository, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(marker, Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EditAfterAPullKilledMidway_SyncsAsAPlainEdit_NoConflict()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        WriteMemories(Path.Combine(_sandbox.Home("laptop"), "memories"));
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);

        string phoneMemories = Path.Combine(_sandbox.Home("phone"), "memories");
        await KillWhenAsync("phone", ["sync", "pull"], () => Directory.Exists(phoneMemories) && Directory.EnumerateFiles(phoneMemories, "*.json").Any());
        string edited = Path.GetFileNameWithoutExtension(Directory.EnumerateFiles(phoneMemories, "*.json").Order(StringComparer.Ordinal).First());
        (await _sandbox.RunAsync("phone", "memory", "edit", edited, "edited on the phone after the kill")).Expect(0);

        JsonElement pull = (await _sandbox.RunAsync("phone", "sync", "pull", "--json")).Expect(0).Json();
        JsonElement push = (await _sandbox.RunAsync("phone", "sync", "push", "--json")).Expect(0).Json();
        JsonElement back = (await _sandbox.RunAsync("laptop", "sync", "pull", "--json")).Expect(0).Json();

        Assert.Equal(0, pull.GetProperty("conflicts").GetInt32());
        Assert.Equal(1, push.GetProperty("uploaded").GetInt32()); // the edit, and nothing the killed pull wrote
        Assert.Equal(0, back.GetProperty("conflicts").GetInt32());
        JsonElement shown = (await _sandbox.RunAsync("laptop", "memory", "show", edited, "--json")).Expect(0).Json();
        Assert.Contains("edited on the phone after the kill", shown.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Memory files in the seed's format, as another tool would write them; contents from a fixed seed.</summary>
    private static Dictionary<string, string> WriteMemories(string folder)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(20261121);
        var contents = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < Memories; i++)
        {
            string id = $"01a1f{i:x27}";
            string content = $"kill-test memory {i}: " + new string((char)('a' + random.Next(26)), random.Next(10, 300));
            contents[id] = content;
            var record = new Dictionary<string, object?>
            {
                ["id"] = id, ["timestamp"] = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero).AddMilliseconds(i), ["device_id"] = "laptop",
                ["category"] = "bulk", ["content"] = content, ["context"] = null, ["sync_metadata"] = null,
            };
            File.WriteAllText(Path.Combine(folder, id + ".json"), JsonSerializer.Serialize(record));
        }

        return contents;
    }

    /// <summary>Runs the command and kills it the moment <paramref name="condition"/> holds (or lets it finish if it never does).</summary>
    private async Task KillWhenAsync(string device, string[] args, Func<bool> condition)
    {
        using Process process = GhostieCli.Start(["--home", _sandbox.Home(device), .. args], _sandbox.Root,
            new Dictionary<string, string?> { ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home") });
        Task drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        var deadline = Stopwatch.StartNew();
        while (!process.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (condition())
            {
                process.Kill(entireProcessTree: true);  // SIGKILL: no finally block, no flush
                break;
            }

            await Task.Delay(1);
        }

        await process.WaitForExitAsync();
        await drain;
    }

    /// <summary>Every memory file parses, status opens, and nothing half-written lies around the home.</summary>
    private async Task AssertReadableAsync(string device, int? expected)
    {
        JsonElement list = (await _sandbox.RunAsync(device, "memory", "list", "--json")).Expect(0).Json();
        Assert.Equal(0, list.GetProperty("problems").GetArrayLength());
        if (expected is { } count)
        {
            Assert.Equal(count, list.GetProperty("memories").GetArrayLength());
        }

        (await _sandbox.RunAsync(device, "sync", "status", "--json")).Expect(0).Json();
    }
}
