namespace Ghostie.Sync.Backends.AzureBlob;

/// <summary>
/// Options of the Azure Blob Storage backend. Give the account endpoint (<see cref="ServiceUri"/>), a credential
/// (<see cref="AccountKey"/> for Shared Key, or <see cref="SasToken"/>), and the <see cref="Container"/>; or a
/// <see cref="ConnectionString"/> that carries the endpoint and credential. Validated when the backend is created
/// (and at host start when registered with <see cref="AzureBlobGhostieSyncBuilderExtensions.AddAzureBlobBackend(IGhostieSyncBuilder, Action{AzureBlobBackendOptions})"/>).
/// </summary>
public sealed class AzureBlobBackendOptions
{
    /// <summary>The largest block size accepted (100 MiB); the service allows more, but one block is held in memory.</summary>
    public const int MaxBlockSize = 100 * 1024 * 1024;

    /// <summary>The smallest block size accepted (16 KiB).</summary>
    public const int MinBlockSize = 16 * 1024;

    /// <summary>The environment variable read by <see cref="LoadFromEnvironment"/> for a connection string.</summary>
    public const string ConnectionStringVariable = "AZURE_STORAGE_CONNECTION_STRING";

    /// <summary>The environment variable read by <see cref="LoadFromEnvironment"/> for the account name.</summary>
    public const string AccountNameVariable = "AZURE_STORAGE_ACCOUNT";

    /// <summary>The environment variable read by <see cref="LoadFromEnvironment"/> for the account key.</summary>
    public const string AccountKeyVariable = "AZURE_STORAGE_KEY";

    /// <summary>The environment variable read by <see cref="LoadFromEnvironment"/> for a SAS token.</summary>
    public const string SasTokenVariable = "AZURE_STORAGE_SAS_TOKEN";

    /// <summary>The Blob service endpoint of the account: <c>https://ACCOUNT.blob.core.windows.net</c>, or path-style
    /// <c>http://127.0.0.1:10000/devstoreaccount1</c> for Azurite. No default; required unless
    /// <see cref="ConnectionString"/> names it. A query string here is taken as the SAS token (and never shown).</summary>
    public Uri? ServiceUri { get; set; }

    /// <summary>The storage account name. Default: taken from <see cref="ServiceUri"/> (the first host label of
    /// <c>*.blob.core.windows.net</c>, or the first path segment of a path-style endpoint). Needed for Shared Key.</summary>
    public string? AccountName { get; set; }

    /// <summary>The account key (base64) for Shared Key authorization. Secret: never logged or shown. Set this or
    /// <see cref="SasToken"/>, not both.</summary>
    public string? AccountKey { get; set; }

    /// <summary>A shared access signature token (the query string of a SAS URL, with or without the leading '?').
    /// Secret: never logged or shown. It needs read, write, delete and list permissions on the container
    /// (<c>sp=rwdl</c>; an account SAS also needs the container and object resource types, <c>srt=co</c>).</summary>
    public string? SasToken { get; set; }

    /// <summary>A Microsoft Entra ID credential (any <see cref="Azure.Core.TokenCredential"/>, for example Azure.Identity's
    /// <c>DefaultAzureCredential</c> or <c>ManagedIdentityCredential</c>) for OAuth authorization; the identity needs a
    /// data role on the container (Storage Blob Data Contributor). Needs an https <see cref="ServiceUri"/>. Set this,
    /// <see cref="AccountKey"/> or <see cref="SasToken"/>, one of them.</summary>
    public Azure.Core.TokenCredential? Credential { get; set; }

    /// <summary>An Azure Storage connection string (<c>DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net</c>,
    /// <c>BlobEndpoint=...;SharedAccessSignature=...</c>, or <c>UseDevelopmentStorage=true</c>). Its values fill the
    /// options left unset. Secret when it holds a key or SAS.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The container that holds the repository: 3 to 63 characters of a-z, 0-9 and '-', starting with a
    /// letter or digit, no doubled '-'. Required.</summary>
    public string Container { get; set; } = "";

    /// <summary>A folder-like prefix inside the container, so several repositories can share one container (for
    /// example <c>ghostie/alice</c>). Letters, digits, '-', '_', '.' and '/' (no leading, trailing or doubled '/').
    /// Default: none (the repository fills the container).</summary>
    public string? Prefix { get; set; }

    /// <summary>Whether a missing container is created on first use. Default <see langword="false"/>: a missing
    /// container is reported as <see cref="GhostieErrorCode.StorageNotFound"/>, so a typo never silently starts an
    /// empty repository.</summary>
    public bool CreateContainerIfMissing { get; set; }

    /// <summary>The size of the blocks a large object is staged in (Put Block), in bytes. One block is held in memory
    /// per upload. Default 8 MiB; <see cref="MinBlockSize"/> to <see cref="MaxBlockSize"/>.</summary>
    public int BlockSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>The most blocks one blob may be committed with: 50,000 (the service's limit). Tests lower it so the
    /// limit can be reached without gigabytes of data.</summary>
    internal int MaxBlockCount { get; set; } = 50_000;

    /// <summary>Objects up to this size are written with one Put Blob request; larger ones in blocks. Default 8 MiB;
    /// 0 to <see cref="BlockSize"/>.</summary>
    public int SinglePutThreshold { get; set; } = 8 * 1024 * 1024;

    /// <summary>Names requested per List Blobs page (the service's <c>maxresults</c>). Default 5,000 (the service
    /// maximum); 1 to 5,000.</summary>
    public int ListPageSize { get; set; } = 5000;

    /// <summary>Retries of transient failures (5xx, timeouts, reset connections) and throttling (503 ServerBusy with
    /// Retry-After, 429). Default: <see cref="BackendRetryOptions"/> defaults.</summary>
    public BackendRetryOptions Retry { get; set; } = new();

    /// <summary>The handler requests are sent through (tests insert fault injection; hosts may add a proxy). Not
    /// disposed by the backend. Default: a <see cref="SocketsHttpHandler"/> owned by the backend.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>
    /// Fills the credential options left unset from the environment variables the Azure CLI uses:
    /// <c>AZURE_STORAGE_CONNECTION_STRING</c>, <c>AZURE_STORAGE_ACCOUNT</c>, <c>AZURE_STORAGE_KEY</c> and
    /// <c>AZURE_STORAGE_SAS_TOKEN</c>. Nothing is read unless this is called.
    /// </summary>
    /// <param name="getVariable">Reads a variable; default <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <returns>These options.</returns>
    public AzureBlobBackendOptions LoadFromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        bool hasCredential = AccountKey is not null || SasToken is not null || ConnectionString is not null;
        if (!hasCredential)
        {
            ConnectionString = NonEmpty(getVariable(ConnectionStringVariable));
            if (ConnectionString is null)
            {
                AccountKey = NonEmpty(getVariable(AccountKeyVariable));
                SasToken = AccountKey is null ? NonEmpty(getVariable(SasTokenVariable)) : null;
            }
        }

        AccountName ??= NonEmpty(getVariable(AccountNameVariable));
        return this;
    }

    /// <summary>Throws a clear error naming the first invalid option.</summary>
    /// <exception cref="GhostieSyncException">An option is missing or invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate() => _ = Internal.AzureBlobEndpoint.Resolve(this);
}
