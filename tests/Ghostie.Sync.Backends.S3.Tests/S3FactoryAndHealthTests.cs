using Ghostie.Sync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>The S3 factory rebuilds a registered backend from the settings setup saves, and the health check probes it, on moto.</summary>
public sealed class S3FactoryAndHealthTests(MotoFixture moto) : IClassFixture<MotoFixture>
{
    [Fact]
    public async Task Factory_SettingsFromOptions_ReachTheSameObjects_WithKeysFromTheVariablesTheyName()
    {
        string bucket = await moto.CreateBucketAsync();
        S3BackendOptions options = moto.Options(bucket);
        options.Prefix = "alice";
        var factory = new S3BackendFactory();
        Dictionary<string, string> settings = factory.GetSettings(options);

        Assert.Equal(new Dictionary<string, string>
        {
            ["bucket"] = bucket, ["prefix"] = "alice", ["endpoint"] = moto.ServiceUrl, ["path_style"] = "true",
            ["access_key_env"] = "AWS_ACCESS_KEY_ID", ["secret_key_env"] = "AWS_SECRET_ACCESS_KEY",
        }, settings);
        Assert.DoesNotContain(moto.SecretAccessKey, string.Join(";", settings.Values), StringComparison.Ordinal);

        using S3Backend written = await S3Backend.CreateAsync(options);
        await written.PutAsync("h/one", new MemoryStream([1, 2, 3]));
        var variables = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = moto.AccessKeyId, ["AWS_SECRET_ACCESS_KEY"] = moto.SecretAccessKey };
        IStorageBackend rebuilt = await factory.CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault));
        using (rebuilt as IDisposable)
        {
            Assert.Equal(written.DisplayName, rebuilt.DisplayName);
            Assert.Equal(["h/one"], await StorageReads.ListAllAsync(rebuilt, "h/"));
            Assert.Equal($"S3 bucket '{bucket}' at {moto.ServiceUrl}", factory.Describe(settings));
        }
    }

    [Fact]
    public async Task Factory_CreateStore_CreatesAMissingBucket()
    {
        string bucket = "ghostie-factory-" + Guid.NewGuid().ToString("N")[..10];
        var settings = new Dictionary<string, string>
        {
            ["bucket"] = bucket, ["endpoint"] = moto.ServiceUrl, ["path_style"] = "true", ["access_key_env"] = "K", ["secret_key_env"] = "S",
        };
        var variables = new Dictionary<string, string> { ["K"] = moto.AccessKeyId, ["S"] = moto.SecretAccessKey };

        IStorageBackend backend = await new S3BackendFactory().CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault), createStore: true);
        using (backend as IDisposable)
        {
            await backend.PutAsync("x/1", new MemoryStream([9]));
        }

        Assert.Equal(["x/1"], await moto.RawKeysAsync(bucket));
    }

    [Fact]
    public async Task HealthCheck_ReachableBucket_IsHealthy()
    {
        string bucket = await moto.CreateBucketAsync();
        HealthReportEntry entry = await CheckAsync(b => b.AddS3Backend(o => Copy(moto.Options(bucket), o)));

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Contains($"The s3 backend (S3 bucket '{bucket}'", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_MissingBucket_IsUnhealthy_NamingTheBucket_AndNeverTheSecretKey()
    {
        string bucket = "ghostie-absent-" + Guid.NewGuid().ToString("N")[..10];
        HealthReportEntry entry = await CheckAsync(b => b.AddS3Backend(o => Copy(moto.Options(bucket), o)));

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("The s3 backend", entry.Description, StringComparison.Ordinal);
        Assert.Contains(bucket, entry.Description, StringComparison.Ordinal);
        Assert.Equal("StorageNotFound", entry.Data["code"]);
        Assert.DoesNotContain(moto.SecretAccessKey, entry.Description + string.Join(";", entry.Data.Values), StringComparison.Ordinal);
        Assert.Null(entry.Exception);
    }

    private static void Copy(S3BackendOptions from, S3BackendOptions to)
    {
        (to.Bucket, to.ServiceUrl, to.ForcePathStyle, to.AccessKeyId, to.SecretAccessKey) = (from.Bucket, from.ServiceUrl, from.ForcePathStyle, from.AccessKeyId, from.SecretAccessKey);
        to.ConditionalWrites = S3ConditionalWrites.Disabled;  // no probe objects: the health check must write nothing
        to.Retry = new BackendRetryOptions { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20) };
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
