namespace Ghostie.Sync.Crypto;

/// <summary>
/// The key files under one <c>keys/</c> carry different repository ids: two repositories (or a repository and a
/// damaged or foreign key file) are mixed in one place. Nothing is opened, whichever passphrase is given, so that
/// every device refuses the same storage the same way (docs/format.md, "Key file"). Code
/// <see cref="GhostieErrorCode.IntegrityFailure"/>.
/// </summary>
public sealed class MixedRepositoriesException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="location">Where the key files are (the backend's display name).</param>
    /// <param name="keyFilesByRepository">Repository id (32 hex digits) to the names of the key files carrying it.</param>
    public MixedRepositoriesException(string location, IReadOnlyDictionary<string, IReadOnlyList<string>> keyFilesByRepository)
        : base(GhostieErrorCode.IntegrityFailure, Describe(location, keyFilesByRepository))
    {
        KeyFilesByRepository = keyFilesByRepository;
    }

    /// <summary>Repository id (32 lowercase hex digits) to the storage names of the key files that carry it.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> KeyFilesByRepository { get; }

    private static string Describe(string location, IReadOnlyDictionary<string, IReadOnlyList<string>> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        string list = string.Join("; ", groups.OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"repository {g.Key}: {string.Join(", ", g.Value)}"));
        return $"The key files in {location} belong to {groups.Count} different repositories ({list}). Two repositories are mixed in one place, " +
            "or a key file was damaged or copied from elsewhere; nothing was opened. Move the key files, epochs and objects of one repository " +
            "to a location of their own, or delete the key files that do not belong.";
    }
}
