using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Amazon.S3;
using Amazon.S3.Model;

namespace Ghostie.Sync.Backends.S3;

/// <summary>
/// Builds the S3 backend ("s3") from saved settings: "bucket" (required), "prefix", "region", "endpoint", "path_style"
/// ("true"), "profile", and the names of the variables the keys are read from, "access_key_env" and "secret_key_env"
/// (default AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). With a profile, the profile alone supplies the keys. A session
/// token (AWS_SESSION_TOKEN) is used with keys that came from their environment variable, as temporary credentials do.
/// </summary>
public sealed class S3BackendFactory : IStorageBackendFactory<S3BackendOptions>
{
    /// <summary>The backend's name, "s3".</summary>
    public const string BackendName = "s3";

    /// <summary>The variable the access key id is read from unless the settings name another.</summary>
    public const string AccessKeyVariable = "AWS_ACCESS_KEY_ID";

    /// <summary>The variable the secret access key is read from unless the settings name another.</summary>
    public const string SecretKeyVariable = "AWS_SECRET_ACCESS_KEY";

    /// <summary>The access key id's name in a credential store.</summary>
    public const string AccessKeySecret = "s3.access_key_id";

    /// <summary>The secret access key's name in a credential store.</summary>
    public const string SecretKeySecret = "s3.secret_access_key";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public string Describe(IReadOnlyDictionary<string, string> settings) =>
        $"S3 bucket '{BackendSettings.Optional(settings, "bucket")}'" + (BackendSettings.Optional(settings, "endpoint") is { } e ? $" at {e}" : "");

