using System.Globalization;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>The handoff scrubber offered for memories before they are pushed (AddMemoryScrubbing).</summary>
public sealed class SecretScrubberMemoryPushTests
{
    private static readonly string PlantedRoot = Path.Combine(AppContext.BaseDirectory, "Corpus", "scrub", "planted");

    /// <summary>Pushes one memory per planted corpus file from a laptop and pulls them on a phone; returns the
    /// corpus, the phone's records (the pushed records, decrypted) and the laptop's files.</summary>
    private static async Task<(List<PlantedCorpus> Planted, List<MemoryRecord> Received, List<MemoryRecord> Local)> PushAsync(ITextScrubber? scrubber)
    {
        using var folder = new TempFolder();
        var storage = new InMemoryStorageBackend();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-21T08:00:00Z", CultureInfo.InvariantCulture));
        using RepositoryKeys keys = await RepositoryKeys.InitializeAsync(storage, Repository.Passphrase, "primary", Repository.KeyOptions());
        MemorySyncManager Open(string device, ITextScrubber? with)
        {
            var options = new GhostieSyncOptions { Home = Path.Combine(folder.Path, device), TimeProvider = time, PushScrubber = with };
            new GhostieHome(options.Home).EnsureCreated();
            return MemorySyncManager.Create(storage, keys, options, device);
        }

        using MemorySyncManager laptop = Open("laptop", scrubber);
        using MemorySyncManager phone = Open("phone", null);
        var planted = PlantedCorpus.Files().Select(PlantedCorpus.Load).ToList();
        for (int i = 0; i < planted.Count; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            laptop.Memories.Save(new MemoryRecord { Id = "m" + i, Category = "note", Content = planted[i].Text, DeviceId = "laptop", Timestamp = time.GetUtcNow() });
        }

        await laptop.SyncAsync();
        await phone.SyncAsync();
        List<MemoryRecord> Read(MemorySyncManager manager) => Enumerable.Range(0, planted.Count).Select(i => manager.Memories.Get("m" + i)!).ToList();
        return (planted, Read(phone), Read(laptop));
    }

    [Fact]
    public async Task On_ThePushedRecordsHoldNoPlantedSecret_AndTheLaptopKeepsItsOriginals()
    {
        (List<PlantedCorpus> planted, List<MemoryRecord> received, List<MemoryRecord> local) = await PushAsync(SecretScrubber.Default);

        for (int i = 0; i < planted.Count; i++)
        {
            foreach (PlantedSecret secret in planted[i].Secrets)
            {
                Assert.DoesNotContain(secret.Value, received[i].Content, StringComparison.Ordinal);
            }

            Assert.Equal(planted[i].Expected, received[i].Content);
            Assert.Equal(planted[i].Text, local[i].Content);
        }
    }

    [Fact]
    public async Task Off_ThePushedRecordsAreUnchanged()
    {
        (List<PlantedCorpus> planted, List<MemoryRecord> received, _) = await PushAsync(null);

        Assert.Equal(planted.Select(p => p.Text), received.Select(r => r.Content));
    }

    [Fact]
    public void AddMemoryScrubbing_SetsThePushScrubber_OnlyWhenAsked()
    {
        var on = new ServiceCollection();
        on.AddGhostieSync(o => o.Home = "/tmp/unused").AddMemoryScrubbing();
        var off = new ServiceCollection();
        off.AddGhostieSync(o => o.Home = "/tmp/unused");

        using ServiceProvider withScrubbing = on.BuildServiceProvider();
        using ServiceProvider without = off.BuildServiceProvider();
        Assert.Same(SecretScrubber.Default, withScrubbing.GetRequiredService<IOptions<GhostieSyncOptions>>().Value.PushScrubber);
        Assert.Null(without.GetRequiredService<IOptions<GhostieSyncOptions>>().Value.PushScrubber);
    }
}
