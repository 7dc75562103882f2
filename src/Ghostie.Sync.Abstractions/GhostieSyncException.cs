namespace Ghostie.Sync;

/// <summary>
/// The base of every error Ghostie.Sync raises on purpose. Messages say what happened, to which object,
/// and what to do next; they never contain a passphrase, a key, a token or memory content.
/// </summary>
public class GhostieSyncException : Exception
{
    /// <summary>Creates an exception with a code, a message and an optional inner exception.</summary>
    /// <param name="code">The stable error code.</param>
    /// <param name="message">A message safe to show and log (no secrets).</param>
    /// <param name="isTransient">Whether retrying the same operation later may succeed.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public GhostieSyncException(GhostieErrorCode code, string message, bool isTransient = false, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        IsTransient = isTransient;
    }

    /// <summary>The stable error code.</summary>
    public GhostieErrorCode Code { get; }

    /// <summary>Whether retrying the same operation later may succeed (a network blip, throttling).</summary>
    public bool IsTransient { get; }
}

/// <summary>The passphrase given does not open any key file of the repository.</summary>
public sealed class WrongPassphraseException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="keyFileCount">How many key files were tried.</param>
    public WrongPassphraseException(int keyFileCount)
        : this(keyFileCount, [])
    {
    }

    /// <summary>Creates the exception, naming the key files that could not be read (so could not be tried).</summary>
    /// <param name="keyFileCount">How many key files the repository has.</param>
    /// <param name="unreadableKeyFiles">The ids of key files that are damaged or of a newer format.</param>
    public WrongPassphraseException(int keyFileCount, IReadOnlyList<string> unreadableKeyFiles)
        : base(GhostieErrorCode.WrongPassphrase,
            $"The passphrase does not open any of the repository's {keyFileCount} key file(s). Check the passphrase (or use a recovery key) and try again."
            + (unreadableKeyFiles is { Count: > 0 }
                ? $" Key file(s) {string.Join(", ", unreadableKeyFiles)} could not be read (damaged, or written by a newer version): if the passphrase belongs to one of them, unlock with another passphrase and re-add it ('ghostie key add'), or upgrade."
                : ""))
    {
        KeyFileCount = keyFileCount;
        UnreadableKeyFiles = unreadableKeyFiles ?? [];
    }

    /// <summary>How many key files were tried.</summary>
    public int KeyFileCount { get; }

    /// <summary>Ids of key files that could not be read, so were not tried.</summary>
    public IReadOnlyList<string> UnreadableKeyFiles { get; }
}

/// <summary>
/// An object failed authentication or is structurally invalid: it was modified, truncated, reordered, moved to
/// another name, swapped with another object, or belongs to another repository. It was not applied.
/// </summary>
public sealed class IntegrityException : GhostieSyncException
{
    /// <summary>Creates the exception for a named object.</summary>
    /// <param name="objectName">The storage name of the object that failed.</param>
    /// <param name="reason">What is wrong with it, without any of its contents.</param>
    /// <param name="innerException">The underlying cryptographic error, if any.</param>
    public IntegrityException(string objectName, string reason, Exception? innerException = null)
        : base(GhostieErrorCode.IntegrityFailure,
            $"Object '{objectName}' failed its integrity check: {reason}. It was not applied; it may have been modified, truncated or replaced in storage. Restore it from another device or delete it.",
            isTransient: false, innerException)
    {
        ObjectName = objectName;
        Reason = reason;
    }

    /// <summary>The storage name of the object that failed.</summary>
    public string ObjectName { get; }

    /// <summary>What is wrong with the object.</summary>
    public string Reason { get; }
}

/// <summary>Data written by a newer format version, or with an algorithm this version does not implement.</summary>
public sealed class UnsupportedFormatException : GhostieSyncException
{
    /// <summary>Creates the exception for an unknown format version.</summary>
    /// <param name="what">What was being read (for example "key file 'keys/ab12'").</param>
    /// <param name="foundVersion">The version found in the data.</param>
    /// <param name="maxSupportedVersion">The newest version this build reads.</param>
    public UnsupportedFormatException(string what, int foundVersion, int maxSupportedVersion)
        : base(GhostieErrorCode.UnsupportedFormat,
            $"{what}: unsupported format v{foundVersion}; this version reads up to v{maxSupportedVersion}. Upgrade Ghostie.Sync to read it.")
    {
        FoundVersion = foundVersion;
        MaxSupportedVersion = maxSupportedVersion;
    }

    /// <summary>Creates the exception for an unknown algorithm identifier.</summary>
    /// <param name="what">What was being read.</param>
    /// <param name="message">Which identifier is unknown and which ones are known.</param>
    public UnsupportedFormatException(string what, string message)
        : base(GhostieErrorCode.UnsupportedFormat, $"{what}: {message}. Upgrade Ghostie.Sync to read it.")
    {
    }

    /// <summary>The format version found in the data, when a version was the problem; otherwise 0.</summary>
    public int FoundVersion { get; }

    /// <summary>The newest format version this build reads, when a version was the problem; otherwise 0.</summary>
    public int MaxSupportedVersion { get; }
}
