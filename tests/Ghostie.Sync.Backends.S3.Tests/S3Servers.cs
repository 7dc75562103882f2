using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>One S3 server process for a test class, with helpers to make buckets and backends on it.</summary>
public abstract class S3ServerFixture : IAsyncLifetime
{
    private static int _buckets;
    private ServerProcess? _server;
    private AmazonS3Client? _admin;

    public ServerProcess Server => _server ?? throw new InvalidOperationException("server not started");

    public string ServiceUrl => Server.BaseUri.ToString().TrimEnd('/');

    public abstract string AccessKeyId { get; }

    public abstract string SecretAccessKey { get; }

    /// <summary>A plain SDK client with the good credentials, for set-up and for looking behind the backend's back.</summary>
    public AmazonS3Client Admin => _admin ?? throw new InvalidOperationException("server not started");

    protected abstract Task<ServerProcess> StartAsync();

    public async Task InitializeAsync()
    {
        _server = await StartAsync();
        _admin = new AmazonS3Client(new BasicAWSCredentials(AccessKeyId, SecretAccessKey), new AmazonS3Config
        {
            ServiceURL = ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
    }

    public virtual async Task DisposeAsync()
    {
        _admin?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    public async Task<string> CreateBucketAsync()
    {
        string bucket = $"ghostie-{Environment.ProcessId % 10_000}-{Interlocked.Increment(ref _buckets)}-{Guid.NewGuid().ToString("N")[..6]}";
        await Admin.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        return bucket;
    }

    public S3BackendOptions Options(string bucket, S3ConditionalWrites mode = S3ConditionalWrites.Auto) => new()
    {
        Bucket = bucket,
        ServiceUrl = ServiceUrl,
        ForcePathStyle = true,
        AccessKeyId = AccessKeyId,
        SecretAccessKey = SecretAccessKey,
        ConditionalWrites = mode,
    };

    /// <summary>Every key in the bucket, as the store has it.</summary>
    public async Task<List<string>> RawKeysAsync(string bucket)
    {
        var keys = new List<string>();
        ListObjectsV2Response page = await Admin.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
        return keys;
    }

    /// <summary>Multipart uploads started and neither completed nor aborted.</summary>
    public async Task<int> OpenUploadsAsync(string bucket)
    {
        ListMultipartUploadsResponse uploads = await Admin.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket });
        return uploads.MultipartUploads?.Count ?? 0;
    }
}

/// <summary>moto_server: honours If-None-Match / If-Match; authentication can be switched on through its API.</summary>
public sealed class MotoFixture : S3ServerFixture
{
    public override string AccessKeyId => "AKIAGHOSTIETESTKEY01";

    public override string SecretAccessKey => "moto-secret-Zq8vP2xL0fT4kW9rN3yB";

    protected override Task<ServerProcess> StartAsync() => Servers.StartMotoAsync();

    /// <summary>Switches moto's request authentication on (every request then needs IAM credentials moto knows) or off.</summary>
    public async Task SetAuthenticationAsync(bool enforced)
    {
        using var http = new HttpClient();
        using var body = new StringContent(enforced ? "0" : "inf", Encoding.ASCII);
        using HttpResponseMessage response = await http.PostAsync(new Uri(Server.BaseUri, "/moto-api/reset-auth"), body);
        response.EnsureSuccessStatusCode();
    }
}

/// <summary>s3rver: ignores conditional writes; checks signatures against its one account S3RVER / S3RVER.</summary>
public sealed class S3rverFixture : S3ServerFixture
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ghostie-s3rver-" + Guid.NewGuid().ToString("N")[..8]);

    public override string AccessKeyId => "S3RVER";

    public override string SecretAccessKey => "S3RVER";

    protected override Task<ServerProcess> StartAsync() => Servers.StartS3rverAsync(_directory);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
