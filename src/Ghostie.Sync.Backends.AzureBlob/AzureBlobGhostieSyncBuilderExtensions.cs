using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.AzureBlob;

/// <summary>Registers the Azure Blob Storage backend on the Ghostie builder. Every overload replaces the backend registered before for
/// the same repository, validates the options when the host starts, and registers <see cref="AzureBlobBackendFactory"/>, which
/// reopens a home whose <c>sync/config.json</c> says "azure". <see cref="AzureBlobBackend"/> is also resolvable by its own type (for <see cref="AzureBlobBackend.RequestCount"/> or <see cref="AzureBlobBackend.CreateContainerIfNotExistsAsync"/>).</summary>
public static class AzureBlobGhostieSyncBuilderExtensions
{
    /// <summary>Uses an Azure Blob Storage container as the repository, with options configured elsewhere (for example
    /// <c>services.Configure&lt;AzureBlobBackendOptions&gt;(...)</c>).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddAzureBlobBackend(this IGhostieSyncBuilder builder) => Register(builder, Options.DefaultName, _ => { });

    /// <summary>Uses an Azure Blob Storage container as the repository.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the endpoint, credential and container (see <see cref="AzureBlobBackendOptions"/>).</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddAzureBlobBackend(this IGhostieSyncBuilder builder, Action<AzureBlobBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, Options.DefaultName, o => o.Configure(configure));
    }

    /// <summary>Uses an Azure Blob Storage container as the repository named <paramref name="name"/>, one of several in this host (see
    /// <see cref="GhostieSyncBuilderExtensions"/>): its backend is the keyed service of that name, its options the named options.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="name">The repository name.</param>
    /// <param name="configure">Sets the endpoint, credential and container (see <see cref="AzureBlobBackendOptions"/>).</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddAzureBlobBackend(this IGhostieSyncBuilder builder, string name, Action<AzureBlobBackendOptions> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, name, o => o.Configure(configure));
    }

    /// <summary>Uses an Azure Blob Storage container as the repository, its options bound from a configuration section (<c>ServiceUri</c>, <c>AccountName</c>, <c>Container</c>, ...).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configuration">The section, for example <c>configuration.GetSection("Ghostie:Azure")</c>.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddAzureBlobBackend(this IGhostieSyncBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(builder, Options.DefaultName, o => o.Bind(configuration));
    }

    private static IGhostieSyncBuilder Register(IGhostieSyncBuilder builder, string name, Action<OptionsBuilder<AzureBlobBackendOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        configure(builder.Services.AddOptions<AzureBlobBackendOptions>(name).ValidateOnStart());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AzureBlobBackendOptions>, OptionsValidator>());
        return builder.AddStorageBackend(name, new AzureBlobBackendFactory(), (sp, o) => new AzureBlobBackend(o, sp.GetService<ILogger<AzureBlobBackend>>()));
    }

    /// <summary>Reports every invalid option with the message the backend would throw.</summary>
    private sealed class OptionsValidator : IValidateOptions<AzureBlobBackendOptions>
    {
        public ValidateOptionsResult Validate(string? name, AzureBlobBackendOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (GhostieSyncException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
