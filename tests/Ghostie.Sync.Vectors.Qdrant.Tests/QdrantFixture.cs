using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Qdrant.Tests;

/// <summary>One Qdrant double for a test class; each store gets its own user, so its own collections.</summary>
public sealed class QdrantFixture : IAsyncLifetime
{
    public const string Key = "qdrant-test-key-5f1c";

    public QdrantDouble Double { get; } = new(Key, readOnlyKey: "qdrant-read-only-key");

    public QdrantVectorStore CreateStore(Action<QdrantVectorOptions>? configure = null)
    {
        var options = new QdrantVectorOptions { Endpoint = Double.Uri, ApiKey = Key, UserId = "u" + Guid.NewGuid().ToString("N")[..10] };
        options.Retry.BaseDelay = TimeSpan.Zero;
        options.Retry.MaxDelay = TimeSpan.Zero;
        configure?.Invoke(options);
        return new QdrantVectorStore(options);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Double.DisposeAsync();
}
