using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>The shared sync protocol suite with its repository in PostgreSQL (tenant A, a fresh repository per test);
/// each device has a backend (and connection pool) of its own on the repository, as a second machine would.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresSyncProtocolTests(PostgresFixture postgres) : SyncProtocolConformanceTests
{
    private string _repository = "";

    public static new TheoryData<int, int, int, SimulationWorkload, bool> SimulationRuns => new()
    {
        { 11, 3, 120, SimulationWorkload.EditsAndSyncs, true },
        { 5, 2, 80, SimulationWorkload.EditsAndSyncs, true },
    };

    protected override Task<Func<Task<IStorageBackend>>> CreateStoreAsync()
    {
        string repository = _repository = PostgresFixture.NewRepositoryName();
        return Task.FromResult<Func<Task<IStorageBackend>>>(() => Task.FromResult<IStorageBackend>(new PostgresBackend(postgres.Options(repository))));
    }

    /// <summary>What the database holds: the names the backend lists, and ciphertext only (no memory text, no device name).</summary>
    protected override async Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts)
    {
        List<object?> rows = await postgres.Server.QueryAsync(
            $"SELECT name FROM ghostie.objects WHERE repository = '{_repository}' ORDER BY name COLLATE \"C\"", PostgresFixture.Database);
        List<string> names = await cluster.Storage.ListAsync("").ToListAsync();
        Assert.NotEmpty(names);
        Assert.Equal(names, rows.Cast<string>());
        foreach (string text in plaintexts.Append("laptop memory").Append("phone"))
        {
            List<object?> hits = await postgres.Server.QueryAsync(
                $"SELECT count(*) FROM ghostie.chunks WHERE repository = '{_repository}' AND position('{text}'::bytea IN data) > 0", PostgresFixture.Database);
            Assert.Equal(0L, hits.Single());
        }
    }
}
