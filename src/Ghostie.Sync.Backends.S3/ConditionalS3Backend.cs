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
    /// aborted, so nothing is left behind. Each conditional upload carries a random marker in its user metadata
    /// (x-amz-meta-ghostie-write): if a retried attempt meets 412 because an earlier attempt did store the object and
    /// only its answer was lost, the marker recognises the object as ours and the caller still gets true; an object
    /// another writer stored meanwhile, even with identical bytes, is not ours and gives false.</remarks>
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
    /// <remarks>As for <see cref="TryCreateAsync"/>, a retry that meets 412 after an earlier attempt's lost answer is
    /// recognised by the upload's marker and reports true.</remarks>
    public Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(expectedVersion);
        return UploadAsync(name, content, null, expectedVersion, cancellationToken);
    }
}
