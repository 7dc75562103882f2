using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>The shared sync protocol suite over one S3 server: a fresh bucket per test, and each device has its own
/// S3 backend (its own client and connections) on it, under the prefix "repo", as separate machines would.</summary>
public abstract class S3SyncProtocolTests<TFixture>(TFixture server) : SyncProtocolConformanceTests
    where TFixture : S3ServerFixture
{
    protected TFixture Server { get; } = server;

    protected string Bucket { get; private set; } = "";

    protected override async Task<Func<Task<IStorageBackend>>> CreateStoreAsync()
    {
        string bucket = Bucket = await Server.CreateBucketAsync();
        return async () =>
        {
            S3BackendOptions options = Server.Options(bucket);
            options.Prefix = "repo";
            return await S3Backend.CreateAsync(options);
        };
    }

    /// <summary>What the provider sees: opaque names under the prefix, no memory id, content or device name; and every
    /// device's own backend did the talking.</summary>
    protected override async Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts)
    {
        List<string> keys = await Server.RawKeysAsync(Bucket);
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.StartsWith("repo/", k, StringComparison.Ordinal));
        Assert.All(keys, k => Assert.True(ObjectName.IsValid(k["repo/".Length..]), k));
        Assert.DoesNotContain(keys, k => k.Contains("laptop", StringComparison.Ordinal) || k.Contains("phone", StringComparison.Ordinal));
        Assert.Equal(cluster.Devices.Count, cluster.OpenedBackends.Count);
        Assert.All(cluster.OpenedBackends, b => Assert.True(((S3Backend)b).RequestCount > 0));
    }
}

/// <summary>Over moto_server, which honours conditional writes: every device's backend must have found them.</summary>
public sealed class MotoSyncProtocolTests(MotoFixture server) : S3SyncProtocolTests<MotoFixture>(server), IClassFixture<MotoFixture>
{
    public static new TheoryData<int, int, int, SimulationWorkload, bool> SimulationRuns => new()
    {
        { 1, 3, 70, SimulationWorkload.Full, false }, // no two devices edit one memory between syncs in this run
        { 7, 2, 60, SimulationWorkload.Full, true },
    };

    protected override async Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts)
    {
        await base.AssertStoreAsync(cluster, plaintexts);
        Assert.All(cluster.OpenedBackends, b => Assert.IsType<ConditionalS3Backend>(b));
    }
}

/// <summary>Over s3rver, which ignores conditional writes: the protocol must hold with the plain verbs alone.</summary>
public sealed class S3rverSyncProtocolTests(S3rverFixture server) : S3SyncProtocolTests<S3rverFixture>(server), IClassFixture<S3rverFixture>
{
    protected override async Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts)
    {
        await base.AssertStoreAsync(cluster, plaintexts);
        Assert.All(cluster.OpenedBackends, b => Assert.IsNotType<ConditionalS3Backend>(b));
    }
}
