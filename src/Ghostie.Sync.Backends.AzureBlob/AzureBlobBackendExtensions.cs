using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.AzureBlob;

/// <summary>Registers the Azure Blob Storage backend on the Ghostie builder.</summary>
public static class AzureBlobBackendExtensions
{
    /// <summary>Uses an Azure Blob Storage container as the repository (replacing any backend registered before). The
    /// options are validated when the host starts; <see cref="AzureBlobBackend"/> is also resolvable by its own type
    /// (for <see cref="AzureBlobBackend.RequestCount"/> or <see cref="AzureBlobBackend.CreateContainerIfNotExistsAsync"/>).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the endpoint, credential and container (see <see cref="AzureBlobBackendOptions"/>).</param>
    public static IGhostieSyncBuilder AddAzureBlobBackend(this IGhostieSyncBuilder builder, Action<AzureBlobBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<AzureBlobBackendOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AzureBlobBackendOptions>, AzureBlobBackendOptionsValidator>());
        builder.Services.TryAddSingleton(sp => new AzureBlobBackend(
            sp.GetRequiredService<IOptions<AzureBlobBackendOptions>>().Value, sp.GetService<ILogger<AzureBlobBackend>>()));
        builder.Services.Replace(ServiceDescriptor.Singleton<IStorageBackend>(sp => sp.GetRequiredService<AzureBlobBackend>()));
        return builder;
    }

    /// <summary>Reports the first invalid option with the same message the backend would throw.</summary>
    private sealed class AzureBlobBackendOptionsValidator : IValidateOptions<AzureBlobBackendOptions>
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
