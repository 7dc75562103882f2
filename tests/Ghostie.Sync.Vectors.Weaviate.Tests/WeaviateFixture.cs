using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Weaviate.Tests;

/// <summary>One Weaviate double for a test class; each store gets its own user, so its own collections.</summary>
public sealed class WeaviateFixture : IAsyncLifetime
{
    public const string Key = "weaviate-test-key-5f1c";

    public WeaviateDouble Double { get; } = new(Key, readOnlyKey: "weaviate-read-only-key");

    public WeaviateVectorStore CreateStore(Action<WeaviateVectorOptions>? configure = null)
    {
        var options = new WeaviateVectorOptions { Endpoint = Double.Uri, ApiKey = Key, UserId = "u" + Guid.NewGuid().ToString("N")[..10] };
        options.Retry.BaseDelay = TimeSpan.Zero;
        options.Retry.MaxDelay = TimeSpan.Zero;
        configure?.Invoke(options);
        return new WeaviateVectorStore(options);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Double.DisposeAsync();
}
