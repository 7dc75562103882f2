using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Weaviate.Tests;

/// <summary>The Weaviate tier against the Weaviate double: the shared vector tier conformance suite (the suite's data
/// properties are opted in, since its filters need them on the server).</summary>
public sealed class WeaviateTierConformanceTests(WeaviateFixture weaviate) : VectorTierConformanceTests, IClassFixture<WeaviateFixture>
{
    protected override Task<IVectorStore> CreateStoreAsync() =>
        Task.FromResult<IVectorStore>(weaviate.CreateStore(o =>
        {
            foreach (string property in DataProperties)
            {
                o.SendDataProperties.Add(property);
            }
        }));
}
