namespace Ghostie.Sync;

/// <summary>
/// A backend needs a credential that no source had: not its environment variable, not a store, not a prompt. Its
/// <see cref="GhostieSyncException.Code"/> is <see cref="GhostieErrorCode.NotConfigured"/>; the message says what to
/// set. Catch this type to say it in a host's own words (the CLI adds how to store it on the device).
/// </summary>
public sealed class MissingBackendCredentialException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="what">What is missing, for example "No AWS credentials were found for S3 bucket 'notes'".</param>
    /// <param name="variables">What to set, for example "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".</param>
    /// <param name="innerException">The error that showed the credential is missing, if any.</param>
    public MissingBackendCredentialException(string what, string variables, Exception? innerException = null)
        : base(GhostieErrorCode.NotConfigured, $"{what}: set {variables}.", isTransient: false, innerException)
    {
        What = what;
        Variables = variables;
    }

    /// <summary>What is missing (no secret).</summary>
    public string What { get; }

    /// <summary>The environment variables that would supply it.</summary>
    public string Variables { get; }
}
