using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.GitHubGist;

/// <summary>
/// Builds the GitHub gist backend ("gist") from saved settings: "tag" (default "default"), "api" (default
/// https://api.github.com) and "token_env", the variable the token is read from (default GHOSTIE_GITHUB_TOKEN; GITHUB_TOKEN
/// is tried last).
/// </summary>
public sealed class GitHubGistBackendFactory : IStorageBackendFactory<GitHubGistBackendOptions>
{
    /// <summary>The backend's name, "gist".</summary>
    public const string BackendName = "gist";

    /// <summary>The token's name in a credential store.</summary>
    public const string TokenSecret = "gist.token";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public string Describe(IReadOnlyDictionary<string, string> settings) => $"GitHub gists tagged '{BackendSettings.Optional(settings, "tag")}'";

    /// <inheritdoc/>
    public Dictionary<string, string> GetSettings(GitHubGistBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.ApiBaseUri != new GitHubGistBackendOptions().ApiBaseUri)
        {
            settings["api"] = options.ApiBaseUri.ToString();
        }

        settings["tag"] = options.RepositoryTag;
        settings["token_env"] = GitHubGistBackendOptions.TokenVariable;
        return settings;
    }

    /// <inheritdoc/>
    public Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, bool createStore = false,
        CancellationToken cancellationToken = default) =>
        CreateAsync(settings, secrets, NullLoggerFactory.Instance, createStore, cancellationToken);

    /// <inheritdoc/>
    public Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, ILoggerFactory loggerFactory,
        bool createStore = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        cancellationToken.ThrowIfCancellationRequested();
        var options = new GitHubGistBackendOptions { RepositoryTag = BackendSettings.Optional(settings, "tag") ?? "default" };
        if (BackendSettings.Optional(settings, "api") is { } api)
        {
            options.ApiBaseUri = new Uri(api);
        }

        string variable = BackendSettings.Optional(settings, "token_env") ?? GitHubGistBackendOptions.TokenVariable;
        var token = new BackendSecret(TokenSecret, variable);
        options.Token = secrets.GetSecret(token) ?? secrets.GetSecret(token with { EnvironmentVariable = GitHubGistBackendOptions.FallbackTokenVariable });
        if (options.Token is null && secrets.AskSecret(token, $"GitHub token with the gist scope (or set {variable}):", echo: false) is { } typed)
        {
            options.Token = typed;
            secrets.KeepSecret(token, typed);
        }

        if (options.Token is null)
        {
            throw new MissingBackendCredentialException("No GitHub token was found for the gist backend",
                $"{variable} (or {GitHubGistBackendOptions.FallbackTokenVariable}) to a token with the gist scope");
        }

        return Task.FromResult<IStorageBackend>(new GitHubGistBackend(options, loggerFactory.CreateLogger<GitHubGistBackend>()));
    }
}
