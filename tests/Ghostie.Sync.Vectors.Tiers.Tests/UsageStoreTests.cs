using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

/// <summary>Usage and stale marks survive a restart through <see cref="IVectorUsageStore"/>; the hosted service saves and rebalances.</summary>
public sealed class UsageStoreTests : IDisposable
{
    private static readonly float[] V1 = [1, 0, 0, 0];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ghostie-usage-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static VectorRecord Version(string key, float[] vector, string version) =>
        new(key, vector, new Dictionary<string, string> { ["version"] = version });

    private async Task<TieredVectorCollection> RestartThroughStoreAsync(TierRig rig, TieredVectorCollection running)
    {
        var store = new FileVectorUsageStore(_dir, rig.Time);
        await store.SaveAsync("notes", running.ExportState());
        TieredVectorCollection restarted = rig.Reopen();
        VectorUsageState? state = await new FileVectorUsageStore(_dir, rig.Time).LoadAsync("notes");
        Assert.NotNull(state);
        restarted.ImportState(state);
        return restarted;
    }

    [Fact]
    public async Task InterruptedMove_ThenUpdate_ThenRestart_ServesTheNewCopy_CountsOne_AndTheRebalanceCleans()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([Version("k", V1, "1")]);
        rig.Time.Advance(TimeSpan.FromDays(8));
        rig[VectorTier.Context].FailDeletes = true;
        VectorRebalanceReport moved = await rig.Collection.RebalanceAsync(); // copied to historical, the context copy stays
        Assert.Equal(VectorTier.Historical, Assert.Single(moved.Moves).To);
        rig[VectorTier.Context].FailDeletes = false;
        await rig.Collection.UpsertAsync([Version("k", [0.9f, 0.1f, 0, 0], "2")]);

        TieredVectorCollection restarted = await RestartThroughStoreAsync(rig, rig.Collection);

