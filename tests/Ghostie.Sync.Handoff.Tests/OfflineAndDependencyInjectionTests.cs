using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff.Tests.Support;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Handoff.Tests;

public sealed class OfflineTests
{
    [Fact]
    public void OfflinePackage_HasTheSeedsParts_AndSurvivesSaveLoad()
    {
        using var folder = new TempFolder();
        HandoffPackage package = RebuildTests.RandomPackage(new Random(4));
        var store = new OfflineStore(new GhostieHome(folder.Path));
        OfflinePackage offline = OfflinePackage.From(package, DateTimeOffset.UnixEpoch);

        Assert.Equal(10, offline.LastMessages.Count);
        Assert.Equal(package.Context.Thread.Where(e => e.Kind == ThreadEntryKinds.Verbatim).TakeLast(10).Select(e => e.Text), offline.LastMessages.Select(e => e.Text));
        Assert.Equal(package.Context.KeyDecisions, offline.KeyDecisions);
        Assert.Same(package.Context.ProjectState, offline.ProjectState);
        Assert.Equal(package.Agents.Select(a => a.Id), offline.AgentSnapshots.Select(a => a.Id));
        Assert.All(offline.AgentSnapshots, a => Assert.Empty(a.ContextWindow.Messages));

        store.Save(offline);
        OfflinePackage? loaded = store.Load(package.PackageId);
        Assert.NotNull(loaded);
        Assert.Equal(offline.LastMessages.Select(e => e.Text), loaded.LastMessages.Select(e => e.Text));
        Assert.Null(store.Load("ffffffffffffffffffffffff"));
    }

    [Fact]
    public async Task OfflineWork_MergedOnReconnection_ThroughTheNormalSync()
    {
        using var folder = new TempFolder();
        var storage = new FileSystemBackend(Path.Combine(folder.Path, "repo"));
        using RepositoryKeys keys = await RepositoryKeys.InitializeAsync(storage, Repository.Passphrase, "primary", Repository.KeyOptions());
        var phoneHome = new GhostieHome(Path.Combine(folder.Path, "phone"));
        var laptopHome = new GhostieHome(Path.Combine(folder.Path, "laptop"));
        phoneHome.EnsureCreated();
        laptopHome.EnsureCreated();
        using MemorySyncManager phone = MemorySyncManager.Create(storage, keys, new GhostieSyncOptions { Home = phoneHome.Root }, "phone");
        using MemorySyncManager laptop = MemorySyncManager.Create(storage, keys, new GhostieSyncOptions { Home = laptopHome.Root }, "laptop");

        // Offline on the phone: work is queued.
        var store = new OfflineStore(phoneHome);
        OfflineWorkItem decision = store.Enqueue("decision", "Keep failed queue items for a week.", "session-42");
        store.Enqueue("note", "Ask Bob about the Android keystore.");
        Assert.Equal(2, store.Queue().Count);

        // Reconnected: merged, pushed by the normal sync, pulled by the laptop.
        OfflineMergeResult merged = await store.MergeAsync(phone);
        Assert.Equal(2, merged.MemoriesCreated);
        Assert.True(merged.Sync.Success);
        Assert.Equal(2, merged.Sync.Uploaded);
        Assert.Empty(store.Queue());
        await laptop.PullAsync();
        MemoryRecord? onLaptop = laptop.Memories.Get("offline-" + decision.Id);
        Assert.NotNull(onLaptop);
        Assert.Equal(("handoff-decision", "Keep failed queue items for a week.", "phone"), (onLaptop.Category, onLaptop.Content, onLaptop.DeviceId));
        Assert.Equal("session-42", onLaptop.Context!.Value.GetProperty("conversation_id").GetString());

        // Merging again creates nothing new.
        OfflineMergeResult again = await store.MergeAsync(phone);
        Assert.Equal(0, again.MemoriesCreated);
    }

    [Fact]
    public void Queue_BadKindOrMalformedFile_ClearErrors()
    {
        using var folder = new TempFolder();
        var store = new OfflineStore(new GhostieHome(folder.Path));
        Assert.Equal(GhostieErrorCode.InvalidArgument, Assert.Throws<GhostieSyncException>(() => store.Enqueue("../x", "t")).Code);
        Directory.CreateDirectory(Path.Combine(folder.Path, "handoff"));
        File.WriteAllText(Path.Combine(folder.Path, "handoff", "queue.json"), "{not json");
        var error = Assert.Throws<GhostieSyncException>(() => store.Queue());
        Assert.Equal(GhostieErrorCode.MalformedLocalFile, error.Code);
        Assert.Equal("{not json", File.ReadAllText(Path.Combine(folder.Path, "handoff", "queue.json"))); // left as is
    }
}

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddHandoff_OpensAServiceOverTheConfiguredHome()
    {
        using var folder = new TempFolder();
        string repo = Path.Combine(folder.Path, "repo");
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.Combine(folder.Path, "home"))
            .AddFileSystemBackend(o => o.Path = repo)
            .AddHandoff(o => o.TimeToLive = TimeSpan.FromHours(3))
            .AddHandoff(); // safe twice
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        GhostieHandoffClient client = provider.GetRequiredService<GhostieHandoffClient>();
        Assert.IsType<ExtractiveCompressor>(client.Compressor);
        Assert.Equal(TimeSpan.FromHours(3), provider.GetRequiredService<IOptions<HandoffOptions>>().Value.TimeToLive);
        using (MemorySyncManager _ = await provider.GetRequiredService<GhostieSyncClient>().SetupAsync(
            new SyncConfiguration { DeviceId = "laptop", Settings = { ["path"] = repo } }, Repository.Passphrase))
        {
        }

        using HandoffService service = await client.OpenAsync();
        Assert.Equal("laptop", service.DeviceId);
        HandoffCreateResult created = await service.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript() });
        Assert.NotNull(created.ExpiresAt);
    }

    [Fact]
    public void AddHandoff_InvalidOptions_FailAtStart()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = "/tmp/x").AddHandoff(o => o.BrotliQuality = 12);
        using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("BrotliQuality", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddHandoff_Abstractive_UsesTheRegisteredChatClient_OrFailsAtStartWithout()
    {
        var without = new ServiceCollection();
        without.AddGhostieSync(o => o.Home = "/tmp/x").AddHandoff(o => o.UseAbstractiveCompression = true);
        using (ServiceProvider provider = without.BuildServiceProvider())
        {
            var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
            Assert.Contains("IChatClient", error.Message, StringComparison.Ordinal);
        }

        var with = new ServiceCollection();
        with.AddSingleton<IChatClient>(new NoChatClient());
        with.AddGhostieSync(o => o.Home = "/tmp/x").AddHandoff(o => o.UseAbstractiveCompression = true);
        using ServiceProvider ok = with.BuildServiceProvider();
        ok.GetRequiredService<IStartupValidator>().Validate();
        Assert.IsType<AbstractiveCompressor>(ok.GetRequiredService<IContextCompressor>());
    }

    private sealed class NoChatClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
