using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>
/// One PostgreSQL server for the test assembly, with a database "ghostie" owned by a plain (non-superuser) role that ran
/// the schema migration, and two tenant roles granted the use of the schema. Each test makes its own repository names.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string Database = "ghostie";
    public const string Owner = "ghostie_owner";
    public const string TenantA = "tenant_a";
    public const string TenantB = "tenant_b";

    private static int _repositories;
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgreSQL is not started.");

    public string OwnerPassword { get; } = "owner-pw-" + Guid.NewGuid().ToString("N")[..12];

    public string TenantAPassword { get; } = "alice-pw-" + Guid.NewGuid().ToString("N")[..12];

    public string TenantBPassword { get; } = "bob-pw-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Every password of this fixture: none may appear in an error or a log line.</summary>
    public IReadOnlyList<string> Secrets => [Server.SuperPassword, OwnerPassword, TenantAPassword, TenantBPassword];

    public string OwnerConnectionString => Server.ConnectionString(Owner, OwnerPassword, Database);

    public string TenantAConnectionString => Server.ConnectionString(TenantA, TenantAPassword, Database);

    public string TenantBConnectionString => Server.ConnectionString(TenantB, TenantBPassword, Database);

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        await Server.ExecuteAsync($"""
            CREATE ROLE {Owner} LOGIN PASSWORD '{OwnerPassword}';
            CREATE ROLE {TenantA} LOGIN PASSWORD '{TenantAPassword}';
            CREATE ROLE {TenantB} LOGIN PASSWORD '{TenantBPassword}';
            """);
        await Server.ExecuteAsync($"CREATE DATABASE {Database} OWNER {Owner}");
        await PostgresSchema.MigrateAsync(OwnerConnectionString);
        await PostgresSchema.GrantTenantAsync(OwnerConnectionString, TenantA);
        await PostgresSchema.GrantTenantAsync(OwnerConnectionString, TenantB);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A repository name no other test uses.</summary>
    public static string NewRepositoryName(string stem = "r") => $"{stem}-{Interlocked.Increment(ref _repositories)}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Options for tenant A on a fresh repository.</summary>
    public PostgresBackendOptions Options(string? repository = null, string? connectionString = null) => new()
    {
        ConnectionString = connectionString ?? TenantAConnectionString,
        Repository = repository ?? NewRepositoryName(),
        ChunkSizeBytes = 256 * 1024,
    };

    /// <summary>A backend of tenant A over a fresh, empty repository.</summary>
    public PostgresBackend NewBackend(Action<PostgresBackendOptions>? configure = null)
    {
        PostgresBackendOptions options = Options();
        configure?.Invoke(options);
        return new PostgresBackend(options);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
