namespace Ghostie.Sync;

/// <summary>A credential a backend needs: its name in a device credential store, and the environment variable the saved
/// settings say it is read from.</summary>
/// <param name="Name">The credential's name, for example "s3.secret_access_key" (what a store keeps it under).</param>
/// <param name="EnvironmentVariable">The environment variable to read it from, if the settings name one.</param>
public sealed record BackendSecret(string Name, string? EnvironmentVariable);

/// <summary>
/// Where a <see cref="IStorageBackendFactory"/> gets credentials. Secrets never come from <c>sync/config.json</c>: it
/// names only the variables they are read from. <see cref="EnvironmentSecretSource"/> reads those variables; a host can add
/// its own store (the <c>ghostie</c> CLI adds the device's encrypted credential store and, during setup, a prompt).
/// </summary>
public interface IBackendSecretSource
{
    /// <summary>The credential, or null when this source has none.</summary>
    /// <param name="secret">Which credential.</param>
    string? GetSecret(BackendSecret secret);

    /// <summary>Asks the person for a credential none of the sources had; null when nobody can be asked (the default).</summary>
    /// <param name="secret">Which credential (the factory may decide from the answer which one it was, see <see cref="KeepSecret"/>).</param>
    /// <param name="prompt">The question, naming the storage and the variable that could be set instead. Never a secret.</param>
    /// <param name="echo">Whether the answer may be shown as typed (an access key id; never a secret key).</param>
    string? AskSecret(BackendSecret secret, string prompt, bool echo) => null;

    /// <summary>Called with a credential obtained from <see cref="AskSecret"/>, under the name it turned out to be, so the
    /// source can keep it (once the operation succeeded). The default keeps nothing.</summary>
    /// <param name="secret">Which credential.</param>
    /// <param name="value">Its value.</param>
    void KeepSecret(BackendSecret secret, string value)
    {
    }
}

/// <summary>Reads each credential from the environment variable its <see cref="BackendSecret"/> names; asks nobody.</summary>
public sealed class EnvironmentSecretSource : IBackendSecretSource
{
    private readonly Func<string, string?> _getVariable;

    /// <summary>Reads the process environment.</summary>
    public static EnvironmentSecretSource Instance { get; } = new(Environment.GetEnvironmentVariable);

    /// <summary>Reads variables through <paramref name="getVariable"/> (tests pass a dictionary's lookup).</summary>
    /// <param name="getVariable">Returns a variable's value, or null.</param>
    public EnvironmentSecretSource(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        _getVariable = getVariable;
    }

    /// <inheritdoc/>
    public string? GetSecret(BackendSecret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return secret.EnvironmentVariable is { Length: > 0 } variable && _getVariable(variable) is { Length: > 0 } value ? value : null;
    }
}