        Assert.Equal(1, await restarted.CountAsync());
        TieredSearchResult hits = await restarted.SearchWithReportAsync(V1);
        Assert.Equal("2", Assert.Single(hits.Results).Record.Data!["version"]);
        await restarted.RebalanceAsync(); // the stale context copy is deleted (the update, a use, then brings k back to context)
        var holder = Assert.Single(rig.Tiers, t => t.Key != VectorTier.Edge && t.Value.Keys.Contains("k"));
        Assert.Equal("2", (await holder.Value.GetAsync("k"))!.Data!["version"]);
        Assert.Equal(restarted.GetUsage("k")!.Tier, holder.Key);
        Assert.Equal("2", (await rig[VectorTier.Edge].GetAsync("k"))!.Data!["version"]); // the edge caches the new version
        Assert.Empty(restarted.GetStaleCopies());
        Assert.Equal(1, await restarted.CountAsync());
    }

    [Fact]
    public async Task FailedDelete_ThenRestart_TheVectorNeverComesBack()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([Version("gone", V1, "1"), Version("kept", [0, 1, 0, 0], "1")]);
        rig[VectorTier.Context].FailDeletes = true;
        await Assert.ThrowsAsync<GhostieSyncException>(() => rig.Collection.DeleteAsync("gone"));
        rig[VectorTier.Context].FailDeletes = false;

        TieredVectorCollection restarted = await RestartThroughStoreAsync(rig, rig.Collection);

        Assert.Equal(["kept"], (await restarted.SearchWithReportAsync(V1)).Results.Select(r => r.Record.Key));
        Assert.Null(await restarted.GetAsync("gone"));
        Assert.Equal(1, await restarted.CountAsync());
        await restarted.RebalanceAsync();
        Assert.Equal(["kept"], rig[VectorTier.Context].Keys);
    }

    [Fact]
    public async Task FileStore_RoundTripsTheState_AtomicallyWithAVersionedOwnerOnlyFile()
    {
        var time = new TierClock(TierRig.Start);
        var store = new FileVectorUsageStore(_dir, time);
        var state = new VectorUsageState(
            [
                new VectorUsage("a", VectorTier.Critical, TierRig.Start, TierRig.Start.AddMinutes(3), 7, 6.5, 0.95, 0.81, true),
                new VectorUsage("b-2", VectorTier.Historical, TierRig.Start.AddDays(-30), TierRig.Start.AddDays(-9), 1, 0.01, 0, -0.2, false),
            ],
            [new VectorStaleCopy("gone", VectorTier.Context), new VectorStaleCopy("a", VectorTier.Edge)]);

        Assert.Null(await store.LoadAsync("notes"));
        await store.SaveAsync("notes", state);
        await store.SaveAsync("notes", state); // replacing works too

        VectorUsageState loaded = (await store.LoadAsync("notes"))!;
        Assert.Equal(state.Usages, loaded.Usages);
        Assert.Equal(state.StaleCopies, loaded.StaleCopies);
        string path = store.PathFor("notes");
        Assert.Equal(["notes.usage.json"], Directory.GetFiles(_dir).Select(Path.GetFileName)); // no temporary file left
        Assert.Contains("\"format\": 1", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Theory]
    [InlineData("{\"format\": 1, \"collection\": \"notes\", \"usages\": [{\"key\": \"a\"", GhostieErrorCode.IntegrityFailure)] // truncated
    [InlineData("{\"format\": 1, \"collection\": \"notes\", \"usages\": [{\"key\": \"a\", \"tier\": \"Basement\"}], \"staleCopies\": []}", GhostieErrorCode.IntegrityFailure)]
    [InlineData("{\"format\": 1, \"collection\": \"other\", \"usages\": [], \"staleCopies\": []}", GhostieErrorCode.IntegrityFailure)]
    [InlineData("not json at all", GhostieErrorCode.IntegrityFailure)]
    [InlineData("{\"format\": 2, \"collection\": \"notes\"}", GhostieErrorCode.UnsupportedFormat)]
    public async Task FileStore_UnreadableFile_IsReportedAndSetAside(string content, GhostieErrorCode code)
    {
        var store = new FileVectorUsageStore(_dir);
        Directory.CreateDirectory(_dir);
        await File.WriteAllTextAsync(store.PathFor("notes"), content);

        var error = await Assert.ThrowsAsync<VectorUsageStoreException>(() => store.LoadAsync("notes"));

        Assert.Equal(code, error.Code);
        Assert.Contains(store.PathFor("notes"), error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(store.PathFor("notes")));
        Assert.Equal(content, await File.ReadAllTextAsync(error.SetAsideTo!)); // kept, not destroyed
        Assert.Null(await store.LoadAsync("notes"));
    }

    [Fact]
    public async Task Store_CorruptUsageFile_OpensTheCollectionAnyway_AndReportsIt()
    {
        Directory.CreateDirectory(_dir);
        await File.WriteAllTextAsync(Path.Combine(_dir, "notes.usage.json"), "{ broken");
        var services = new ServiceCollection();
        services.AddGhostieSync().AddVectorTiers(o => o.UsageDirectory = _dir).AddVectorTier(VectorTier.Context, _ => new MemoryVectorStore());
        await using ServiceProvider provider = services.BuildServiceProvider();

        TieredVectorCollection collection = await provider.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync("notes", TierRig.Model);

        Assert.Contains("cannot be read", collection.UsageRestoreProblem, StringComparison.Ordinal);
        Assert.Empty(collection.ExportUsage());
        await collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        Assert.Equal(1, await provider.GetRequiredService<TieredVectorStore>().SaveUsageAsync());
        Assert.Equal("k", Assert.Single((await new FileVectorUsageStore(_dir).LoadAsync("notes"))!.Usages).Key);
    }

    [Fact]
    public async Task Store_ThroughDependencyInjection_RestoresUsageAndStaleMarksInTheNextProcess()
    {
        var tiers = new Dictionary<VectorTier, MemoryVectorStore> { [VectorTier.Edge] = new(), [VectorTier.Context] = new(), [VectorTier.Historical] = new() };
        ServiceProvider Build()
        {
            var services = new ServiceCollection();
            IGhostieSyncBuilder builder = services.AddGhostieSync().AddVectorTiers(o => o.UsageDirectory = _dir);
            foreach ((VectorTier tier, MemoryVectorStore store) in tiers)
            {
                builder.AddVectorTier(tier, _ => store);
            }

            return services.BuildServiceProvider();
        }

        await using (ServiceProvider first = Build())
        {
            TieredVectorStore store = first.GetRequiredService<TieredVectorStore>();
            TieredVectorCollection collection = await store.GetOrCreateCollectionAsync("notes", TierRig.Model);
            await collection.UpsertAsync([TierRig.Record("gone", 1, 0, 0, 0), TierRig.Record("kept", 0, 1, 0, 0)]);
            collection.RecordInteraction("kept", 0.5);
            tiers[VectorTier.Context].Collections["notes"].FailDeletes = true;
            await Assert.ThrowsAsync<GhostieSyncException>(() => collection.DeleteAsync("gone"));
            Assert.Equal(1, await store.SaveUsageAsync());
            Assert.Equal(0, await store.SaveUsageAsync()); // nothing changed since
        }

        tiers[VectorTier.Context].Collections["notes"].FailDeletes = false;
        await using ServiceProvider second = Build();
        TieredVectorCollection reopened = await second.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync("notes", TierRig.Model);

        Assert.Null(reopened.UsageRestoreProblem);
        Assert.Equal(0.5, reopened.GetUsage("kept")?.InteractionScore);
        Assert.Equal([("gone", VectorTier.Context)], reopened.GetStaleCopies());
        Assert.Equal(1, await reopened.CountAsync());
    }

    [Fact]
    public async Task HostedService_RebalancesOnItsInterval_AndSavesTheUsage()
    {
        var time = new TierClock(TierRig.Start);
        var context = new MemoryVectorStore();
        var historical = new MemoryVectorStore();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddGhostieSync()
            .AddVectorTiers(o => { o.UsageDirectory = _dir; o.RebalanceInterval = TimeSpan.FromHours(6); o.UsageSaveInterval = TimeSpan.FromMinutes(5); })
            .AddVectorTiers() // registered once however often it is called
            .AddVectorTier(VectorTier.Context, _ => context)
            .AddVectorTier(VectorTier.Historical, _ => historical);
        await using ServiceProvider provider = services.BuildServiceProvider();
        VectorTierMaintenanceService service = Assert.IsType<VectorTierMaintenanceService>(Assert.Single(provider.GetServices<IHostedService>()));
        Assert.IsType<FileVectorUsageStore>(provider.GetRequiredService<IVectorUsageStore>());
        TieredVectorCollection collection = await provider.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync("notes", TierRig.Model);
        await collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        string file = Path.Combine(_dir, "notes.usage.json");

        await service.StartAsync(CancellationToken.None);
        try
        {
            // Five minutes: a save, no rebalance yet.
            await AdvanceUntilAsync(time, TimeSpan.FromMinutes(5), () => File.Exists(file));
            Assert.Equal(0, service.RebalancesRun);
            Assert.Equal(["k"], context.Collections["notes"].Keys);

            // Eight days idle, then the next six-hourly pass demotes k and saves where it went.
            time.Advance(TimeSpan.FromDays(8));
            await AdvanceUntilAsync(time, TimeSpan.FromMinutes(5), () => service.RebalancesRun > 0 && historical.Collections["notes"].Keys.Count == 1);
            Assert.Empty(context.Collections["notes"].Keys);
            await AdvanceUntilAsync(time, TimeSpan.FromMinutes(5), () => File.ReadAllText(file).Contains("\"Historical\"", StringComparison.Ordinal));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }

        collection.RecordInteraction("k", 0.7);
        Assert.Equal(VectorTier.Historical, Assert.Single((await new FileVectorUsageStore(_dir).LoadAsync("notes"))!.Usages).Tier);
    }

    private static async Task AdvanceUntilAsync(TierClock time, TimeSpan step, Func<bool> done)
    {
        for (int i = 0; i < 500 && !done(); i++)
        {
            time.Advance(step);
            await Task.Delay(20);
        }

        Assert.True(done(), "the hosted service did not get there");
    }
}
