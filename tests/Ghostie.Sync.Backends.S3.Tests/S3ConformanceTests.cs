using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>The shared conformance suite over one S3 server; each test gets a fresh bucket.</summary>
public abstract class S3ConformanceTests<TFixture>(TFixture server) : RemoteBackendConformanceTests, IAsyncLifetime
    where TFixture : S3ServerFixture
{
    private readonly List<S3Backend> _backends = [];

    protected TFixture Server { get; } = server;

    /// <summary>The mode a fixed-mode backend uses on this server (faulty backends skip the probe so faults hit only the verbs).</summary>
    protected S3ConditionalWrites FixedMode => ExpectConditionalWrites ? S3ConditionalWrites.Enabled : S3ConditionalWrites.Disabled;

    protected override IReadOnlyList<string> Secrets => [Server.SecretAccessKey, WrongSecret];

    protected const string WrongSecret = "wrong-secret-Hq7Tz1Vb9Kd3Lm5N";

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync()
    {
        foreach (S3Backend backend in _backends)
        {
            backend.Dispose();
        }

        return Task.CompletedTask;
    }

    protected T Track<T>(T backend)
        where T : S3Backend
    {
        _backends.Add(backend);
        return backend;
    }

    /// <summary>Auto mode: the probe must find conditional writes on moto and not on s3rver.</summary>
    protected override async Task<IStorageBackend> CreateBackendAsync() =>
        Track(await S3Backend.CreateAsync(Server.Options(await Server.CreateBucketAsync())));

    protected override async Task<IStorageBackend> CreateFaultyBackendAsync(FaultInjectingHandler faults, BackendRetryOptions retry)
    {
        S3BackendOptions options = Server.Options(await Server.CreateBucketAsync(), FixedMode);
        options.HttpMessageHandler = faults;
        options.Retry = retry;
        return Track(await S3Backend.CreateAsync(options));
    }

    protected override async Task<IStorageBackend> CreateBackendWithBadCredentialsAsync(BackendRetryOptions retry)
    {
        S3BackendOptions options = Server.Options(await Server.CreateBucketAsync(), FixedMode);
        options.SecretAccessKey = WrongSecret;
        options.Retry = retry;
        return Track(await S3Backend.CreateAsync(options));
    }

    protected override async Task<IStorageBackend> CreateBackendForMissingStoreAsync(BackendRetryOptions retry)
    {
        S3BackendOptions options = Server.Options("no-such-bucket-" + Guid.NewGuid().ToString("N")[..8], FixedMode);
        options.Retry = retry;
        return Track(await S3Backend.CreateAsync(options));
    }
}

/// <summary>moto_server honours conditional writes: the Auto probe must detect them.</summary>
public sealed class MotoConformanceTests(MotoFixture server) : S3ConformanceTests<MotoFixture>(server), IClassFixture<MotoFixture>
{
    protected override bool ExpectConditionalWrites => true;

    /// <summary>moto accepts any key unless authentication is on; on, it rejects keys its IAM does not know.</summary>
    protected override async Task<IStorageBackend> CreateBackendWithBadCredentialsAsync(BackendRetryOptions retry)
    {
        IStorageBackend backend = await base.CreateBackendWithBadCredentialsAsync(retry);
        await Server.SetAuthenticationAsync(enforced: true);
        return backend;
    }

    public override async Task DisposeAsync()
    {
        await Server.SetAuthenticationAsync(enforced: false);
        await base.DisposeAsync();
    }
}

/// <summary>s3rver ignores conditional writes: the Auto probe must notice, and the plain verbs must still be right.</summary>
public sealed class S3rverConformanceTests(S3rverFixture server) : S3ConformanceTests<S3rverFixture>(server), IClassFixture<S3rverFixture>
{
    protected override bool ExpectConditionalWrites => false;

    /// <summary>s3rver knows one account; an unknown key id is refused (InvalidAccessKeyId, 403).</summary>
    protected override async Task<IStorageBackend> CreateBackendWithBadCredentialsAsync(BackendRetryOptions retry)
    {
        S3BackendOptions options = Server.Options(await Server.CreateBucketAsync(), FixedMode);
        options.AccessKeyId = "AKIAUNKNOWNGHOSTIE01";
        options.SecretAccessKey = WrongSecret;
        options.Retry = retry;
        return Track(await S3Backend.CreateAsync(options));
    }
}
