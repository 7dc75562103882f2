using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.AzureBlob;

/// <summary>
/// Builds the Azure Blob backend ("azure") from saved settings: "container" (required), "account" and/or "endpoint",
/// "prefix", and the names of the variables the credential is read from: "key_env" (the account key, default
/// AZURE_STORAGE_KEY) and "sas_env" (a SAS token, default AZURE_STORAGE_SAS_TOKEN). The account key wins when both are found.
/// </summary>
public sealed class AzureBlobBackendFactory : IStorageBackendFactory<AzureBlobBackendOptions>
{
    /// <summary>The backend's name, "azure".</summary>
    public const string BackendName = "azure";

    /// <summary>The account key's name in a credential store.</summary>
    public const string AccountKeySecret = "azure.account_key";

    /// <summary>The SAS token's name in a credential store.</summary>
    public const string SasTokenSecret = "azure.sas_token";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public string Describe(IReadOnlyDictionary<string, string> settings) =>
        $"Azure container '{BackendSettings.Optional(settings, "container")}'" + (BackendSettings.Optional(settings, "endpoint") is { } a ? $" at {a}" : "");

    /// <inheritdoc/>
    public Dictionary<string, string> GetSettings(AzureBlobBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal) { ["container"] = options.Container };
        // A connection string carries the key: only the account and endpoint it names are saved, never the string itself.
        Internal.AzureBlobEndpoint endpoint = Internal.AzureBlobEndpoint.Resolve(options);
        if (endpoint.AccountName is { Length: > 0 } account)
        {
            settings["account"] = account;
        }

        if (options.ServiceUri is not null || options.ConnectionString is not null)
        {
            settings["endpoint"] = endpoint.DisplayEndpoint;
        }

        if (!string.IsNullOrWhiteSpace(options.Prefix))
        {
            settings["prefix"] = options.Prefix.Trim();
        }

        settings["key_env"] = AzureBlobBackendOptions.AccountKeyVariable;
        settings["sas_env"] = AzureBlobBackendOptions.SasTokenVariable;
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
        var options = new AzureBlobBackendOptions
        {
            Container = BackendSettings.Required(settings, "container", BackendName),
            AccountName = BackendSettings.Optional(settings, "account"),
            ServiceUri = BackendSettings.Optional(settings, "endpoint") is { } endpoint ? new Uri(endpoint) : null,
            Prefix = BackendSettings.Optional(settings, "prefix"),
            CreateContainerIfMissing = createStore,
        };
        string keyVariable = BackendSettings.Optional(settings, "key_env") ?? AzureBlobBackendOptions.AccountKeyVariable;
        string sasVariable = BackendSettings.Optional(settings, "sas_env") ?? AzureBlobBackendOptions.SasTokenVariable;
        var keySecret = new BackendSecret(AccountKeySecret, keyVariable);
        var sasSecret = new BackendSecret(SasTokenSecret, sasVariable);
        options.AccountKey = secrets.GetSecret(keySecret);
        options.SasToken = options.AccountKey is null ? secrets.GetSecret(sasSecret) : null;
        if (options.AccountKey is null && options.SasToken is null
            && secrets.AskSecret(keySecret, $"Azure storage account key or SAS token for container {options.Container} (or set {keyVariable}):", echo: false) is { } entered)
        {
            // One question for either credential: a SAS token is recognised by its signature parameter.
            bool sas = entered.Contains("sig=", StringComparison.Ordinal);
            secrets.KeepSecret(sas ? sasSecret : keySecret, entered);
            if (sas)
            {
                options.SasToken = entered;
            }
            else
            {
                options.AccountKey = entered;
            }
        }

        if (options.AccountKey is null && options.SasToken is null)
        {
            throw new MissingBackendCredentialException($"No credential was found for Azure container '{options.Container}'",
                $"{keyVariable} (the account key) or {sasVariable} (a SAS token)");
        }

        return Task.FromResult<IStorageBackend>(new AzureBlobBackend(options, loggerFactory.CreateLogger<AzureBlobBackend>()));
    }
}
