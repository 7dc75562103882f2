namespace Ghostie.Sync;

/// <summary>
/// The storage contract every backend implements: the seed's four verbs (upload, download, list, delete),
/// streaming and cancellable. Objects are opaque byte sequences under names that follow <see cref="ObjectName"/>.
/// </summary>
/// <remarks>
/// Implementations must make <see cref="PutAsync"/> all-or-nothing: a reader sees either the previous object or
/// the complete new one, never a prefix. Listings may lag behind writes on eventually consistent stores.
/// </remarks>
public interface IStorageBackend
{
    /// <summary>A short, non-secret description of the backend for status output (for example "folder /mnt/usb/ghostie").</summary>
    string DisplayName { get; }

    /// <summary>Stores <paramref name="content"/> under <paramref name="name"/>, replacing any existing object.</summary>
    /// <param name="name">The object name.</param>
    /// <param name="content">The bytes to store, read to the end.</param>
    /// <param name="cancellationToken">Cancels the upload; a cancelled upload leaves no partial object.</param>
    Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Opens the object stored under <paramref name="name"/> for reading.</summary>
    /// <param name="name">The object name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A readable stream the caller disposes, or <see langword="null"/> when no such object exists.</returns>
    Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Lists the names of all objects whose name starts with <paramref name="prefix"/>, in ordinal order.</summary>
    /// <param name="prefix">The prefix, possibly empty.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object under <paramref name="name"/>.</summary>
    /// <param name="name">The object name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns><see langword="true"/> if an object was deleted, <see langword="false"/> if there was none.</returns>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default);
}
