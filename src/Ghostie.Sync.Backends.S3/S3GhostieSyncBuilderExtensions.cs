using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.S3;

/// <summary>Registers the S3 backend on the Ghostie builder. Every overload replaces the backend registered before for
/// the same repository, validates the options when the host starts, and registers <see cref="S3BackendFactory"/>, which
/// reopens a home whose <c>sync/config.json</c> says "s3". The backend is created on first use (with <see cref="S3ConditionalWrites.Auto"/> that first use probes the endpoint once); both <see cref="IStorageBackend"/> and <see cref="S3Backend"/> resolve to the same singleton (the latter exposes <see cref="S3Backend.RequestCount"/>).</summary>
public static class S3GhostieSyncBuilderExtensions
{
    /// <summary>Uses an S3 bucket (or an S3-compatible store) as the repository, with options configured elsewhere (for example
    /// <c>services.Configure&lt;S3BackendOptions&gt;(...)</c>).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddS3Backend(this IGhostieSyncBuilder builder) => Register(builder, Options.DefaultName, _ => { });

    /// <summary>Uses an S3 bucket (or an S3-compatible store) as the repository.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the bucket, endpoint, credentials and upload sizes (see <see cref="S3BackendOptions"/>).</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddS3Backend(this IGhostieSyncBuilder builder, Action<S3BackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, Options.DefaultName, o => o.Configure(configure));
    }

    /// <summary>Uses an S3 bucket (or an S3-compatible store) as the repository named <paramref name="name"/>, one of several in this host (see
    /// <see cref="GhostieSyncBuilderExtensions"/>): its backend is the keyed service of that name, its options the named options.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="name">The repository name.</param>
    /// <param name="configure">Sets the bucket, endpoint, credentials and upload sizes (see <see cref="S3BackendOptions"/>).</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddS3Backend(this IGhostieSyncBuilder builder, string name, Action<S3BackendOptions> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, name, o => o.Configure(configure));
    }

    /// <summary>Uses an S3 bucket (or an S3-compatible store) as the repository, its options bound from a configuration section (<c>Bucket</c>, <c>Region</c>, <c>ServiceUrl</c>, ...; keep keys out of files: leave them to the AWS variables).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configuration">The section, for example <c>configuration.GetSection("Ghostie:S3")</c>.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddS3Backend(this IGhostieSyncBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(builder, Options.DefaultName, o => o.Bind(configuration));
    }

    private static IGhostieSyncBuilder Register(IGhostieSyncBuilder builder, string name, Action<OptionsBuilder<S3BackendOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        configure(builder.Services.AddOptions<S3BackendOptions>(name).ValidateOnStart());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3BackendOptions>, OptionsValidator>());
        return builder.AddStorageBackend(name, new S3BackendFactory(), (sp, o) => S3Backend.Create(o, sp.GetService<ILoggerFactory>()?.CreateLogger<S3Backend>()));
    }

    /// <summary>Reports every invalid option with the message the backend would throw.</summary>
    private sealed class OptionsValidator : IValidateOptions<S3BackendOptions>
    {
        public ValidateOptionsResult Validate(string? name, S3BackendOptions options)
        {
            IReadOnlyList<string> errors = options.GetValidationErrors();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
