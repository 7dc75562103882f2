using System.Globalization;

namespace Ghostie.Sync.Backends.S3;

/// <summary>Whether the S3 backend uses conditional writes (If-None-Match: * for create-only, If-Match for replace).</summary>
public enum S3ConditionalWrites
{
    /// <summary>Probe the endpoint once when the backend is created (three small PUTs and a DELETE of a probe object
    /// under the prefix) and use conditional writes only if the endpoint answered 412 where it should. The default.</summary>
    Auto = 0,

    /// <summary>Use conditional writes without probing (AWS S3 since November 2024, recent MinIO, Cloudflare R2).
    /// On an endpoint that silently ignores them this gives no guard at all: prefer <see cref="Auto"/>.</summary>
    Enabled = 1,

    /// <summary>Never send conditions; the backend offers only the four plain verbs.</summary>
    Disabled = 2,
}

/// <summary>Options of the S3 backend (<see cref="S3Backend"/>): where the repository lives, how to authenticate, and
/// how large objects are uploaded.</summary>
public sealed class S3BackendOptions
{
    /// <summary>The largest part size and multipart threshold accepted, in bytes (512 MiB): one part is buffered in memory.</summary>
    public const int MaxPartSizeBytes = 512 * 1024 * 1024;

    /// <summary>The smallest part size S3 accepts for all parts but the last, in bytes (5 MiB).</summary>
    public const int MinPartSizeBytes = 5 * 1024 * 1024;

    /// <summary>The bucket. Required. It must exist: the backend never creates buckets.</summary>
    public string Bucket { get; set; } = "";

    /// <summary>An optional key prefix inside the bucket, so one bucket can hold several repositories (for example
    /// "ghostie/alice"). A trailing '/' is added when missing. Default: none (the repository uses the whole bucket).</summary>
    public string? Prefix { get; set; }

    /// <summary>The AWS region (for example "eu-west-1"). With <see cref="ServiceUrl"/> it is only the signing region
    /// (default "us-east-1", which MinIO, moto and s3rver accept; Cloudflare R2 wants "auto"). Without either, the SDK's
    /// region chain is used: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region.</summary>
    public string? Region { get; set; }

    /// <summary>The endpoint of an S3-compatible store (MinIO, Cloudflare R2, Backblaze B2, moto, s3rver), for example
    /// "https://s3.eu-central-003.backblazeb2.com". Default: none (AWS S3 itself). Never put credentials in it.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Addresses the bucket as a path (https://host/bucket/key) instead of a host name
    /// (https://bucket.host/key). Most self-hosted stores (MinIO, moto, s3rver) need it. A <see cref="ServiceUrl"/> on an
    /// IP address or a single-label host (localhost, a container name) is always addressed by path, since bucket.HOST
    /// cannot resolve there. Default: false.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>The access key id. When neither it nor <see cref="SecretAccessKey"/> is set, credentials come from the
    /// standard AWS chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the profile named by
    /// <see cref="Profile"/> or AWS_PROFILE in ~/.aws/credentials and ~/.aws/config, then web identity, container and
    /// instance roles.</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The secret access key (set together with <see cref="AccessKeyId"/>). Never logged nor shown in errors.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>An optional session token for temporary credentials (with <see cref="AccessKeyId"/> and <see cref="SecretAccessKey"/>).</summary>
    public string? SessionToken { get; set; }

    /// <summary>The AWS profile to read credentials (and region) from, instead of the default chain. Cannot be combined
    /// with <see cref="AccessKeyId"/>. Default: none (AWS_PROFILE, else "default").</summary>
    public string? Profile { get; set; }

    /// <summary>Objects larger than this are uploaded in parts (multipart upload); smaller ones with one PUT. At most
    /// this many bytes (or <see cref="PartSizeBytes"/>, whichever is larger) are buffered per upload. Default 8 MiB.</summary>
    public int MultipartThresholdBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>The size of each part of a multipart upload (5 MiB to 512 MiB; at most 10,000 parts per object).
    /// One part is held in a pooled buffer at a time. Default 8 MiB.</summary>
    public int PartSizeBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Whether conditional writes are used. Default <see cref="S3ConditionalWrites.Auto"/> (probe once).</summary>
    public S3ConditionalWrites ConditionalWrites { get; set; } = S3ConditionalWrites.Auto;

    /// <summary>How transient failures are retried. The SDK's own retries are turned off; every request goes through this.</summary>
    public BackendRetryOptions Retry { get; set; } = new();

