using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.S3;

/// <summary>
/// The S3 backend on an endpoint that honours conditional writes (AWS S3 since November 2024, recent MinIO, Cloudflare
/// R2, moto): create-only writes send <c>If-None-Match: *</c>, replacements send <c>If-Match: &lt;ETag&gt;</c>, and the
/// store rejects a write whose condition fails with 412, atomically. Versions are ETags. Obtained from
/// <see cref="S3Backend.CreateAsync"/> when <see cref="S3BackendOptions.ConditionalWrites"/> is Enabled, or Auto and the
/// probe succeeded.
/// </summary>
public sealed class ConditionalS3Backend : S3Backend, IConditionalStorageBackend
{
    internal ConditionalS3Backend(S3BackendOptions options, ILogger? logger)
        : base(options, logger)
    {
    }

    /// <inheritdoc />
    public override bool ConditionalWritesEnabled => true;

    /// <inheritdoc />
    /// <remarks>Large objects use a multipart upload whose completion carries the condition; a refused completion is
    /// aborted, so nothing is left behind. If a retried attempt meets 412 because the first attempt did store the object
    /// (its answer was lost), the object's ETag is compared with the upload's MD5 so the caller still gets true.</remarks>
    public Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        return UploadAsync(name, content, "*", null, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The version is the object's ETag, as S3 returns it (quoted).</remarks>
    public Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        return HeadAsync(name, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(expectedVersion);
        return UploadAsync(name, content, null, expectedVersion, cancellationToken);
    }
}
