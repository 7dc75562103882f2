using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.GitHubGist;

/// <summary>Registers the GitHub gist backend on the Ghostie builder. Every overload replaces the backend registered before for
/// the same repository, validates the options when the host starts, and registers <see cref="GitHubGistBackendFactory"/>, which
/// reopens a home whose <c>sync/config.json</c> says "gist". A missing token fails the start, not the first sync.</summary>
public static class GitHubGistGhostieSyncBuilderExtensions
{
    /// <summary>Uses secret GitHub gists as the repository, with options configured elsewhere (for example
    /// <c>services.Configure&lt;GitHubGistBackendOptions&gt;(...)</c>); without any, the token comes from GHOSTIE_GITHUB_TOKEN or GITHUB_TOKEN.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddGitHubGistBackend(this IGhostieSyncBuilder builder) => Register(builder, Options.DefaultName, _ => { });

    /// <summary>Uses secret GitHub gists as the repository.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the token (or leave it to GHOSTIE_GITHUB_TOKEN / GITHUB_TOKEN), the tag and limits.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddGitHubGistBackend(this IGhostieSyncBuilder builder, Action<GitHubGistBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, Options.DefaultName, o => o.Configure(configure));
    }

    /// <summary>Uses secret GitHub gists as the repository named <paramref name="name"/>, one of several in this host (see
    /// <see cref="GhostieSyncBuilderExtensions"/>): its backend is the keyed service of that name, its options the named options.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="name">The repository name.</param>
    /// <param name="configure">Sets the token (or leave it to GHOSTIE_GITHUB_TOKEN / GITHUB_TOKEN), the tag and limits.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddGitHubGistBackend(this IGhostieSyncBuilder builder, string name, Action<GitHubGistBackendOptions> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, name, o => o.Configure(configure));
    }

    /// <summary>Uses secret GitHub gists as the repository, its options bound from a configuration section (<c>RepositoryTag</c>, <c>ApiBaseUri</c>, ...; leave the token to GHOSTIE_GITHUB_TOKEN).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configuration">The section, for example <c>configuration.GetSection("Ghostie:Gist")</c>.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddGitHubGistBackend(this IGhostieSyncBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(builder, Options.DefaultName, o => o.Bind(configuration));
    }

    private static IGhostieSyncBuilder Register(IGhostieSyncBuilder builder, string name, Action<OptionsBuilder<GitHubGistBackendOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        configure(builder.Services.AddOptions<GitHubGistBackendOptions>(name).ValidateOnStart());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GitHubGistBackendOptions>, OptionsValidator>());
        return builder.AddStorageBackend(name, new GitHubGistBackendFactory(), (sp, o) => new GitHubGistBackend(o, sp.GetService<ILogger<GitHubGistBackend>>()));
    }

    /// <summary>Reports every invalid option with the message the backend would throw.</summary>
    private sealed class OptionsValidator : IValidateOptions<GitHubGistBackendOptions>
    {
        public ValidateOptionsResult Validate(string? name, GitHubGistBackendOptions options)
        {
            IReadOnlyList<string> errors = options.GetValidationErrors();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
