using Ghostie.Sync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using Ghostie.Sync.Backends.Postgres;

namespace Ghostie.Sync.Tests;

/// <summary>The PostgreSQL factory rebuilds a registered backend from the settings setup saves, and the health check probes it, on a real PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresFactoryAndHealthTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Factory_SettingsFromOptions_ReachTheSameRepository_WithTheConnectionStringFromItsVariable()
    {
        PostgresBackendOptions options = postgres.Options();
        var factory = new PostgresBackendFactory();
        Dictionary<string, string> settings = factory.GetSettings(options);
        Assert.Equal(new Dictionary<string, string> { ["repository"] = options.Repository, ["connection_env"] = "GHOSTIE_PG_CONNECTION" }, settings);

        using (var written = new PostgresBackend(options))
        {
            await written.PutAsync("h/one", new MemoryStream([8]));
        }

        var variables = new Dictionary<string, string> { ["GHOSTIE_PG_CONNECTION"] = postgres.TenantAConnectionString };
        IStorageBackend rebuilt = await factory.CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault));
        using (rebuilt as IDisposable)
        {
            Assert.Equal(new byte[] { 8 }, await StorageReads.ReadAllAsync(rebuilt, "h/one"));
        }
    }

    [Fact]
    public async Task Factory_WithALoggerFactory_GivesTheBackendItsLogger()
    {
        // What `ghostie --verbose` relies on: a backend built from saved settings logs where the host's loggers go.
        PostgresBackendOptions options = postgres.Options();
        var factory = new PostgresBackendFactory();
        var variables = new Dictionary<string, string> { ["GHOSTIE_PG_CONNECTION"] = postgres.TenantAConnectionString };
        var loggers = new CategoryRecordingLoggerFactory();

        IStorageBackend backend = await ((IStorageBackendFactory)factory).CreateAsync(factory.GetSettings(options),
            new EnvironmentSecretSource(variables.GetValueOrDefault), loggers);
        using (backend as IDisposable)
        {
            Assert.Contains(typeof(PostgresBackend).FullName!, loggers.Categories);
        }
    }

    private sealed class CategoryRecordingLoggerFactory : ILoggerFactory
    {
        public List<string> Categories { get; } = [];

        public ILogger CreateLogger(string categoryName)
        {
            Categories.Add(categoryName);
            return NullLogger.Instance;
        }

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Factory_VariableUnset_IsNotConfigured_NamingTheVariable()
    {
        var settings = new Dictionary<string, string> { ["repository"] = "notes", ["connection_env"] = "MY_PG" };

        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(
            () => new PostgresBackendFactory().CreateAsync(settings, new EnvironmentSecretSource(_ => null)));

        Assert.Equal(GhostieErrorCode.NotConfigured, error.Code);
        Assert.Contains("repository 'notes': set MY_PG", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_GoodLogin_IsHealthy_WrongPassword_IsUnhealthyWithoutAnyPassword()
    {
        string repository = PostgresFixture.NewRepositoryName();
        HealthReportEntry healthy = await CheckAsync(b => b.AddPostgresBackend(o => (o.ConnectionString, o.Repository) = (postgres.TenantAConnectionString, repository)));
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Contains($"The postgres backend (PostgreSQL repository '{repository}'", healthy.Description, StringComparison.Ordinal);

        const string wrongPassword = "wrong-pw-Zq81xK";
        string wrong = postgres.Server.ConnectionString(PostgresFixture.TenantA, wrongPassword, PostgresFixture.Database);
        HealthReportEntry refused = await CheckAsync(b => b.AddPostgresBackend(o =>
        {
            (o.ConnectionString, o.Repository) = (wrong, repository);
            o.Retry = new BackendRetryOptions { MaxAttempts = 1 };
        }));
        Assert.Equal(HealthStatus.Unhealthy, refused.Status);
        Assert.Contains("The postgres backend", refused.Description, StringComparison.Ordinal);
        string shown = refused.Description + string.Join(";", refused.Data.Values);
        Assert.DoesNotContain(wrongPassword, shown, StringComparison.Ordinal);
        foreach (string secret in postgres.Secrets)
        {
            Assert.DoesNotContain(secret, shown, StringComparison.Ordinal);
        }
    }

    private static async Task<HealthReportEntry> CheckAsync(Action<IGhostieSyncBuilder> register)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        register(services.AddGhostieSync(o => o.Home = Path.GetTempPath()));
        services.AddHealthChecks().AddGhostieHealthChecks();
        await using ServiceProvider provider = services.BuildServiceProvider();
        return Assert.Single((await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries).Value;
    }
}
