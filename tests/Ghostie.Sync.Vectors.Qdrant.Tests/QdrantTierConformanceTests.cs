using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Qdrant.Tests;

/// <summary>The Qdrant tier against the Qdrant double: the shared vector tier conformance suite (the suite's data
/// properties are opted in, since its filters need them on the server).</summary>
public sealed class QdrantTierConformanceTests(QdrantFixture qdrant) : VectorTierConformanceTests, IClassFixture<QdrantFixture>
{
    protected override Task<IVectorStore> CreateStoreAsync() =>
        Task.FromResult<IVectorStore>(qdrant.CreateStore(o =>
        {
            foreach (string property in DataProperties)
            {
                o.SendDataProperties.Add(property);
            }
        }));
}
