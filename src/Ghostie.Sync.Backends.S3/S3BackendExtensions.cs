using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.S3;

/// <summary>Registers the S3 backend on the Ghostie builder.</summary>
public static class S3BackendExtensions
{
    /// <summary>Uses an S3 bucket (or an S3-compatible store) as the repository, replacing any backend registered
    /// before. The options are validated at start; the backend is created on first use (with
    /// <see cref="S3ConditionalWrites.Auto"/> that first use probes the endpoint once). Both <see cref="IStorageBackend"/>
    /// and <see cref="S3Backend"/> resolve to the same singleton (the latter exposes <see cref="S3Backend.RequestCount"/>).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the bucket, endpoint, credentials and upload sizes.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddS3Backend(this IGhostieSyncBuilder builder, Action<S3BackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<S3BackendOptions>()
            .Configure(configure)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3BackendOptions>, S3BackendOptionsValidator>());
        builder.Services.Replace(ServiceDescriptor.Singleton(sp => S3Backend.Create(
            sp.GetRequiredService<IOptions<S3BackendOptions>>().Value,
            sp.GetService<ILoggerFactory>()?.CreateLogger<S3Backend>())));
        builder.Services.Replace(ServiceDescriptor.Singleton<IStorageBackend>(sp => sp.GetRequiredService<S3Backend>()));
        return builder;
    }

    private sealed class S3BackendOptionsValidator : IValidateOptions<S3BackendOptions>
    {
        public ValidateOptionsResult Validate(string? name, S3BackendOptions options)
        {
            IReadOnlyList<string> errors = options.GetValidationErrors();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
