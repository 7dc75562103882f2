namespace Ghostie.Sync;

/// <summary>
/// The storage holds part of a repository but no key file: heads, packs, epochs or other objects of the repository
/// layout, without the <c>keys/</c> that unlock them. Typically a file-sync tool (Syncthing, Dropbox, iCloud Drive)
/// has delivered the rest of the folder first, or <c>keys/</c> was deleted. Setup refuses to create a repository
/// there, because that would make the existing one unreadable; nothing was written or deleted.
/// </summary>
/// <remarks>Its <see cref="GhostieSyncException.Code"/> is <see cref="GhostieErrorCode.RepositoryNotInitialized"/>
/// (the repository cannot be opened: it has no key files); catch this type to tell it from storage that holds nothing.</remarks>
public sealed class IncompleteRepositoryException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="location">The storage, as shown to the user (a backend's <see cref="IStorageBackend.DisplayName"/>).</param>
    /// <param name="found">What the storage holds of the repository layout.</param>
    /// <param name="innerException">The error that showed there is no key file, if any.</param>
    public IncompleteRepositoryException(string location, RepositoryContents found, Exception? innerException = null)
        : base(GhostieErrorCode.RepositoryNotInitialized,
            $"{location} holds part of a repository: found {found?.DescribeObjects()} but no key file (keys/). Nothing was created, written or deleted. "
            + "If a file-sync tool (Syncthing, Dropbox, ...) is still copying this repository, wait for your sync tool to deliver keys/, or restore it from a backup or another copy of the repository; then run setup again. "
            + "To create a new repository, choose an empty location.",
            isTransient: false, innerException)
    {
        ArgumentNullException.ThrowIfNull(found);
        Location = location;
        Found = found;
    }

    /// <summary>The storage, as shown to the user.</summary>
    public string Location { get; }

    /// <summary>What the storage holds of the repository layout.</summary>
    public RepositoryContents Found { get; }
}
