namespace Ghostie.Sync.Crypto;

/// <summary>
/// A key file asks for key derivation parameters outside what this version accepts (for example Argon2id memory of
/// 100 GiB, or billions of passes): nothing was derived, so a damaged or hostile key file cannot make a device allocate
/// without bound or work forever. Like any key file that cannot be read, it is skipped when another key file opens the
/// repository (<see cref="RepositoryKeys.SkippedKeyFiles"/>). Code <see cref="GhostieErrorCode.IntegrityFailure"/>.
/// </summary>
public sealed class KeyFileParametersException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="objectName">The key file's storage name.</param>
    /// <param name="field">The offending field, as docs/format.md names it (for example "Argon2id memory (m, KiB)").</param>
    /// <param name="value">The value found in the key file.</param>
    /// <param name="minimum">The smallest value accepted.</param>
    /// <param name="maximum">The largest value accepted.</param>
    public KeyFileParametersException(string objectName, string field, long value, long minimum, long maximum)
        : base(GhostieErrorCode.IntegrityFailure,
            $"Key file '{objectName}' has {field} {value:N0}, outside the {minimum:N0} to {maximum:N0} this version accepts, so it was not used " +
            "(a key file may not make a device allocate or compute without bound). It is damaged, hostile, or written by a newer version: " +
            "remove it ('ghostie key remove <id>' or RemoveKeyFileAsync) and add the passphrase again, or upgrade Ghostie.Sync.")
    {
        ObjectName = objectName;
        Field = field;
        Value = value;
        Minimum = minimum;
        Maximum = maximum;
    }

    /// <summary>The key file's storage name (<c>keys/&lt;id&gt;</c>).</summary>
    public string ObjectName { get; }

    /// <summary>The offending field.</summary>
    public string Field { get; }

    /// <summary>The value found.</summary>
    public long Value { get; }

    /// <summary>The smallest value accepted.</summary>
    public long Minimum { get; }

    /// <summary>The largest value accepted.</summary>
    public long Maximum { get; }

    /// <summary>Why the key file was skipped, without any secret: the field, its value and the accepted range.</summary>
    internal string Reason => $"its {Field} is {Value:N0}, outside {Minimum:N0}..{Maximum:N0}";
}
