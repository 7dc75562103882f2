using System.Text.Json;

namespace Ghostie.Sync.Tests;

/// <summary>GhostieSyncOptions.PushScrubber: opt-in anonymization of memories as they are pushed.</summary>
public sealed class PushScrubbingTests
{
    /// <summary>Replaces the word SECRET-XYZ; counts its calls.</summary>
    private sealed class WordScrubber : ITextScrubber
    {
        public int Calls { get; private set; }

        public IReadOnlyList<string> Scrub(IReadOnlyList<string> texts)
        {
            Calls++;
            return texts.Select(t => t.Replace("SECRET-XYZ", "[REDACTED:test]", StringComparison.Ordinal)).ToArray();
        }
    }

    private static async Task<(Cluster Cluster, Device Laptop, Device Phone, WordScrubber Scrubber)> SetupAsync(bool scrub)
    {
        var cluster = new Cluster();
        Device laptop = await cluster.AddDeviceAsync("laptop");
        Device phone = await cluster.AddDeviceAsync("phone");
        var scrubber = new WordScrubber();
        if (scrub)
        {
            await cluster.ReopenAsync(laptop, options: new GhostieSyncOptions { Home = laptop.Home.Root, TimeProvider = cluster.Time, PushScrubber = scrubber });
        }

        return (cluster, laptop, phone, scrubber);
    }

    [Fact]
    public async Task On_OtherDevicesReceiveTheScrubbedRecord_ThisDeviceKeepsTheOriginal_AndNothingComesBack()
    {
        (Cluster cluster, Device laptop, Device phone, WordScrubber scrubber) = await SetupAsync(scrub: true);
        using (cluster)
        {
            using JsonDocument context = JsonDocument.Parse("""{"env":{"db":"user SECRET-XYZ"},"tags":["SECRET-XYZ",3,true],"n":1}""");
            MemoryRecord record = laptop.Add("the key is SECRET-XYZ, keep it") with { Context = context.RootElement.Clone() };
            laptop.Manager.Memories.Save(record);
            await laptop.SyncAsync();
            await phone.SyncAsync();

            MemoryRecord received = phone.Manager.Memories.Get(record.Id)!;
            Assert.Equal("the key is [REDACTED:test], keep it", received.Content);
            Assert.Equal("""{"env":{"db":"user [REDACTED:test]"},"tags":["[REDACTED:test]",3,true],"n":1}""", JsonSerializer.Serialize(received.Context!.Value));
            Assert.Equal("the key is SECRET-XYZ, keep it", laptop.Manager.Memories.Get(record.Id)!.Content);
            Assert.True(scrubber.Calls >= 1);

            // The phone's file shows the version it was sent: it does not push it back as an edit, and the laptop's
            // original stays.
            SyncResult phoneAgain = await phone.SyncAsync();
            await laptop.SyncAsync();
            Assert.Equal(0, phoneAgain.Uploaded);
            Assert.Equal("the key is SECRET-XYZ, keep it", laptop.Manager.Memories.Get(record.Id)!.Content);
            Assert.Empty(phone.ConflictIds());
            Assert.Empty(laptop.ConflictIds());
        }
    }

    [Fact]
    public async Task Off_TheRecordIsPushedUnchanged()
    {
        (Cluster cluster, Device laptop, Device phone, WordScrubber scrubber) = await SetupAsync(scrub: false);
        using (cluster)
        {
            MemoryRecord record = laptop.Add("the key is SECRET-XYZ, keep it");
            await laptop.SyncAsync();
            await phone.SyncAsync();

            Assert.Equal("the key is SECRET-XYZ, keep it", phone.Manager.Memories.Get(record.Id)!.Content);
            Assert.Equal(laptop.Snapshot(), phone.Snapshot());
            Assert.Equal(0, scrubber.Calls);
        }
    }
}
