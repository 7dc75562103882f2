using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Pinecone.Tests;

/// <summary>The Pinecone tier against the Pinecone double: the shared vector tier conformance suite (the suite's data
/// properties are opted in, since its filters need them on the server).</summary>
public sealed class PineconeTierConformanceTests(PineconeFixture pinecone) : VectorTierConformanceTests, IClassFixture<PineconeFixture>
{
    protected override Task<IVectorStore> CreateStoreAsync() =>
        Task.FromResult<IVectorStore>(pinecone.CreateStore(o =>
        {
            foreach (string property in DataProperties)
            {
                o.SendDataProperties.Add(property);
            }
        }));
}
