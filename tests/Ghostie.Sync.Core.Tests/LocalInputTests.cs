using System.Text;

namespace Ghostie.Sync.Tests;

public class LocalInputTests
{
    [Theory]
    [InlineData("broken.json", "{ \"content\": \"unterminated")]
    [InlineData("foreign.json", "{\"name\": \"package\", \"version\": \"1.0.0\"}")]
    [InlineData("array.json", "[1, 2, 3]")]
    [InlineData("bad name!.json", "{\"content\": \"x\", \"category\": \"y\"}")]
    [InlineData("mismatch.json", "{\"id\": \"other\", \"content\": \"x\", \"category\": \"y\"}")]
    public async Task MalformedOrForeignFile_IsReportedByName_SkippedAndNeverTouched(string fileName, string text)
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("a valid memory");
        string path = Path.Combine(a.Home.MemoriesPath, fileName);
        File.WriteAllText(path, text);
        DateTime written = File.GetLastWriteTimeUtc(path);

        SyncResult result = await a.SyncAsync();
        SyncResult again = await a.SyncAsync();
        await b.SyncAsync();

        SyncProblem problem = Assert.Single(result.Problems);
        Assert.Equal(GhostieErrorCode.MalformedLocalFile, problem.Code);
        Assert.Contains(fileName, problem.Message);
        Assert.Single(again.Problems); // still reported, still skipped
        Assert.Equal(text, File.ReadAllText(path));
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
        Assert.Single(b.Snapshot()); // only the valid memory travelled
        Assert.Equal(1, result.Uploaded);
    }

    [Fact]
    public async Task RemoteVersion_NeverOverwritesALocallyMalformedFile()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord shared = a.Add("v1");
        await a.SyncAsync();
        await b.SyncAsync();
        File.WriteAllText(b.Home.MemoryPath(shared.Id), "{ corrupted by a text editor");
        a.Edit(shared.Id, "v2");
        await a.SyncAsync();

        SyncResult result = await b.SyncAsync();

        Assert.Contains(result.Problems, p => p.Code == GhostieErrorCode.MalformedLocalFile && p.Message.Contains(shared.Id));
        Assert.Equal("{ corrupted by a text editor", File.ReadAllText(b.Home.MemoryPath(shared.Id)));
    }

    [Fact]
    public async Task SeedFormatFileWithoutId_TakesItsIdFromTheFileName()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        File.WriteAllText(Path.Combine(a.Home.MemoriesPath, "20250628-network.json"), """
            {
              "timestamp": "2025-06-28T14:30:00.000Z",
              "device_id": "pixel9-pro-xl-termux",
              "sync_metadata": { "last_modified": "2025-06-28T14:30:00.000Z", "sync_hash": "sha256:abc123", "version": 1, "conflict_state": null },
              "category": "network",
              "content": "Discovered new network topology...",
              "context": { "ssid": "home", "hops": [1, 2, 3] }
            }
            """);

        SyncResult result = await a.SyncAsync();
        await b.SyncAsync();

        Assert.True(result.Success);
        MemoryRecord copy = b.Manager.Memories.Get("20250628-network")!;
        Assert.Equal("Discovered new network topology...", copy.Content);
        Assert.Equal("pixel9-pro-xl-termux", copy.DeviceId);
        Assert.Equal([1, 2, 3], copy.Context!.Value.GetProperty("hops").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("home", copy.Context.Value.GetProperty("ssid").GetString());
    }

    [Fact]
    public async Task MultiMegabyteMemoryWithUnusualUnicode_RoundTripsExactly()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        var text = new StringBuilder();
        string[] pieces = ["👻☁️", "עברית RTL \u202Eoverride\u202C", "e\u0301 combining", "\u0000 nul \u0001", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\uFEFF bom", "\"quotes\" \\ backslash", "日本語", "\r\n\t"];
        var random = new Random(42);
        while (text.Length < 3_000_000)
        {
            text.Append(pieces[random.Next(pieces.Length)]);
        }

        MemoryRecord big = a.Add(text.ToString(), category: "ünïcödé 🗂");
        SyncResult pushed = await a.SyncAsync();
        await b.SyncAsync();

        MemoryRecord copy = b.Manager.Memories.Get(big.Id)!;
        Assert.Equal(big.Content, copy.Content);
        Assert.Equal(big.Category, copy.Category);
        Assert.True(pushed.Success);
    }
}

public class RequestCountTests
{
    [Fact]
    public async Task SyncWithNothingNew_DownloadsNoObject_AndMakesOneListing()
    {
        var counting = new InstrumentedBackend(new InMemoryStorageBackend());
        using var cluster = new Cluster(counting);
        var devices = new List<Device>();
        for (int i = 0; i < 4; i++)
        {
            Device device = await cluster.AddDeviceAsync($"d{i}");
            device.Add($"hello from {i}");
            devices.Add(device);
        }

        for (int round = 0; round < 2; round++)
        {
            foreach (Device device in devices)
            {
                await device.SyncAsync();
            }
        }

        counting.Reset();
        SyncResult idle = await devices[0].SyncAsync();

        Assert.Equal(0, counting.Gets);
        Assert.Equal(0, counting.Puts);
        Assert.Equal(0, counting.Deletes);
        Assert.Equal(1, counting.Lists);
        Assert.Equal((0, 1), (idle.ObjectsWritten, idle.ObjectsRead));
    }

    [Fact]
    public async Task PushingTenThousandNewMemories_WritesAtMostTwentyObjects()
    {
        var counting = new InstrumentedBackend(new InMemoryStorageBackend());
        using var cluster = new Cluster(counting);
        Device a = await cluster.AddDeviceAsync("a");
        await cluster.ReopenAsync(a, options: new GhostieSyncOptions { Home = a.Home.Root, TimeProvider = cluster.Time }); // default pack size
        for (int i = 0; i < 10_000; i++)
        {
            a.Add($"memory number {i}: the user prefers concise answers and works on project {i % 37}");
        }

        counting.Reset();
        SyncResult result = await a.Manager.PushAsync();

        Assert.Equal(10_000, result.Uploaded);
        Assert.InRange(counting.Puts, 2, 20);
        Assert.Equal(counting.Puts, result.ObjectsWritten);
    }
}