    /// <summary>An HTTP handler to send every request through (tests insert fault injection here; hosts may add a proxy
    /// or their own handler). The backend does not dispose it. Default: none (a private <see cref="SocketsHttpHandler"/>).</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>The prefix as used in keys: empty, or ending with exactly one '/'.</summary>
    internal string KeyPrefix => string.IsNullOrEmpty(Prefix) ? "" : Prefix.EndsWith('/') ? Prefix : Prefix + "/";

    /// <summary>Every problem with these options, as messages naming the option and what to do; empty when valid.</summary>
    public IReadOnlyList<string> GetValidationErrors()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            errors.Add("S3BackendOptions.Bucket is required: name the bucket that holds the repository (create it first; the backend never creates buckets).");
        }
        else if (Bucket.Length is < 3 or > 63 || !Bucket.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            errors.Add($"S3BackendOptions.Bucket '{Shorten(Bucket)}' is not a bucket name: use 3 to 63 letters, digits, '.', '-' or '_' (AWS allows lowercase letters, digits, '.' and '-'), without 's3://' or a path; put a path in Prefix.");
        }

        if (!string.IsNullOrEmpty(Prefix))
        {
            if (Prefix.Length > 512 || Prefix[0] == '/' || Prefix.Contains("//", StringComparison.Ordinal)
                || !Prefix.All(c => char.IsAsciiLetterOrDigit(c) || "/!-_.*'()".Contains(c, StringComparison.Ordinal)))
            {
                errors.Add($"S3BackendOptions.Prefix '{Shorten(Prefix)}' is not usable: use up to 512 letters, digits and / ! - _ . * ' ( ), with no leading or doubled '/'.");
            }
        }

        if (Region is not null && (Region.Length is 0 or > 32 || !Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            errors.Add($"S3BackendOptions.Region '{Shorten(Region)}' is not a region name: use a name such as 'us-east-1' or 'eu-west-1' ('auto' for Cloudflare R2), or leave it unset.");
        }

        if (ServiceUrl is not null)
        {
            if (!Uri.TryCreate(ServiceUrl, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add("S3BackendOptions.ServiceUrl must be an absolute http:// or https:// URL of an S3-compatible endpoint (for example https://minio.example.com:9000), or unset for AWS S3.");
            }
            else if (!string.IsNullOrEmpty(url.UserInfo) || !string.IsNullOrEmpty(url.Query))
            {
                errors.Add("S3BackendOptions.ServiceUrl must not carry credentials or a query string: give the keys in AccessKeyId and SecretAccessKey (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).");
            }
        }

        bool hasKeyId = !string.IsNullOrEmpty(AccessKeyId);
        bool hasSecret = !string.IsNullOrEmpty(SecretAccessKey);
        if (hasKeyId != hasSecret)
        {
            errors.Add("S3BackendOptions.AccessKeyId and SecretAccessKey must be set together (or neither, to use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an AWS profile).");
        }

        if (!string.IsNullOrEmpty(SessionToken) && !hasKeyId)
        {
            errors.Add("S3BackendOptions.SessionToken needs AccessKeyId and SecretAccessKey too.");
        }

        if (!string.IsNullOrEmpty(Profile) && hasKeyId)
        {
            errors.Add("S3BackendOptions.Profile and AccessKeyId cannot both be set: use either explicit keys or a profile.");
        }

        if (PartSizeBytes is < MinPartSizeBytes or > MaxPartSizeBytes)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"S3BackendOptions.PartSizeBytes is {PartSizeBytes}; use {MinPartSizeBytes} (5 MiB, the S3 minimum) to {MaxPartSizeBytes} (512 MiB)."));
        }

        if (MultipartThresholdBytes is < 0 or > MaxPartSizeBytes)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"S3BackendOptions.MultipartThresholdBytes is {MultipartThresholdBytes}; use 0 to {MaxPartSizeBytes} (512 MiB)."));
        }

        if (!Enum.IsDefined(ConditionalWrites))
        {
            errors.Add($"S3BackendOptions.ConditionalWrites is {(int)ConditionalWrites}; use Auto, Enabled or Disabled.");
        }

        if (Retry is null)
        {
            errors.Add("S3BackendOptions.Retry must not be null.");
        }
        else
        {
            try
            {
                Retry.Validate();
            }
            catch (GhostieSyncException e)
            {
                errors.Add("S3BackendOptions.Retry: " + e.Message);
            }
        }

        return errors;
    }

    /// <summary>Throws when the options are invalid, listing every problem.</summary>
    /// <exception cref="GhostieSyncException">An option is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        IReadOnlyList<string> errors = GetValidationErrors();
        if (errors.Count > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, string.Join(" ", errors));
        }
    }

    private static string Shorten(string value) => value.Length > 80 ? string.Concat(value.AsSpan(0, 80), "...") : value;
}
