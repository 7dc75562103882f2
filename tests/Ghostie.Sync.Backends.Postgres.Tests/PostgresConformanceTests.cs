using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>The shared backend conformance suite against a real PostgreSQL 15, as a tenant role (row-level security on),
/// a fresh repository per test, 256 KiB chunks so the large object spans 256 rows.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresConformanceTests(PostgresFixture postgres) : BackendConformanceTests
{
    protected override bool ExpectConditionalWrites => true;

    protected override Task<IStorageBackend> CreateBackendAsync() => Task.FromResult<IStorageBackend>(postgres.NewBackend());
}
