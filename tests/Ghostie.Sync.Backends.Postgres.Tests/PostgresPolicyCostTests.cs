using Ghostie.Sync.Backends.Postgres;
using Npgsql;

namespace Ghostie.Sync.Tests;

/// <summary>The row-level security policies must cost one index lookup per statement, whatever the number of
/// repositories: the load benchmark found pushes slowing as users grew (docs/performance.md, "Load").</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresPolicyCostTests(PostgresFixture postgres)
{
    [Fact]
    public async Task WriteChecks_WithManyRepositories_UseTheRepositoryKey_NotAScanOfEveryRepository()
    {
        await using PostgresBackend backend = postgres.NewBackend();
        await backend.PutAsync("probe", new MemoryStream([1, 2, 3]));
        // 3,000 repositories of other owners beside the tenant's own.
        await postgres.Server.ExecuteAsync(
            "INSERT INTO ghostie.repositories (repository, owner) SELECT 'many-' || g || '-' || md5(random()::text), 'someone_' || g FROM generate_series(1, 3000) g ON CONFLICT DO NOTHING; ANALYZE ghostie.repositories;",
            PostgresFixture.Database);

        await using var connection = new NpgsqlConnection(postgres.TenantAConnectionString);
        await connection.OpenAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        var plans = new List<string>();
        foreach (string sql in (string[])[
            "INSERT INTO ghostie.chunks (repository, name, version, seq, data, written_at) VALUES (@r, 'plan-probe', 1, 0, '\\x00', now())",
            "INSERT INTO ghostie.objects (repository, name, version, size, chunks, written_at) VALUES (@r, 'plan-probe', 1, 1, 1, now())",
            "UPDATE ghostie.objects SET version = 2 WHERE repository = @r AND name = 'plan-probe'",
            "SELECT version FROM ghostie.objects WHERE repository = @r AND name = 'probe'"])
        {
            await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql, connection, transaction);
            explain.Parameters.AddWithValue("r", backend.Repository);
            await using NpgsqlDataReader reader = await explain.ExecuteReaderAsync();
            var plan = new List<string>();
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }

            plans.Add(sql + "\n" + string.Join("\n", plan));
        }

        await transaction.RollbackAsync();
        foreach (string plan in plans)
        {
            Assert.DoesNotContain("Seq Scan on repositories", plan, StringComparison.Ordinal);
        }
    }
}
