using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Tests;

/// <summary>The schema created on first use and versioned, its refusal paths, option validation, dependency injection,
/// and secrets kept out of errors and logs.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresSchemaTests(PostgresFixture postgres)
{
    private static MemoryStream Bytes(params byte[] data) => new(data, writable: false);

    private async Task<string> NewDatabaseAsync()
    {
        string database = "db_" + Guid.NewGuid().ToString("N")[..10];
        await postgres.Server.ExecuteAsync($"CREATE DATABASE {database} OWNER {PostgresFixture.Owner}");
        return database;
    }

    [Fact]
    public async Task FirstUse_CreatesTheSchema_RecordsItsVersion_AndTwoClientsStartingAtOnceBothWork()
    {
        string database = await NewDatabaseAsync();
        string owner = postgres.Server.ConnectionString(PostgresFixture.Owner, postgres.OwnerPassword, database);
        await using var first = new PostgresBackend(new PostgresBackendOptions { ConnectionString = owner, Repository = "one" });
        await using var second = new PostgresBackend(new PostgresBackendOptions { ConnectionString = owner, Repository = "two" });

        await Task.WhenAll(first.PutAsync("a/1", Bytes(1)), second.PutAsync("a/2", Bytes(2)));

        Assert.Equal([1, 2], (await postgres.Server.QueryAsync("SELECT version FROM ghostie.schema_version ORDER BY version", database)).Cast<int>());
        Assert.Equal(PostgresSchema.CurrentVersion, await PostgresSchema.MigrateAsync(owner));
        Assert.Equal(["a/1"], await first.ListAllAsync(""));
        Assert.Equal(["a/2"], await second.ListAllAsync(""));
        Assert.Equal([true, true, true], (await postgres.Server.QueryAsync(
            "SELECT relforcerowsecurity OR relname = 'repositories' FROM pg_class WHERE relnamespace = 'ghostie'::regnamespace AND relname IN ('objects', 'chunks', 'repositories') AND relrowsecurity", database)).Cast<bool>());
    }

    [Fact]
    public async Task NewerSchema_IsRefused_AsUnsupportedFormat()
    {
        string database = await NewDatabaseAsync();
        string owner = postgres.Server.ConnectionString(PostgresFixture.Owner, postgres.OwnerPassword, database);
        await PostgresSchema.MigrateAsync(owner);
        await postgres.Server.ExecuteAsync("INSERT INTO ghostie.schema_version (version) VALUES (99)", database);
        await using var backend = new PostgresBackend(new PostgresBackendOptions { ConnectionString = owner, Repository = "r" });

        var error = await Assert.ThrowsAsync<UnsupportedFormatException>(() => backend.GetAsync("a/1"));

        Assert.Equal(99, error.FoundVersion);
        Assert.Contains("schema 'ghostie'", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<UnsupportedFormatException>(() => PostgresSchema.MigrateAsync(owner));
    }

    [Fact]
    public async Task MissingSchema_WithoutTheRightToCreateIt_IsReportedWithWhatToRun()
    {
        string database = await NewDatabaseAsync();
        await postgres.Server.ExecuteAsync($"REVOKE CREATE ON DATABASE {database} FROM PUBLIC; GRANT CONNECT ON DATABASE {database} TO {PostgresFixture.TenantA}", database);
        var tenant = new PostgresBackendOptions
        {
            ConnectionString = postgres.Server.ConnectionString(PostgresFixture.TenantA, postgres.TenantAPassword, database),
            Repository = "r",
        };
        await using (var backend = new PostgresBackend(tenant))
        {
            var denied = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.ListAllAsync(""));
            Assert.Equal(GhostieErrorCode.AccessDenied, denied.Code);
            Assert.Contains("may not create", denied.Message, StringComparison.Ordinal);
            Assert.Contains("PostgresSchema.MigrateAsync", denied.Message, StringComparison.Ordinal);
        }

        tenant.CreateSchema = false;
        await using (var backend = new PostgresBackend(tenant))
        {
            var missing = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.ListAllAsync(""));
            Assert.Equal(GhostieErrorCode.StorageNotFound, missing.Code);
            Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        }

        // Migrated by the owner but not granted: the tenant is told to ask for the grant.
        await PostgresSchema.MigrateAsync(postgres.Server.ConnectionString(PostgresFixture.Owner, postgres.OwnerPassword, database));
        await using (var backend = new PostgresBackend(tenant))
        {
            var ungranted = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.ListAllAsync(""));
            Assert.Equal(GhostieErrorCode.AccessDenied, ungranted.Code);
            Assert.Contains("GrantTenantAsync", ungranted.Message, StringComparison.Ordinal);
        }

        await PostgresSchema.GrantTenantAsync(postgres.Server.ConnectionString(PostgresFixture.Owner, postgres.OwnerPassword, database), PostgresFixture.TenantA);
        await using (var backend = new PostgresBackend(tenant))
        {
            await backend.PutAsync("a/1", Bytes(1));
            Assert.Equal(["a/1"], await backend.ListAllAsync(""));
        }
    }

    [Fact]
    public void Options_AreValidated_WithoutEchoingTheConnectionString()
    {
        const string password = "Secr3t-in-a-broken-string";
        var options = new PostgresBackendOptions
        {
            ConnectionString = $"Host=127.0.0.1;Password={password};Port=notaport",
            Repository = "Bad Name",
            Schema = "Robert'); DROP",
            ChunkSizeBytes = 10,
            HandoffRetention = TimeSpan.FromMinutes(5),
        };

        var error = Assert.Throws<GhostieSyncException>(() => new PostgresBackend(options));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.DoesNotContain(password, error.ToString(), StringComparison.Ordinal);
        foreach (string named in new[] { "ConnectionString", "Repository 'Bad Name'", "Schema", "ChunkSizeBytes is 10", "HandoffRetention" })
        {
            Assert.Contains(named, error.Message, StringComparison.Ordinal);
        }

        Assert.Contains("names no Host", Assert.Throws<GhostieSyncException>(() =>
            new PostgresBackend(new PostgresBackendOptions { ConnectionString = "Database=x", Repository = "r" })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPostgresBackend_ValidatesAtStart_AndResolvesOneBackend()
    {
        var bad = new ServiceCollection();
        bad.AddGhostieSync(o => o.Home = Path.GetTempPath()).AddPostgresBackend(o => o.Repository = "r");
        await using (ServiceProvider provider = bad.BuildServiceProvider())
        {
            var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
            Assert.Contains("ConnectionString is required", error.Message, StringComparison.Ordinal);
        }

        var good = new ServiceCollection();
        string repository = PostgresFixture.NewRepositoryName("di");
        good.AddGhostieSync(o => o.Home = Path.GetTempPath()).AddPostgresBackend(o =>
        {
            o.ConnectionString = postgres.TenantAConnectionString;
            o.Repository = repository;
        });
        await using ServiceProvider services = good.BuildServiceProvider();
        services.GetRequiredService<IStartupValidator>().Validate();
        IStorageBackend backend = services.GetRequiredService<IStorageBackend>();
        Assert.Same(services.GetRequiredService<PostgresBackend>(), backend);
        Assert.IsAssignableFrom<IConditionalStorageBackend>(backend);
        await backend.PutAsync("a/1", Bytes(1));
        Assert.Equal(["a/1"], await backend.ListAllAsync(""));
    }

    [Fact]
    public async Task Logs_AndErrors_NeverCarryAPassword()
    {
        var lines = new CapturingLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(lines).SetMinimumLevel(LogLevel.Trace));
        string database = await NewDatabaseAsync();
        const string wrong = "Wr0ng-passw0rd-for-logs";

        // Schema creation, an abandoned-upload cleanup, a retention sweep, a failed cleanup and a refused login, all logged.
        var options = new PostgresBackendOptions
        {
            ConnectionString = postgres.Server.ConnectionString(PostgresFixture.Owner, postgres.OwnerPassword, database),
            Repository = "logged",
            HandoffRetention = TimeSpan.FromHours(1),
            TimeProvider = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-3)),
        };
        await using (var backend = new PostgresBackend(options, factory.CreateLogger<PostgresBackend>()))
        {
            await backend.PutAsync("x/" + new string('a', 32) + "/0123456789abcdef01234567", Bytes(1));
        }

        options.TimeProvider = TimeProvider.System;
        await using (var backend = new PostgresBackend(options, factory.CreateLogger<PostgresBackend>()))
        {
            Assert.Empty(await backend.ListAllAsync("x/"));
        }

        options.ConnectionString = postgres.Server.ConnectionString(PostgresFixture.Owner, wrong, database);
        await using (var refused = new PostgresBackend(options, factory.CreateLogger<PostgresBackend>()))
        {
            var error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => refused.GetAsync("a/1"));
            Assert.DoesNotContain(wrong, error.ToString(), StringComparison.Ordinal);
        }

        Assert.Contains(lines.Lines, l => l.Contains("migrated the Ghostie schema", StringComparison.Ordinal));
        Assert.Contains(lines.Lines, l => l.Contains("retention deleted 1 handoff object", StringComparison.Ordinal));
        foreach (string secret in postgres.Secrets.Append(wrong))
        {
            Assert.DoesNotContain(lines.Lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose()
        {
        }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception) + " " + exception);
        }
    }
}
