using Ghostie.Sync.Testing;
using Ghostie.Sync.Vectors.PgVector;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

/// <summary>One PGlite server (PostgreSQL in WASM with pgvector) for the pgvector test classes. PGlite runs one
/// database session for every connection it multiplexes, so clients use <c>Maximum Pool Size=1</c>: one connection,
/// whose commands and transactions never interleave with another's.</summary>
public sealed class PgliteFixture : IAsyncLifetime
{
    private ServerProcess? _server;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _server = await Servers.StartPgliteAsync();
        ConnectionString = $"Host=127.0.0.1;Port={_server.Port};Username=postgres;Password=postgres;Database=postgres;SSL Mode=Disable;Maximum Pool Size=1;Timeout=30;Command Timeout=60";
    }

    public PgVectorStore CreateStore(Action<PgVectorOptions>? configure = null)
    {
        var options = new PgVectorOptions { ConnectionString = ConnectionString };
        configure?.Invoke(options);
        return new PgVectorStore(options);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PgliteCollection : ICollectionFixture<PgliteFixture>
{
    public const string Name = "pglite";
}
