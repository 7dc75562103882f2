using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Testing;
using Npgsql;

namespace Ghostie.Sync.Tests;

/// <summary>Bad input and faults against the real server: wrong credentials, a missing database or table, the server
/// going away in the middle of a push, a full disk, a tenant reaching for another tenant's repository. Each ends in a
/// typed error naming what happened and what to do, with nothing lost and the repository readable after.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresFaultTests(PostgresFixture postgres)
{
    private static MemoryStream Bytes(params byte[] data) => new(data, writable: false);

    private static BackendRetryOptions TestRetry(RecordingTimeProvider clock, int attempts = 4) => new()
    {
        MaxAttempts = attempts,
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(2),
        AttemptTimeout = TimeSpan.FromSeconds(20),
        TimeProvider = clock,
        JitterSeed = 3,
    };

    private void AssertNoSecrets(Exception error, params string[] more)
    {
        string text = error.ToString();
        foreach (string secret in postgres.Secrets.Concat(more))
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WrongPassword_FailsAtOnce_AsAccessDenied_WithoutThePassword()
    {
        const string wrong = "wrong-password-Tq93kLx";
        var clock = new RecordingTimeProvider();
        PostgresBackendOptions options = postgres.Options(connectionString: postgres.Server.ConnectionString(PostgresFixture.TenantA, wrong, PostgresFixture.Database));
        options.Retry = TestRetry(clock);
        await using var backend = new PostgresBackend(options);

        var put = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.PutAsync("r/x", Bytes(1)));
        var get = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.GetAsync("r/x"));
        var list = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.ListAsync("").ToListAsync().AsTask());

        foreach (GhostieSyncException error in new[] { put, get, list })
        {
            Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
            Assert.False(error.IsTransient);
            Assert.Contains("refused the login", error.Message, StringComparison.Ordinal);
            Assert.Contains("role 'tenant_a'", error.Message, StringComparison.Ordinal);
            Assert.Contains("28P01", error.Message, StringComparison.Ordinal);
            AssertNoSecrets(error, wrong);
        }

        Assert.Empty(clock.Waits);
        Assert.DoesNotContain(wrong, backend.DisplayName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingDatabase_FailsAtOnce_AsStorageNotFound_NamingIt()
    {
        var clock = new RecordingTimeProvider();
        PostgresBackendOptions options = postgres.Options(connectionString: postgres.Server.ConnectionString(PostgresFixture.TenantA, postgres.TenantAPassword, "no_such_db"));
        options.Retry = TestRetry(clock);
        await using var backend = new PostgresBackend(options);

        var get = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.GetAsync("r/x"));
        var list = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.ListAsync("").ToListAsync().AsTask());

        foreach (GhostieSyncException error in new[] { get, list })
        {
            Assert.Equal(GhostieErrorCode.StorageNotFound, error.Code);
            Assert.Contains("database 'no_such_db'", error.Message, StringComparison.Ordinal);
            Assert.Contains("createdb", error.Message, StringComparison.Ordinal);
            AssertNoSecrets(error);
        }

        Assert.Empty(clock.Waits);
    }

    [Fact]
    public async Task MissingTable_IsStorageNotFound_NamingIt_AndTheRepositoryReadsAgainOnceRestored()
    {
        string database = await NewDatabaseAsync();
        string owner = postgres.Server.ConnectionString(PostgresFixture.Owner, postgres.OwnerPassword, database);
        var options = new PostgresBackendOptions { ConnectionString = owner, Repository = "solo" };
        await using (var backend = new PostgresBackend(options))
        {
            await backend.PutAsync("p/kept", Bytes(4, 5, 6));
        }

        // A table gone (dropped, or moved by an administrator's mistake): reported by name, nothing recreated over it.
        await postgres.Server.ExecuteAsync("ALTER TABLE ghostie.chunks RENAME TO chunks_aside", database);
        await using (var damaged = new PostgresBackend(options))
        {
            var error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => damaged.GetAsync("p/kept"));
            Assert.Equal(GhostieErrorCode.StorageNotFound, error.Code);
            Assert.Contains("ghostie.chunks", error.Message, StringComparison.Ordinal);
            Assert.Contains("backup", error.Message, StringComparison.Ordinal);
            AssertNoSecrets(error);
        }

        Assert.Equal(0L, (await postgres.Server.QueryAsync("SELECT count(*) FROM pg_tables WHERE schemaname = 'ghostie' AND tablename = 'chunks'", database)).Single());

        // Dropped while a backend is in use: the statement's failure names the missing table as well.
        await postgres.Server.ExecuteAsync("ALTER TABLE ghostie.chunks_aside RENAME TO chunks", database);
        await using var restored = new PostgresBackend(options);
        Assert.Equal(new byte[] { 4, 5, 6 }, await restored.ReadAllAsync("p/kept"));
        await postgres.Server.ExecuteAsync("ALTER TABLE ghostie.chunks RENAME TO chunks_aside", database);
        var midway = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => restored.GetAsync("p/kept"));
        Assert.Equal(GhostieErrorCode.StorageNotFound, midway.Code);
        Assert.Contains("42P01", midway.Message, StringComparison.Ordinal);
        await postgres.Server.ExecuteAsync("ALTER TABLE ghostie.chunks_aside RENAME TO chunks", database);
        Assert.Equal(new byte[] { 4, 5, 6 }, await restored.ReadAllAsync("p/kept"));
    }

    [Fact]
    public async Task ConnectionsKilledMidPush_AreRetried_AndTheObjectIsWhole()
    {
        var clock = new RecordingTimeProvider();
        await using PostgresBackend backend = postgres.NewBackend(o =>
        {
            o.ChunkSizeBytes = 64 * 1024;
            o.Retry = TestRetry(clock, attempts: 6);
        });
        await backend.PutAsync("p/old", Bytes(1));
        const long size = 3L * 1024 * 1024;
        int kills = 0;
        var source = new GeneratedStream(size, seed: 21, triggerAt: 1024 * 1024, trigger: () =>
        {
            // The server drops every connection of the role (as a restart or a failover would), mid-upload.
            kills = Task.Run(() => TerminateConnectionsAsync(PostgresFixture.TenantA)).GetAwaiter().GetResult();
        });

        await backend.PutAsync("p/big", source);

        Assert.True(kills > 0, "the trigger should have killed the backend's connections");
        Assert.NotEmpty(clock.Waits);
        await using Stream? read = await backend.GetAsync("p/big");
        Assert.NotNull(read);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        byte[] buffer = new byte[100_000];
        int n;
        while ((n = await read.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, n);
        }

        Assert.Equal(GeneratedStream.HashOf(size, seed: 21), hash.GetCurrentHash());
        Assert.Equal(new byte[] { 1 }, await backend.ReadAllAsync("p/old"));
    }

    [Fact]
    public async Task ServerGoneMidPush_FailsAsTransientUnavailable_OldObjectKept_AndPushWorksOnceItIsBack()
    {
        await using PostgresServer server = await PostgresServer.StartAsync();
        string password = "solo-" + Guid.NewGuid().ToString("N")[..10];
        await server.ExecuteAsync($"CREATE ROLE solo LOGIN PASSWORD '{password}'");
        await server.ExecuteAsync("CREATE DATABASE solo OWNER solo");
        var clock = new RecordingTimeProvider();
        var options = new PostgresBackendOptions
        {
            ConnectionString = server.ConnectionString("solo", password, "solo"),
            Repository = "notes",
            ChunkSizeBytes = 64 * 1024,
            Retry = TestRetry(clock, attempts: 3),
        };
        await using var backend = new PostgresBackend(options);
        byte[] first = new byte[200_000];
        new Random(5).NextBytes(first);
        await backend.PutAsync("h/dev", Bytes(first));

        var source = new GeneratedStream(2L * 1024 * 1024, seed: 8, triggerAt: 512 * 1024,
            trigger: () => Task.Run(server.StopServerAsync).GetAwaiter().GetResult());
        var error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.PutAsync("h/dev", source));

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("h/dev", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 attempt", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(password, error.ToString(), StringComparison.Ordinal);

        await server.StartServerAsync();
        Assert.Equal(first, await backend.ReadAllAsync("h/dev"));
        await backend.PutAsync("h/dev", Bytes(7, 7));
        Assert.Equal(new byte[] { 7, 7 }, await backend.ReadAllAsync("h/dev"));
        Assert.Equal(["h/dev"], await backend.ListAllAsync(""));
    }

    [Fact]
    public async Task DiskFull_IsATypedErrorNamingIt_NothingWritten_AndWritesWorkAfterSpaceIsFreed()
    {
        var clock = new RecordingTimeProvider();
        await using PostgresBackend backend = postgres.NewBackend(o =>
        {
            o.ChunkSizeBytes = 64 * 1024;
            o.Retry = TestRetry(clock);
        });
        await backend.PutAsync("p/small", Bytes(1, 2));
        byte[] large = new byte[300_000];
        new Random(9).NextBytes(large);
        await backend.PutAsync("p/large", Bytes(large));

        await using (await DiskFullAsync(backend.Repository))
        {
            foreach ((string name, byte[] data) in new[] { ("p/small", new byte[] { 3 }), ("p/large", new byte[500_000]), ("p/new", new byte[] { 4 }) })
            {
                var error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.PutAsync(name, Bytes(data)));
                Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
                Assert.False(error.IsTransient);
                Assert.Contains("disk is full", error.Message, StringComparison.Ordinal);
                Assert.Contains("53100", error.Message, StringComparison.Ordinal);
                Assert.Contains("Free space", error.Message, StringComparison.Ordinal);
                Assert.Contains(name, error.Message, StringComparison.Ordinal);
                AssertNoSecrets(error);
            }

            Assert.Empty(clock.Waits);
            Assert.Equal(new byte[] { 1, 2 }, await backend.ReadAllAsync("p/small"));
            Assert.Equal(large, await backend.ReadAllAsync("p/large"));
            Assert.Equal(["p/large", "p/small"], await backend.ListAllAsync("p/"));
        }

        // No chunk of the refused uploads stayed behind.
        Assert.Equal(0L, (await postgres.Server.QueryAsync(
            $"SELECT count(*) FROM ghostie.chunks c WHERE repository = '{backend.Repository}' AND NOT EXISTS (SELECT 1 FROM ghostie.objects o WHERE o.repository = c.repository AND o.name = c.name AND o.version = c.version)",
            PostgresFixture.Database)).Single());
        await backend.PutAsync("p/small", Bytes(3));
        Assert.Equal(new byte[] { 3 }, await backend.ReadAllAsync("p/small"));
    }

    [Fact]
    public async Task DiskFull_DuringASyncPush_LosesNoMemory_AndTheNextPushDeliversThem()
    {
        await using PostgresBackend storage = postgres.NewBackend();
        using var cluster = new Cluster(storage);
        Device laptop = await cluster.AddDeviceAsync("laptop");
        Device phone = await cluster.AddDeviceAsync("phone");
        laptop.Add("before the disk filled");
        Assert.True((await laptop.SyncAsync()).Success);

        MemoryRecord during = laptop.Add("written while the disk was full");
        await using (await DiskFullAsync(storage.Repository))
        {
            GhostieSyncException error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => laptop.Manager.PushAsync());
            Assert.Contains("disk is full", error.Message, StringComparison.Ordinal);
            SyncResult pulled = await phone.Manager.PullAsync();
            Assert.True(pulled.Success, string.Join("; ", pulled.Problems.Select(p => p.Message)));
            Assert.Single(phone.Snapshot());
        }

        Assert.Equal(during.Content, laptop.Manager.Memories.Get(during.Id)?.Content);
        Assert.True((await laptop.SyncAsync()).Success);
        Assert.True((await phone.SyncAsync()).Success);
        Assert.Equal(laptop.Snapshot(), phone.Snapshot());
        Assert.Equal(2, phone.Snapshot().Count);
    }

    [Fact]
    public async Task AnotherTenant_CannotReadListOrWriteTheRepository_NorSeeItsRows()
    {
        await using PostgresBackend alice = postgres.NewBackend();
        await alice.PutAsync("p/secret", Bytes(42));
        var options = postgres.Options(alice.Repository, postgres.TenantBConnectionString);
        await using var bob = new PostgresBackend(options);

        foreach (Func<Task> attempt in new Func<Task>[]
        {
            () => bob.GetAsync("p/secret"),
            () => bob.ListAsync("").ToListAsync().AsTask(),
            () => bob.PutAsync("p/secret", Bytes(0)),
            () => bob.DeleteAsync("p/secret"),
        })
        {
            var error = await Assert.ThrowsAnyAsync<GhostieSyncException>(attempt);
            Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
            Assert.Contains("belongs to another role", error.Message, StringComparison.Ordinal);
            Assert.Contains(alice.Repository, error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("tenant_a", error.Message, StringComparison.Ordinal); // whose it is stays unsaid
            AssertNoSecrets(error);
        }

        // Even with plain SQL under its own login, bob's role sees and changes none of alice's rows.
        await using (var connection = new NpgsqlConnection(postgres.TenantBConnectionString))
        {
            await connection.OpenAsync();
            Assert.Equal(0L, await ScalarAsync(connection, $"SELECT count(*) FROM ghostie.objects WHERE repository = '{alice.Repository}'"));
            Assert.Equal(0L, await ScalarAsync(connection, $"SELECT count(*) FROM ghostie.chunks WHERE repository = '{alice.Repository}'"));
            Assert.Equal(0L, await ScalarAsync(connection, $"SELECT count(*) FROM ghostie.repositories WHERE repository = '{alice.Repository}'"));
            Assert.Equal(0L, await ScalarAsync(connection, $"WITH u AS (UPDATE ghostie.chunks SET data = '\\x00' WHERE repository = '{alice.Repository}' RETURNING 1) SELECT count(*) FROM u"));
            Assert.Equal(0L, await ScalarAsync(connection, $"WITH d AS (DELETE FROM ghostie.objects WHERE repository = '{alice.Repository}' RETURNING 1) SELECT count(*) FROM d"));
            var insert = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(connection,
                $"INSERT INTO ghostie.chunks (repository, name, version, seq, data, written_at) VALUES ('{alice.Repository}', 'p/secret', 1, 0, '\\x00', now())"));
            Assert.Equal("42501", insert.SqlState);
            var claim = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(connection, "INSERT INTO ghostie.repositories (repository) VALUES ('sneaky')"));
            Assert.Equal("42501", claim.SqlState);
        }

        Assert.Equal(1L, (await postgres.Server.QueryAsync($"SELECT count(*) FROM ghostie.objects WHERE repository = '{alice.Repository}'", PostgresFixture.Database)).Single());
        Assert.Equal(new byte[] { 42 }, await alice.ReadAllAsync("p/secret"));

        // Bob's own repository works beside it.
        await using PostgresBackend bobsOwn = new(postgres.Options(connectionString: postgres.TenantBConnectionString));
        await bobsOwn.PutAsync("p/mine", Bytes(7));
        Assert.Equal(["p/mine"], await bobsOwn.ListAllAsync(""));
        Assert.Equal(["p/secret"], await alice.ListAllAsync(""));
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A fresh database owned by the fixture's owner role.</summary>
    private async Task<string> NewDatabaseAsync()
    {
        string database = "db_" + Guid.NewGuid().ToString("N")[..10];
        await postgres.Server.ExecuteAsync($"CREATE DATABASE {database} OWNER {PostgresFixture.Owner}");
        return database;
    }

    private async Task<int> TerminateConnectionsAsync(string role)
    {
        List<object?> killed = await postgres.Server.QueryAsync(
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}' AND pid <> pg_backend_pid()");
        return killed.Count(k => k is true);
    }

    /// <summary>Makes every write of chunks of <paramref name="repository"/> fail as a full disk does (SQLSTATE 53100,
    /// with PostgreSQL's own message), until disposed.</summary>
    private async Task<IAsyncDisposable> DiskFullAsync(string repository)
    {
        string function = "full_" + Guid.NewGuid().ToString("N")[..8];
        await postgres.Server.ExecuteAsync($"""
            CREATE FUNCTION ghostie.{function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.repository = '{repository}' THEN
                    RAISE EXCEPTION 'could not extend file "base/16384/16412": No space left on device' USING ERRCODE = 'disk_full';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {function} BEFORE INSERT OR UPDATE ON ghostie.chunks FOR EACH ROW EXECUTE FUNCTION ghostie.{function}();
            CREATE TRIGGER {function} BEFORE INSERT OR UPDATE ON ghostie.objects FOR EACH ROW EXECUTE FUNCTION ghostie.{function}();
            """, PostgresFixture.Database);
        return new Undo(() => postgres.Server.ExecuteAsync($"""
            DROP TRIGGER {function} ON ghostie.chunks;
            DROP TRIGGER {function} ON ghostie.objects;
            DROP FUNCTION ghostie.{function}();
            """, PostgresFixture.Database));
    }

    private sealed class Undo(Func<Task> undo) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await undo();
    }
}
