using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.Dropbox;

/// <summary>Registers the Dropbox backend on the Ghostie builder. Every overload replaces the backend registered before for
/// the same repository, validates the options when the host starts, and registers <see cref="DropboxBackendFactory"/>, which
/// reopens a home whose <c>sync/config.json</c> says "dropbox". A missing token fails the start, not the first sync.</summary>
public static class DropboxGhostieSyncBuilderExtensions
{
    /// <summary>Uses a Dropbox app folder as the repository, with options configured elsewhere (for example
    /// <c>services.Configure&lt;DropboxBackendOptions&gt;(...)</c>); without any, the token comes from GHOSTIE_DROPBOX_ACCESS_TOKEN.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddDropboxBackend(this IGhostieSyncBuilder builder) => Register(builder, Options.DefaultName, _ => { });

    /// <summary>Uses a Dropbox app folder as the repository.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the access token or a token provider (or leave it to GHOSTIE_DROPBOX_ACCESS_TOKEN), the folder and limits.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddDropboxBackend(this IGhostieSyncBuilder builder, Action<DropboxBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, Options.DefaultName, o => o.Configure(configure));
    }

    /// <summary>Uses a Dropbox app folder as the repository named <paramref name="name"/>, one of several in this host (see
    /// <see cref="GhostieSyncBuilderExtensions"/>): its backend is the keyed service of that name, its options the named options.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="name">The repository name.</param>
    /// <param name="configure">Sets the access token or a token provider (or leave it to GHOSTIE_DROPBOX_ACCESS_TOKEN), the folder and limits.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddDropboxBackend(this IGhostieSyncBuilder builder, string name, Action<DropboxBackendOptions> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, name, o => o.Configure(configure));
    }

    /// <summary>Uses a Dropbox app folder as the repository, its options bound from a configuration section (<c>Folder</c>, <c>UploadSessionThreshold</c>, ...; leave the token to GHOSTIE_DROPBOX_ACCESS_TOKEN).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configuration">The section, for example <c>configuration.GetSection("Ghostie:Dropbox")</c>.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddDropboxBackend(this IGhostieSyncBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(builder, Options.DefaultName, o => o.Bind(configuration));
    }

    private static IGhostieSyncBuilder Register(IGhostieSyncBuilder builder, string name, Action<OptionsBuilder<DropboxBackendOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        configure(builder.Services.AddOptions<DropboxBackendOptions>(name).ValidateOnStart());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DropboxBackendOptions>, OptionsValidator>());
        return builder.AddStorageBackend(name, new DropboxBackendFactory(), (sp, o) => new DropboxBackend(o, sp.GetService<ILogger<DropboxBackend>>()));
    }

    /// <summary>Reports every invalid option with the message the backend would throw.</summary>
    private sealed class OptionsValidator : IValidateOptions<DropboxBackendOptions>
    {
        public ValidateOptionsResult Validate(string? name, DropboxBackendOptions options)
        {
            IReadOnlyList<string> errors = options.GetValidationErrors();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
