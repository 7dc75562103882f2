using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>Registers the Google Drive backend on the Ghostie builder. Every overload replaces the backend registered before
/// for the same repository, validates the options when the host starts, and registers <see cref="GoogleDriveBackendFactory"/>,
/// which reopens a home whose <c>sync/config.json</c> says "drive". A missing token fails the start, not the first sync.</summary>
public static class GoogleDriveGhostieSyncBuilderExtensions
{
    /// <summary>Uses Google Drive as the repository, with options configured elsewhere (for example
    /// <c>services.Configure&lt;GoogleDriveBackendOptions&gt;(...)</c>).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddGoogleDriveBackend(this IGhostieSyncBuilder builder) => Register(builder, Options.DefaultName, _ => { });

    /// <summary>Uses Google Drive as the repository.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the token provider (or a fixed token), the folder and limits.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddGoogleDriveBackend(this IGhostieSyncBuilder builder, Action<GoogleDriveBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, Options.DefaultName, o => o.Configure(configure));
    }

    /// <summary>Uses Google Drive as the repository named <paramref name="name"/>, one of several in this host (see
    /// <see cref="GhostieSyncBuilderExtensions"/>): its backend is the keyed service of that name, its options the named options.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="name">The repository name.</param>
    /// <param name="configure">Sets the token provider (or a fixed token), the folder and limits.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddGoogleDriveBackend(this IGhostieSyncBuilder builder, string name, Action<GoogleDriveBackendOptions> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, name, o => o.Configure(configure));
    }

    /// <summary>Uses Google Drive as the repository, its options bound from a configuration section (<c>FolderId</c>,
    /// <c>ChunkSize</c>, ...; the token provider is set in code, with <c>services.Configure</c>).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configuration">The section, for example <c>configuration.GetSection("Ghostie:Drive")</c>.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddGoogleDriveBackend(this IGhostieSyncBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(builder, Options.DefaultName, o => o.Bind(configuration));
    }

    private static IGhostieSyncBuilder Register(IGhostieSyncBuilder builder, string name, Action<OptionsBuilder<GoogleDriveBackendOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        configure(builder.Services.AddOptions<GoogleDriveBackendOptions>(name).ValidateOnStart());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GoogleDriveBackendOptions>, OptionsValidator>());
        return builder.AddStorageBackend(name, new GoogleDriveBackendFactory(), (sp, o) => new GoogleDriveBackend(o, sp.GetService<ILogger<GoogleDriveBackend>>()));
    }

    /// <summary>Reports every invalid option with the message the backend would throw.</summary>
    private sealed class OptionsValidator : IValidateOptions<GoogleDriveBackendOptions>
    {
        public ValidateOptionsResult Validate(string? name, GoogleDriveBackendOptions options)
        {
            IReadOnlyList<string> errors = options.GetValidationErrors();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
