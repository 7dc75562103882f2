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

    [Fact]
    public async Task Version1Database_IsMigratedToVersion2_KeepsItsRows_AndTheirOwner()
    {
        string database = "policy_v1_" + Guid.NewGuid().ToString("N")[..8];
        await postgres.Server.ExecuteAsync($"CREATE DATABASE {database} OWNER {PostgresFixture.Owner}");
        string owner = postgres.Server.ConnectionString(PostgresFixture.Owner, postgres.OwnerPassword, database);
        await using (var connection = new NpgsqlConnection(owner))
        {
            await connection.OpenAsync();
            await using var v1 = new NpgsqlCommand(Ghostie.Sync.Backends.Postgres.Internal.Sql.Migration("ghostie", 1)
                + "INSERT INTO ghostie.schema_version (version) VALUES (1);"
                + "INSERT INTO ghostie.repositories (repository) VALUES ('kept');"
                + "INSERT INTO ghostie.chunks VALUES ('kept', 'a/1', 7, 0, '\\x010203', now());"
                + "INSERT INTO ghostie.objects VALUES ('kept', 'a/1', 7, 3, 1, now());", connection);
            await v1.ExecuteNonQueryAsync();
        }

        await using var backend = new PostgresBackend(new PostgresBackendOptions { ConnectionString = owner, Repository = "kept" });
        await using (Stream? kept = await backend.GetAsync("a/1"))
        {
            var bytes = new MemoryStream();
            await kept!.CopyToAsync(bytes);
            Assert.Equal([1, 2, 3], bytes.ToArray());
        }

        Assert.Equal([1, 2], (await postgres.Server.QueryAsync("SELECT version FROM ghostie.schema_version ORDER BY version", database)).Cast<int>());
        List<object?> policies = await postgres.Server.QueryAsync(
            "SELECT tablename || ': ' || qual || ' / ' || with_check FROM pg_policies WHERE schemaname = 'ghostie' AND tablename IN ('objects', 'chunks') ORDER BY tablename", database);
        Assert.Equal(2, policies.Count);
        Assert.All(policies.Cast<string>(), p => Assert.Contains("EXISTS", p, StringComparison.Ordinal));
        // Another role still sees nothing of it.
        await PostgresSchema.GrantTenantAsync(owner, PostgresFixture.TenantB);
        await using var other = new NpgsqlConnection(postgres.Server.ConnectionString(PostgresFixture.TenantB, postgres.TenantBPassword, database));
        await other.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT (SELECT count(*) FROM ghostie.objects) + (SELECT count(*) FROM ghostie.chunks)", other);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }
}
