using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

/// <summary>pgvector (on PGlite) with an exact scan: the shared vector tier conformance suite. Each store gets its own
/// table prefix, so every test starts from empty tables.</summary>
[Collection(PgliteCollection.Name)]
public sealed class PgVectorTierConformanceTests(PgliteFixture pglite) : VectorTierConformanceTests
{
    protected override Task<IVectorStore> CreateStoreAsync() =>
        Task.FromResult<IVectorStore>(pglite.CreateStore(o => { o.TablePrefix = "c" + Guid.NewGuid().ToString("N")[..8] + "_"; o.CreateHnswIndex = false; }));
}

/// <summary>pgvector with its HNSW index: the suite's exact-nearest checks hold on its small sets too.</summary>
[Collection(PgliteCollection.Name)]
public sealed class PgVectorHnswTierConformanceTests(PgliteFixture pglite) : VectorTierConformanceTests
{
    protected override Task<IVectorStore> CreateStoreAsync() =>
        Task.FromResult<IVectorStore>(pglite.CreateStore(o => { o.TablePrefix = "h" + Guid.NewGuid().ToString("N")[..8] + "_"; o.CreateHnswIndex = true; }));
}
