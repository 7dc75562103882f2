using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>Two devices (two homes) sharing one folder repository, driven only through the <c>ghostie</c> command.</summary>
public sealed class SyncEndToEndTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task TwoHomes_SetupPushPullConflictResolve_Converge()
    {
        // Setup: the first device creates the repository, the second joins it.
        JsonElement laptopSetup = await _sandbox.SetupAsync("laptop");
        JsonElement phoneSetup = await _sandbox.SetupAsync("phone");
        Assert.True(laptopSetup.GetProperty("created_repository").GetBoolean());
        Assert.False(phoneSetup.GetProperty("created_repository").GetBoolean());
        Assert.Equal(laptopSetup.GetProperty("repository_id").GetString(), phoneSetup.GetProperty("repository_id").GetString());
        Assert.Equal("folder", phoneSetup.GetProperty("backend").GetString());
        Assert.Equal(_sandbox.Repository, phoneSetup.GetProperty("path").GetString());

        // One memory on each device; the configured device id is recorded in it.
        JsonElement laptopMemory = (await _sandbox.RunAsync("laptop", "memory", "add", "Discovered new network topology", "--category", "network",
            "--context", """{"ssid":"home-5g","hops":3}""", "--json")).Expect(0).Json();
        JsonElement phoneMemory = (await _sandbox.RunAsync("phone", "memory", "add", "Prefers dark mode", "--json")).Expect(0).Json();
        string laptopId = laptopMemory.GetProperty("id").GetString()!;
        string phoneId = phoneMemory.GetProperty("id").GetString()!;
        Assert.Equal("laptop", laptopMemory.GetProperty("device_id").GetString());
        Assert.Equal("phone", phoneMemory.GetProperty("device_id").GetString());

        // Push from both (the phone with the seed's spelling), then pull on both.
        JsonElement laptopPush = (await _sandbox.RunAsync("laptop", "sync", "push", "--json")).Expect(0).Json();
        Assert.Equal("push", laptopPush.GetProperty("operation").GetString());
        Assert.Equal(1, laptopPush.GetProperty("uploaded").GetInt32());
        Assert.True(laptopPush.GetProperty("success").GetBoolean());
        (await _sandbox.RunAsync("phone", "--sync", "push")).Expect(0);
        JsonElement laptopPull = (await _sandbox.RunAsync("laptop", "sync", "pull", "--json")).Expect(0).Json();
        Assert.Equal(1, laptopPull.GetProperty("downloaded").GetInt32());
        JsonElement phonePull = (await _sandbox.RunAsync("phone", "sync", "pull", "--json")).Expect(0).Json();
        Assert.Equal(1, phonePull.GetProperty("downloaded").GetInt32());
        Assert.Equal(0, phonePull.GetProperty("conflicts").GetInt32());

        foreach (string device in new[] { "laptop", "phone" })
        {
            JsonElement status = (await _sandbox.RunAsync(device, "sync", "status", "--json")).Expect(0).Json();
            Assert.Equal(device, status.GetProperty("device_id").GetString());
            Assert.Equal(laptopSetup.GetProperty("repository_id").GetString(), status.GetProperty("repository_id").GetString());
            Assert.Equal(2, status.GetProperty("local_memories").GetInt32());
            Assert.Equal(2, status.GetProperty("cloud_memories").GetInt32());
            Assert.Equal(0, status.GetProperty("pending_push").GetInt32());
            Assert.Equal(0, status.GetProperty("conflicts").GetInt32());
            Assert.NotEqual(JsonValueKind.Null, status.GetProperty("last_sync").ValueKind);
            string[] devices = status.GetProperty("known_devices").EnumerateArray().Select(d => d.GetProperty("device_id").GetString()!).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(["laptop", "phone"], devices);
            Assert.Single(status.GetProperty("known_devices").EnumerateArray(), d => d.GetProperty("is_this_device").GetBoolean());
        }

        JsonElement phoneList = (await _sandbox.RunAsync("phone", "memory", "list", "--json")).Expect(0).Json();
        JsonElement fromLaptop = Assert.Single(phoneList.GetProperty("memories").EnumerateArray(), m => m.GetProperty("id").GetString() == laptopId);
        Assert.Equal("Discovered new network topology", fromLaptop.GetProperty("content").GetString());
        Assert.Equal("network", fromLaptop.GetProperty("category").GetString());
        Assert.Equal(3, fromLaptop.GetProperty("context").GetProperty("hops").GetInt32());
        Assert.Contains(phoneList.GetProperty("memories").EnumerateArray(), m => m.GetProperty("id").GetString() == phoneId);

        // Concurrent edits: the laptop edits and pushes; the phone edits the version it has, pushes, then pulls.
        (await _sandbox.RunAsync("laptop", "memory", "edit", laptopId, "Topology: laptop's view")).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("phone", "memory", "edit", laptopId, "Topology: the phone's longer view")).Expect(0);
        (await _sandbox.RunAsync("phone", "sync", "push")).Expect(0);
        JsonElement phoneSeesConflict = (await _sandbox.RunAsync("phone", "sync", "pull", "--json")).Expect(0).Json();
        Assert.Equal(1, phoneSeesConflict.GetProperty("new_conflicts").GetInt32());
        JsonElement laptopSeesConflict = (await _sandbox.RunAsync("laptop", "sync", "pull", "--json")).Expect(0).Json();
        Assert.Equal(1, laptopSeesConflict.GetProperty("new_conflicts").GetInt32());
        Assert.Equal(1, laptopSeesConflict.GetProperty("conflicts").GetInt32());

        foreach (string device in new[] { "laptop", "phone" })
        {
            JsonElement list = (await _sandbox.RunAsync(device, "sync", "conflict", "list", "--json")).Expect(0).Json();
            JsonElement conflict = Assert.Single(list.GetProperty("conflicts").EnumerateArray());
            Assert.Equal(laptopId, conflict.GetProperty("id").GetString());
            string[] contents = new[] { conflict.GetProperty("current") }.Concat(conflict.GetProperty("others").EnumerateArray())
                .Select(v => v.GetProperty("record").GetProperty("content").GetString()!).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(["Topology: laptop's view", "Topology: the phone's longer view"], contents);
            Assert.Equal(1, (await _sandbox.RunAsync(device, "sync", "status", "--json")).Expect(0).Json().GetProperty("conflicts").GetInt32());
        }

        (await _sandbox.RunAsync("laptop", "sync", "conflict", "list", "--exit-code")).Expect(7);

        // The laptop keeps the phone's version; once it pushes and the phone pulls, both agree and nothing is in conflict.
        JsonElement resolved = (await _sandbox.RunAsync("laptop", "sync", "conflict", "resolve", laptopId, "--keep", "theirs", "--json")).Expect(0).Json();
        Assert.Equal("theirs", resolved.GetProperty("choice").GetString());
        Assert.Equal([laptopId], resolved.GetProperty("kept").EnumerateArray().Select(k => k.GetString()!).ToArray());
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "pull")).Expect(0);

        foreach (string device in new[] { "laptop", "phone" })
        {
            JsonElement memory = (await _sandbox.RunAsync(device, "memory", "show", laptopId, "--json")).Expect(0).Json();
            Assert.Equal("Topology: the phone's longer view", memory.GetProperty("content").GetString());
            Assert.Equal(JsonValueKind.Null, memory.GetProperty("sync_metadata").GetProperty("conflict_state").ValueKind);
            Assert.Empty((await _sandbox.RunAsync(device, "sync", "conflict", "list", "--json")).Expect(0).Json().GetProperty("conflicts").EnumerateArray());
            JsonElement status = (await _sandbox.RunAsync(device, "sync", "status", "--json")).Expect(0).Json();
            Assert.Equal(0, status.GetProperty("conflicts").GetInt32());
            Assert.Equal(0, status.GetProperty("pending_push").GetInt32());
            Assert.Equal(2, status.GetProperty("cloud_memories").GetInt32());
        }

        (await _sandbox.RunAsync("laptop", "sync", "conflict", "list", "--exit-code")).Expect(0);
    }

    [Fact]
    public async Task ConflictResolve_MergedFile_KeepsMergedRecordOnBothHomes()
    {
        await _sandbox.SetupAsync("a");
        await _sandbox.SetupAsync("b");
        string id = (await _sandbox.RunAsync("a", "memory", "add", "Office wifi is on channel 6", "--category", "network", "--json")).Expect(0).Json().GetProperty("id").GetString()!;
        (await _sandbox.RunAsync("a", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("b", "sync", "pull")).Expect(0);
        (await _sandbox.RunAsync("a", "memory", "edit", id, "Office wifi: channel 11")).Expect(0);
        (await _sandbox.RunAsync("a", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("b", "memory", "edit", id, "Office wifi: 5 GHz band only")).Expect(0);
        (await _sandbox.RunAsync("b", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("b", "sync", "pull")).Expect(0);

        // A merged file may carry only the content; the other fields come from the current version.
        string mergedFile = Path.Combine(_sandbox.Root, "merged.json");
        await File.WriteAllTextAsync(mergedFile, """{"content": "Office wifi: channel 11, 5 GHz band only"}""");

        // An edit made since the last sync would be overwritten by the resolution: refused until it is pushed (or undone).
        string shown = (await _sandbox.RunAsync("b", "memory", "show", id, "--json")).Expect(0).Json().GetProperty("content").GetString()!;
        (await _sandbox.RunAsync("b", "memory", "edit", id, "An edit not yet pushed")).Expect(0);
        CliResult refused = (await _sandbox.RunAsync("b", "sync", "conflict", "resolve", id, "--merged", mergedFile)).Expect(1);
        Assert.Contains("ghostie sync push", refused.StdErr, StringComparison.Ordinal);
        (await _sandbox.RunAsync("b", "memory", "edit", id, shown)).Expect(0);
        JsonElement resolved = (await _sandbox.RunAsync("b", "sync", "conflict", "resolve", id, "--merged", mergedFile, "--json")).Expect(0).Json();
        Assert.Equal("merged", resolved.GetProperty("choice").GetString());
        (await _sandbox.RunAsync("b", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("a", "sync", "pull")).Expect(0);

        foreach (string device in new[] { "a", "b" })
        {
            JsonElement memory = (await _sandbox.RunAsync(device, "memory", "show", id, "--json")).Expect(0).Json();
            Assert.Equal("Office wifi: channel 11, 5 GHz band only", memory.GetProperty("content").GetString());
            Assert.Equal("network", memory.GetProperty("category").GetString());
            Assert.Empty((await _sandbox.RunAsync(device, "sync", "conflict", "list", "--json")).Expect(0).Json().GetProperty("conflicts").EnumerateArray());
        }
    }

    [Fact]
    public async Task Pull_DeviceHeadDeleted_ExitsSixNamingTheDevice_OnDevicesThatSawIt_AndOnANewDevice()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        (await _sandbox.RunAsync("laptop", "memory", "add", "only the laptop wrote this")).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        string laptopHeads = Assert.Single(Directory.GetDirectories(Path.Combine(_sandbox.Repository, "h")));
        (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(0);
        (await _sandbox.RunAsync("phone", "memory", "add", "the phone wrote this")).Expect(0);
        (await _sandbox.RunAsync("phone", "sync", "push")).Expect(0); // its head acknowledges the laptop's
        Directory.Delete(laptopHeads, recursive: true); // deleted by hand, or by a sync tool

        CliResult seen = (await _sandbox.RunAsync("phone", "sync", "pull", "--json")).Expect(6);
        JsonElement document = seen.Json();
        Assert.False(document.GetProperty("success").GetBoolean());
        JsonElement problem = Assert.Single(document.GetProperty("problems").EnumerateArray());
        Assert.Equal("laptop", problem.GetProperty("subject").GetString());
        Assert.Contains("device 'laptop'", problem.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("device 'laptop'", seen.StdErr, StringComparison.Ordinal);
        CliResult text = (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(6);
        Assert.DoesNotContain("Already up to date", text.StdOut, StringComparison.Ordinal);

        await _sandbox.SetupAsync("tablet");
        CliResult fresh = (await _sandbox.RunAsync("tablet", "sync", "pull", "--json")).Expect(6);
        JsonElement missing = Assert.Single(fresh.Json().GetProperty("problems").EnumerateArray());
        Assert.Contains(Path.GetFileName(laptopHeads), missing.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("device 'phone'", missing.GetProperty("message").GetString(), StringComparison.Ordinal);

        // The laptop still holds its history: its next sync writes its head again, and the problem is gone everywhere.
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(6);
        Assert.True((await _sandbox.RunAsync("tablet", "sync", "pull", "--json")).Expect(0).Json().GetProperty("success").GetBoolean());
        Assert.Contains("only the laptop wrote this", (await _sandbox.RunAsync("tablet", "memory", "list")).Expect(0).StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_MalformedMemoryFile_ExitsSixReportsItAndPushesTheRest()
    {
        await _sandbox.SetupAsync("solo");
        (await _sandbox.RunAsync("solo", "memory", "add", "A valid memory")).Expect(0);
        string broken = Path.Combine(_sandbox.Home("solo"), "memories", "broken.json");
        await File.WriteAllTextAsync(broken, "{ not json");

        CliResult push = (await _sandbox.RunAsync("solo", "sync", "push", "--json")).Expect(6);
        JsonElement document = push.Json();
        Assert.False(document.GetProperty("success").GetBoolean());
        Assert.Equal(1, document.GetProperty("uploaded").GetInt32());
        JsonElement problem = Assert.Single(document.GetProperty("problems").EnumerateArray());
        Assert.Equal("MalformedLocalFile", problem.GetProperty("code").GetString());
        Assert.Contains("broken.json", push.StdErr, StringComparison.Ordinal);
        Assert.True(File.Exists(broken), "a malformed file is left untouched");

        (await _sandbox.RunAsync("solo", "memory", "list")).Expect(6);
    }
}
