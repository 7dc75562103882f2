using Ghostie.Sync.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>The sync protocol end to end over the gist backend: two devices, each with its own backend instance on
/// the same gist account, pushing, pulling, conflicting and converging.</summary>
public sealed class SyncProtocolTests : IAsyncLifetime
{
    private const string Passphrase = "gist sync passphrase";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-gist-sync-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero));
    private GistDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = new GistDouble(GistDoubleFixture.Token);
        Directory.CreateDirectory(_root);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private static RepositoryKeyOptions KeyOptions() => new() { Pbkdf2Iterations = 1_000, AllowWeakKdfForTesting = true };

    private async Task<MemorySyncManager> DeviceAsync(string id)
    {
        GitHubGistBackendOptions options = TestOptions.For(_server, tag: "sync");
        options.InlineMaxBytes = 16 * 1024; // packs above this go through chunks and commit records
        options.ChunkSize = 64 * 1024;
        var backend = new GitHubGistBackend(options);
        RepositoryKeys keys;
        try
        {
            keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, KeyOptions());
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.RepositoryNotInitialized)
        {
            keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, "primary", KeyOptions());
        }

        var sync = new GhostieSyncOptions { Home = Path.Combine(_root, id), TimeProvider = _time, PackTargetBytes = 64 * 1024, CompactAfterPacks = 3 };
        new GhostieHome(sync.Home).EnsureCreated();
        return MemorySyncManager.Create(backend, keys, sync, id, id + " device", ownsKeys: true);
    }

    private MemoryRecord Add(MemorySyncManager device, string id, string content)
    {
        _time.Advance(TimeSpan.FromMilliseconds(11));
        var record = new MemoryRecord { Id = id, Category = "note", Content = content, DeviceId = device.DeviceId, Timestamp = _time.GetUtcNow() };
        device.Memories.Save(record);
        return record;
    }

    private static SortedDictionary<string, string> Snapshot(MemorySyncManager device)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (LocalMemoryFile file in device.Memories.Scan())
        {
            Assert.True(file.Record is not null, $"{file.Path}: {file.Problem}");
            result[file.Id] = file.Record.Content;
        }

        return result;
    }

    [Fact]
    public async Task TwoDevices_PushPullEditConflict_AndConverge()
    {
        using MemorySyncManager a = await DeviceAsync("laptop");
        using MemorySyncManager b = await DeviceAsync("phone");
        var random = new Random(17);
        for (int i = 0; i < 60; i++)
        {
            Add(a, $"laptop-{i:d4}", $"memory {i} " + new string(Enumerable.Range(0, random.Next(200, 3000)).Select(_ => (char)('a' + random.Next(26))).ToArray()));
        }

        SyncResult first = await a.SyncAsync();
        Assert.True(first.Success, string.Join("; ", first.Problems.Select(p => p.Message)));
        Assert.Equal(60, first.Uploaded);

        SyncResult pulled = await b.SyncAsync();
        Assert.True(pulled.Success, string.Join("; ", pulled.Problems.Select(p => p.Message)));
        Assert.Equal(60, pulled.Downloaded);
        Assert.Equal(Snapshot(a), Snapshot(b));

        // Both edit the same memory offline, and each adds its own.
        MemoryRecord shared = a.Memories.Get("laptop-0007")!;
        _time.Advance(TimeSpan.FromSeconds(1));
        a.Memories.Save(shared with { Content = "edited on the laptop" });
        b.Memories.Save(b.Memories.Get("laptop-0007")! with { Content = "edited on the phone" });
        Add(b, "phone-0001", "from the phone");
        Assert.True(b.Memories.Delete("laptop-0003"));

        for (int round = 0; round < 3; round++)
        {
            Assert.True((await a.SyncAsync()).Success);
            Assert.True((await b.SyncAsync()).Success);
        }

        Assert.Equal(Snapshot(a), Snapshot(b));
        Assert.Contains("phone-0001", Snapshot(a).Keys);
        Assert.DoesNotContain("laptop-0003", Snapshot(a).Keys);
        Assert.Contains(Snapshot(a)["laptop-0007"], new[] { "edited on the laptop", "edited on the phone" });
        Assert.NotEmpty(a.ListConflicts());
        Assert.Equal(a.ListConflicts().Count, b.ListConflicts().Count);

        Assert.Contains(_server.GistsTagged("sync").SelectMany(g => g.Files.Keys), f => f.StartsWith("c.", StringComparison.Ordinal)); // chunked packs took part

        // Nothing in the account reveals a memory: every file is ciphertext under an opaque name.
        foreach (DoubleGist gist in _server.GistsTagged("sync"))
        {
            Assert.False(gist.Public);
            foreach (string file in gist.Files.Keys)
            {
                Assert.DoesNotContain("laptop", file, StringComparison.Ordinal);
                string text = System.Text.Encoding.UTF8.GetString(_server.ReadFile(gist.Id, file));
                Assert.DoesNotContain("edited on", text, StringComparison.Ordinal);
                Assert.DoesNotContain("memory 1", text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void DependencyInjection_RegistersTheBackend_AndValidatesAtStart()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = _root).AddGitHubGistBackend(o =>
        {
            o.Token = GistDoubleFixture.Token;
            o.ApiBaseUri = _server.BaseUri;
            o.RepositoryTag = "di";
        });
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var backend = Assert.IsType<GitHubGistBackend>(provider.GetRequiredService<IStorageBackend>());
        Assert.Contains("'di'", backend.DisplayName, StringComparison.Ordinal);

        var bad = new ServiceCollection();
        bad.AddGhostieSync(o => o.Home = _root).AddGitHubGistBackend(o =>
        {
            o.Token = GistDoubleFixture.Token;
            o.RepositoryTag = "UPPER CASE";
            o.ChunkSize = 10;
        });
        using ServiceProvider badProvider = bad.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("RepositoryTag", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChunkSize", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(GistDoubleFixture.Token, error.Message, StringComparison.Ordinal);
    }

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
