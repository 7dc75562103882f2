namespace Ghostie.Sync;

/// <summary>
/// An optional capability of backends whose store offers conditional writes (S3 If-None-Match / If-Match, Azure
/// ETags, Dropbox revisions, an exclusive file create). The sync protocol never needs them for correctness (each
/// device writes only its own objects) but uses them as an extra guard where they exist.
/// </summary>
public interface IConditionalStorageBackend : IStorageBackend
{
    /// <summary>Stores <paramref name="content"/> under <paramref name="name"/> only if no object has that name.</summary>
    /// <param name="name">The object name.</param>
    /// <param name="content">The bytes to store.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns><see langword="true"/> if stored; <see langword="false"/> if an object already had the name (nothing was changed).</returns>
    Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default);

    /// <summary>The current version token of an object (an ETag, a revision), or null when it does not exist.</summary>
    /// <param name="name">The object name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Replaces the object under <paramref name="name"/> only if its version is still <paramref name="expectedVersion"/>.</summary>
    /// <param name="name">The object name.</param>
    /// <param name="content">The new bytes.</param>
    /// <param name="expectedVersion">The version token read before (from <see cref="GetVersionAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns><see langword="true"/> if replaced; <see langword="false"/> if the object changed or vanished meanwhile (nothing was written).</returns>
    Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default);
}
