using Ghostie.Sync.Vectors.PgVector;
using Microsoft.Extensions.DependencyInjection;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

/// <summary>pgvector as a real remote tier behind the tiered collection.</summary>
[Collection(PgliteCollection.Name)]
public sealed class PgVectorTierTests(PgliteFixture pglite)
{
    [Fact]
    public async Task TieredCollection_OverPgVector_MigratesAndSearchesThroughTheDatabase()
    {
        var edge = new MemoryVectorStore();
        var time = new TierClock(TierRig.Start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddGhostieSync()
            .AddVectorTier(VectorTier.Edge, _ => edge)
            .AddPgVectorTier(VectorTier.Context, o => { o.ConnectionString = pglite.ConnectionString; o.TablePrefix = "ctx_"; })
            .AddPgVectorTier(o => { o.ConnectionString = pglite.ConnectionString; o.TablePrefix = "hist_"; o.Distance = PgVectorDistance.InnerProduct; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        string name = "tiered-" + Guid.NewGuid().ToString("N")[..8];
        TieredVectorCollection collection = await provider.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync(name, TierRig.Model);
        List<VectorRecord> records = BruteForce.Clustered(12, TierRig.Model.Dimensions, seed: 5);

        await collection.UpsertAsync(records);
        time.Advance(TimeSpan.FromDays(8));
        VectorRebalanceReport report = await collection.RebalanceAsync();

        Assert.Equal(12, report.Moves.Count);
        Assert.Equal(12, report.Counts[VectorTier.Historical]);
        var historical = await provider.GetRequiredKeyedService<PgVectorStore>("pgvector-historical").GetOrCreateCollectionAsync(name, TierRig.Model);
        var context = await provider.GetRequiredKeyedService<PgVectorStore>("pgvector-context").GetOrCreateCollectionAsync(name, TierRig.Model);
        Assert.Equal(12, await historical.CountAsync());
        Assert.Equal(0, await context.CountAsync());

        float[] query = records[3].Vector.ToArray();
        TieredSearchResult result = await collection.SearchWithReportAsync(query, new VectorSearchOptions { Top = 4 });

        Assert.True(result.IsComplete);
        Assert.Equal(BruteForce.Search(records, query, new VectorSearchOptions { Top = 4 }).Select(r => r.Record.Key), result.Results.Select(r => r.Record.Key));
        Assert.Equal(4, edge.Collections[name + "-edge"].Keys.Count); // results were cached on the device
    }

    [Fact]
    public async Task TwoPgVectorTiersOnOneDatabaseWithTheDefaultPrefix_AreRefusedAtOpen_NamingBothTiersAndTheTable()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync()
            .AddPgVectorTier(VectorTier.Critical, o => o.ConnectionString = pglite.ConnectionString)
            .AddPgVectorTier(VectorTier.Historical, o => o.ConnectionString = pglite.ConnectionString);
        await using ServiceProvider provider = services.BuildServiceProvider();
        string name = "clash-" + Guid.NewGuid().ToString("N")[..8];

        var error = await Assert.ThrowsAsync<VectorTierConflictException>(() => provider.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync(name, TierRig.Model));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Equal(VectorTier.Critical, error.FirstTier);
        Assert.Equal(VectorTier.Historical, error.SecondTier);
        Assert.Contains(PgVectorStore.TableNameFor("ghostie_v_", name), error.Message, StringComparison.Ordinal);
        Assert.Contains("TablePrefix", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", error.Message, StringComparison.OrdinalIgnoreCase);

        // With a prefix per tier the same database serves both.
        var apart = new ServiceCollection();
        apart.AddGhostieSync()
            .AddPgVectorTier(VectorTier.Critical, o => { o.ConnectionString = pglite.ConnectionString; o.TablePrefix = "crit_"; })
            .AddPgVectorTier(VectorTier.Historical, o => o.ConnectionString = pglite.ConnectionString);
        await using ServiceProvider ok = apart.BuildServiceProvider();
        TieredVectorCollection collection = await ok.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync(name, TierRig.Model);
        await collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        Assert.Equal(1, await collection.CountAsync());
    }
}
