namespace Ghostie.Sync;

/// <summary>
/// How a backend's interactive authorization (an OAuth installed-app flow) reaches the person at the device: where it
/// writes instructions, how it opens a browser, and how it reads a pasted answer. The host decides what is at hand (the
/// <c>ghostie</c> CLI: a browser only with a display and without <c>--no-browser</c>; a paste only on a terminal).
/// Nothing passed through it is a secret except the pasted answer, which is never written back.
/// </summary>
public sealed class BackendAuthorizationPrompt
{
    /// <summary>Shows one line of instructions (never a token).</summary>
    public required Action<string> Say { get; init; }

    /// <summary>Opens the address in the person's browser and returns whether one was started. Null: no browser here,
    /// the paste flow is used (the person opens the address on any device and pastes back what it ends with).</summary>
    public Func<Uri, bool>? OpenBrowser { get; init; }

    /// <summary>Asks for one line (the redirected address or the code the provider shows) and returns it, or null when
    /// nobody can answer. Null: the paste flow is not possible.</summary>
    public Func<string, string?>? AskLine { get; init; }

    /// <summary>How long the browser flow waits for the provider to redirect back (default 5 minutes).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// A backend factory whose credential is obtained by an interactive authorization (OAuth 2.0 authorization code with
/// PKCE) rather than typed: setup and <c>ghostie sync credentials rotate</c> call <see cref="AuthorizeAsync"/>, keep the
/// credentials it returns in the host's store, and build the backend with them through
/// <see cref="IStorageBackendFactory.CreateAsync(IReadOnlyDictionary{string, string}, IBackendSecretSource, bool, CancellationToken)"/>.
/// </summary>
public interface IAuthorizingBackendFactory : IStorageBackendFactory
{
    /// <summary>Whether the environment supplies a fixed credential that makes an authorization unnecessary
    /// (an access token or refresh token set in its environment variable). Setup then skips the flow.</summary>
    /// <param name="settings">The backend's settings.</param>
    /// <param name="environment">Reads an environment variable.</param>
    bool HasCredentialInEnvironment(IReadOnlyDictionary<string, string> settings, Func<string, string?> environment);

    /// <summary>Runs the authorization and returns the credentials to keep, by their names in a credential store (the
    /// refresh token, and the client secret when one was configured). Nothing is stored here.</summary>
    /// <param name="settings">The backend's settings (client id, endpoints, folder).</param>
    /// <param name="secrets">Where a configured client secret is read from.</param>
    /// <param name="prompt">The person.</param>
    /// <param name="cancellationToken">Cancels the flow.</param>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.NotConfigured"/> (no client id; no browser and
    /// nobody to paste; the redirect did not come within <see cref="BackendAuthorizationPrompt.Timeout"/>),
    /// <see cref="GhostieErrorCode.AccessDenied"/> (the person refused, the provider refused the code),
    /// <see cref="GhostieErrorCode.BackendUnavailable"/> (the token endpoint could not be reached; transient).</exception>
    Task<IReadOnlyDictionary<string, string>> AuthorizeAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets,
        BackendAuthorizationPrompt prompt, CancellationToken cancellationToken = default);
}

/// <summary>
/// The provider refused this device's refresh token (OAuth error <c>invalid_grant</c>): the person revoked the app's
/// access, the token expired (Google: unused for six months, or seven days for an app in "testing"), or it belongs to
/// another client id. Nothing in the repository is affected. The remedy is a new authorization:
/// <c>ghostie sync credentials rotate</c> (or setup again). <see cref="GhostieErrorCode.AccessDenied"/>, not transient;
/// the message never contains a token.
/// </summary>
public sealed class BackendAuthorizationRevokedException : GhostieSyncException
{
    /// <summary>The command that authorizes this device again without touching the repository.</summary>
    public const string RotateCommand = "ghostie sync credentials rotate";

    /// <summary>Creates the exception.</summary>
    /// <param name="provider">The provider, for example "Google" or "Dropbox".</param>
    /// <param name="backend">The backend's name, for example "drive".</param>
    /// <param name="error">The OAuth error code (invalid_grant).</param>
    public BackendAuthorizationRevokedException(string provider, string backend, string error)
        : base(GhostieErrorCode.AccessDenied,
            $"{provider} refused this device's refresh token ({error}): the authorization was revoked or has expired. Nothing in the repository was changed. "
            + $"Run '{RotateCommand}' to authorize this device again (or 'ghostie sync setup --backend {backend}').",
            isTransient: false)
    {
        Provider = provider;
        Backend = backend;
        Error = error;
    }

    /// <summary>The provider.</summary>
    public string Provider { get; }

    /// <summary>The backend's name.</summary>
    public string Backend { get; }

    /// <summary>The OAuth error code.</summary>
    public string Error { get; }
}