    /// <inheritdoc/>
    public Dictionary<string, string> GetSettings(S3BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal) { ["bucket"] = options.Bucket };
        void Set(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                settings[key] = value.Trim();
            }
        }

        Set("prefix", options.Prefix);
        Set("region", options.Region);
        Set("endpoint", options.ServiceUrl);
        if (options.ForcePathStyle)
        {
            settings["path_style"] = "true";
        }

        Set("profile", options.Profile);
        settings["access_key_env"] = AccessKeyVariable;
        settings["secret_key_env"] = SecretKeyVariable;
        return settings;
    }

    /// <inheritdoc/>
    public Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, bool createStore = false,
        CancellationToken cancellationToken = default) =>
        CreateAsync(settings, secrets, NullLoggerFactory.Instance, createStore, cancellationToken);

    /// <inheritdoc/>
    public async Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, ILoggerFactory loggerFactory,
        bool createStore = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var options = new S3BackendOptions
        {
            Bucket = BackendSettings.Required(settings, "bucket", BackendName),
            Prefix = BackendSettings.Optional(settings, "prefix"),
            Region = BackendSettings.Optional(settings, "region") ?? Environment.GetEnvironmentVariable("AWS_REGION"),
            ServiceUrl = BackendSettings.Optional(settings, "endpoint"),
            ForcePathStyle = BackendSettings.Optional(settings, "path_style") == "true",
            Profile = BackendSettings.Optional(settings, "profile"),
        };
        string accessVariable = BackendSettings.Optional(settings, "access_key_env") ?? AccessKeyVariable;
        string secretVariable = BackendSettings.Optional(settings, "secret_key_env") ?? SecretKeyVariable;
        var idSecret = new BackendSecret(AccessKeySecret, accessVariable);
        var keySecret = new BackendSecret(SecretKeySecret, secretVariable);

        // With a profile, the profile alone supplies the keys; otherwise the named variables, then the host's store, then a prompt.
        string? id = options.Profile is null ? secrets.GetSecret(idSecret) : null;
        string? key = options.Profile is null ? secrets.GetSecret(keySecret) : null;
        if ((id is null || key is null) && options.Profile is null
            && secrets.AskSecret(idSecret, $"AWS access key id for bucket {options.Bucket} (or set {accessVariable}):", echo: true) is { } typedId
            && secrets.AskSecret(keySecret, $"AWS secret access key (or set {secretVariable}):", echo: false) is { } typedKey)
        {
            (id, key) = (typedId, typedKey);
            secrets.KeepSecret(idSecret, id);
            secrets.KeepSecret(keySecret, key);
        }

        options.AccessKeyId = id;
        options.SecretAccessKey = key;
        // Temporary credentials (SSO, assumed roles) come with a session token from the same environment.
        if (id is not null && Environment.GetEnvironmentVariable(accessVariable) == id && Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN") is { Length: > 0 } sessionToken)
        {
            options.SessionToken = sessionToken;
        }

        if (createStore)
        {
            await CreateBucketAsync(options, accessVariable, secretVariable, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await S3Backend.CreateAsync(options, loggerFactory.CreateLogger<S3Backend>(), cancellationToken).ConfigureAwait(false);
        }
        catch (GhostieSyncException e) when (id is null && options.Profile is null && e.Code == GhostieErrorCode.NotConfigured
            && e.InnerException is Amazon.Runtime.AmazonClientException client && client.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
        {
            // The SDK's own text lists every provider it tried, over several lines; ours says what to set.
            throw new MissingBackendCredentialException($"No AWS credentials were found for S3 bucket '{options.Bucket}'", $"{accessVariable} and {secretVariable}", e);
        }
    }

    private static async Task CreateBucketAsync(S3BackendOptions options, string accessKeyVariable, string secretKeyVariable, CancellationToken cancellationToken)
    {
        var config = new AmazonS3Config { ForcePathStyle = options.ForcePathStyle };
        string region = options.Region ?? "us-east-1";
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        Amazon.Runtime.AWSCredentials? credentials = null;
        if (options.Profile is { } profile)
        {
            if (!new Amazon.Runtime.CredentialManagement.CredentialProfileStoreChain().TryGetAWSCredentials(profile, out credentials))
            {
                throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                    $"The AWS profile '{profile}' was not found in ~/.aws/credentials or ~/.aws/config. Create it (aws configure --profile {profile}) or name no profile.");
            }
        }
        else if (options.AccessKeyId is { } id && options.SecretAccessKey is { } key)
        {
            credentials = options.SessionToken is { } token
                ? new Amazon.Runtime.SessionAWSCredentials(id, key, token)
                : new Amazon.Runtime.BasicAWSCredentials(id, key);
        }

        using AmazonS3Client client = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        var request = new PutBucketRequest { BucketName = options.Bucket };
        if (options.ServiceUrl is null && region != "us-east-1")
        {
            request.BucketRegionName = region;  // AWS refuses a bucket outside us-east-1 without its location constraint
        }

        try
        {
            await client.PutBucketAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou")
        {
        }
        catch (AmazonS3Exception e)
        {
            throw new GhostieSyncException(
                e.StatusCode is System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.Unauthorized ? GhostieErrorCode.AccessDenied : GhostieErrorCode.BackendUnavailable,
                $"Could not create the S3 bucket '{options.Bucket}': {e.ErrorCode} (HTTP {(int)e.StatusCode}). Create it yourself, or check the credentials' permissions.");
        }
        catch (Exception e) when (e is Amazon.Runtime.AmazonClientException or HttpRequestException or IOException)
        {
            // Not a service answer: no credentials were found, or the endpoint could not be reached. The SDK's own text
            // lists every provider it tried; ours says what to set.
            bool noCredentials = credentials is null && e is Amazon.Runtime.AmazonClientException && e.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase);
            throw noCredentials
                ? new MissingBackendCredentialException($"Could not create the S3 bucket '{options.Bucket}': no AWS credentials were found",
                    $"{accessKeyVariable} and {secretKeyVariable} (or name an AWS profile)")
                : new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"Could not create the S3 bucket '{options.Bucket}': the endpoint {options.ServiceUrl ?? region} could not be reached ({e.GetType().Name}). Check the endpoint, the region and the network.", isTransient: true);
        }
    }
}
