using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.GitHubGist;

/// <summary>Registers the GitHub gist backend on the Ghostie builder.</summary>
public static class GitHubGistBackendExtensions
{
    /// <summary>Uses secret GitHub gists as the repository (replacing any backend registered before). The options are
    /// validated when the host starts (a missing token fails the start, not the first sync).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the token (or leave it to GHOSTIE_GITHUB_TOKEN / GITHUB_TOKEN), the tag and limits.</param>
    public static IGhostieSyncBuilder AddGitHubGistBackend(this IGhostieSyncBuilder builder, Action<GitHubGistBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<GitHubGistBackendOptions>()
            .Configure(configure)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GitHubGistBackendOptions>, OptionsValidator>());
        builder.Services.Replace(ServiceDescriptor.Singleton<IStorageBackend>(sp => new GitHubGistBackend(
            sp.GetRequiredService<IOptions<GitHubGistBackendOptions>>().Value, sp.GetService<ILogger<GitHubGistBackend>>())));
        return builder;
    }

    /// <summary>Uses secret GitHub gists with default options: the token comes from GHOSTIE_GITHUB_TOKEN or GITHUB_TOKEN.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    public static IGhostieSyncBuilder AddGitHubGistBackend(this IGhostieSyncBuilder builder) => builder.AddGitHubGistBackend(_ => { });

    private sealed class OptionsValidator : IValidateOptions<GitHubGistBackendOptions>
    {
        public ValidateOptionsResult Validate(string? name, GitHubGistBackendOptions options)
        {
            IReadOnlyList<string> errors = options.GetValidationErrors();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
