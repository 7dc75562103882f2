using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Pinecone.Tests;

/// <summary>One Pinecone double (one index) for a test class; each store gets its own user, so its own namespaces.</summary>
public sealed class PineconeFixture : IAsyncLifetime
{
    public const string Key = "pcsk_test_key_8c2e";

    public PineconeDouble Double { get; } = new(Key);

    public PineconeVectorStore CreateStore(Action<PineconeVectorOptions>? configure = null)
    {
        var options = new PineconeVectorOptions { Endpoint = Double.Uri, ApiKey = Key, UserId = "u" + Guid.NewGuid().ToString("N")[..10] };
        options.Retry.BaseDelay = TimeSpan.Zero;
        options.Retry.MaxDelay = TimeSpan.Zero;
        configure?.Invoke(options);
        return new PineconeVectorStore(options);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Double.DisposeAsync();
}
