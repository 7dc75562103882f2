using System.Net;

namespace Ghostie.Sync.Backends.AzureBlob.Internal;

/// <summary>The validated, resolved form of <see cref="AzureBlobBackendOptions"/>: where requests go and how they
/// are authorized. Error messages built here never contain a key, a SAS or a connection string.</summary>
internal sealed class AzureBlobEndpoint
{
    /// <summary>Azurite's well-known development account (public, documented by Microsoft).</summary>
    internal const string DevelopmentAccount = "devstoreaccount1";

    private const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private AzureBlobEndpoint(Uri serviceUri, string? accountName, byte[]? key, string? sas, string container, string blobPrefix)
    {
        ServiceUri = serviceUri;
        AccountName = accountName;
        Key = key;
        Sas = sas;
        Container = container;
        BlobPrefix = blobPrefix;
    }

    /// <summary>The account endpoint, without query or trailing '/'.</summary>
    public Uri ServiceUri { get; }

    /// <summary>The account name (null only with a SAS, which does not need it).</summary>
    public string? AccountName { get; }

    /// <summary>The decoded account key, for Shared Key; null with a SAS.</summary>
    public byte[]? Key { get; }

    /// <summary>The SAS query (no leading '?'); null with Shared Key.</summary>
    public string? Sas { get; }

    /// <summary>The container name.</summary>
    public string Container { get; }

    /// <summary>"" or the repository prefix with a trailing '/'.</summary>
    public string BlobPrefix { get; }

    /// <summary>The endpoint as shown to people: scheme, host, port, path; never a query.</summary>
    public string DisplayEndpoint => ServiceUri.GetLeftPart(UriPartial.Path).TrimEnd('/');

    /// <summary>Validates and resolves <paramref name="options"/>.</summary>
    /// <exception cref="GhostieSyncException">Something is missing or invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static AzureBlobEndpoint Resolve(AzureBlobBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Uri? serviceUri = options.ServiceUri;
        string? accountName = Blank(options.AccountName);
        string? accountKey = Blank(options.AccountKey);
        string? sas = Blank(options.SasToken);

        if (Blank(options.ConnectionString) is string connectionString)
        {
            ConnectionStringParts parts = ParseConnectionString(connectionString);
            serviceUri ??= parts.BlobEndpoint;
            accountName ??= parts.AccountName;
            if (accountKey is null && sas is null)
            {
                accountKey = parts.AccountKey;
                sas = parts.SharedAccessSignature;
            }
        }

        if (serviceUri is null)
        {
            throw Invalid("AzureBlobBackendOptions.ServiceUri is not set: give the account's Blob endpoint (https://ACCOUNT.blob.core.windows.net, or http://127.0.0.1:10000/devstoreaccount1 for Azurite) or a ConnectionString.");
        }

        if (!serviceUri.IsAbsoluteUri || (serviceUri.Scheme != Uri.UriSchemeHttps && serviceUri.Scheme != Uri.UriSchemeHttp))
        {
            throw Invalid("AzureBlobBackendOptions.ServiceUri must be an absolute http or https URL such as https://ACCOUNT.blob.core.windows.net.");
        }

        if (!string.IsNullOrEmpty(serviceUri.Query) && serviceUri.Query != "?")
        {
            // A SAS URL pasted as the endpoint: its query is the token.
            sas ??= serviceUri.Query;
        }

        if (!string.IsNullOrEmpty(serviceUri.Fragment) || !string.IsNullOrEmpty(serviceUri.UserInfo))
        {
            throw Invalid("AzureBlobBackendOptions.ServiceUri must not contain user information or a '#' fragment.");
        }

        var cleanUri = new Uri(serviceUri.GetLeftPart(UriPartial.Path).TrimEnd('/'));
        accountName ??= InferAccountName(cleanUri);
        if (accountName is not null && !IsValidAccountName(accountName))
        {
            throw Invalid($"AzureBlobBackendOptions.AccountName '{accountName}' is not a storage account name: use 3 to 24 characters of a-z and 0-9.");
        }

        if (accountKey is not null && sas is not null)
        {
            throw Invalid("Both an account key and a SAS token are set: set AzureBlobBackendOptions.AccountKey or SasToken, not both.");
        }

        byte[]? key = null;
        if (options.Credential is not null)
        {
            if (accountKey is not null || sas is not null)
            {
                throw Invalid("AzureBlobBackendOptions.Credential (a token credential) is set together with an account key or SAS token: set one of them.");
            }

            if (serviceUri.Scheme != Uri.UriSchemeHttps)
            {
                throw Invalid("AzureBlobBackendOptions.Credential needs an https ServiceUri: tokens are never sent over plain http.");
            }
        }
        else if (accountKey is not null)
        {
            key = DecodeKey(accountKey);
            if (accountName is null)
            {
                throw Invalid("AzureBlobBackendOptions.AccountName is not set and cannot be read from ServiceUri: Shared Key authorization needs it.");
            }
        }
        else if (sas is not null)
        {
            sas = NormalizeSas(sas.Trim().TrimStart('?'));
            if (!sas.Contains("sig=", StringComparison.Ordinal))
            {
                throw Invalid("AzureBlobBackendOptions.SasToken is not a shared access signature (it has no 'sig' parameter): paste the token's query string, for example 'sv=...&sig=...'.");
            }
        }
        else
        {
            throw Invalid($"No Azure credential is set: set AzureBlobBackendOptions.AccountKey (Shared Key), SasToken, Credential (a token credential), or ConnectionString (or the environment variables {AzureBlobBackendOptions.ConnectionStringVariable}, {AzureBlobBackendOptions.AccountKeyVariable} or {AzureBlobBackendOptions.SasTokenVariable}, read by LoadFromEnvironment).");
        }

        string container = options.Container ?? "";
        if (!IsValidContainerName(container))
        {
            throw Invalid($"AzureBlobBackendOptions.Container '{container}' is not a valid container name: use 3 to 63 characters of a-z, 0-9 and '-', starting with a letter or digit, with no doubled '-'.");
        }

        string blobPrefix = "";
        if (Blank(options.Prefix) is string prefix)
        {
            if (!IsValidPrefix(prefix))
            {
                throw Invalid($"AzureBlobBackendOptions.Prefix '{prefix}' is not valid: use up to 512 characters of letters, digits, '-', '_', '.' and '/', with no leading, trailing or doubled '/' and no '.' or '..' segment.");
            }

            blobPrefix = prefix + "/";
        }

        Validate(options);
        return new AzureBlobEndpoint(cleanUri, accountName, key, sas, container, blobPrefix);
    }

    private static void Validate(AzureBlobBackendOptions options)
    {
        if (options.BlockSize is < AzureBlobBackendOptions.MinBlockSize or > AzureBlobBackendOptions.MaxBlockSize)
        {
            throw Invalid($"AzureBlobBackendOptions.BlockSize is {options.BlockSize:N0}; use {AzureBlobBackendOptions.MinBlockSize:N0} to {AzureBlobBackendOptions.MaxBlockSize:N0} bytes.");
        }

        if (options.SinglePutThreshold < 0 || options.SinglePutThreshold > options.BlockSize)
        {
            throw Invalid($"AzureBlobBackendOptions.SinglePutThreshold is {options.SinglePutThreshold:N0}; use 0 to BlockSize ({options.BlockSize:N0}) bytes.");
        }

        if (options.ListPageSize is < 1 or > 5000)
        {
            throw Invalid($"AzureBlobBackendOptions.ListPageSize is {options.ListPageSize}; use 1 to 5000.");
        }

        if (options.Retry is null)
        {
            throw Invalid("AzureBlobBackendOptions.Retry must be set.");
        }

        options.Retry.Validate();
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static GhostieSyncException Invalid(string message) => new(GhostieErrorCode.InvalidArgument, message);

    private static byte[] DecodeKey(string accountKey)
    {
        try
        {
            byte[] key = Convert.FromBase64String(accountKey);
            if (key.Length == 0)
            {
                throw new FormatException();
            }

            return key;
        }
        catch (FormatException)
        {
            throw Invalid("AzureBlobBackendOptions.AccountKey is not valid base64: copy the account's key1 or key2 from the portal (Access keys) exactly.");
        }
    }

    /// <summary>The account of https://ACCOUNT.blob.core.windows.net (any *.blob.* host), or the first path segment of
    /// a path-style endpoint (Azurite, IP hosts, localhost).</summary>
    private static string? InferAccountName(Uri uri)
    {
        string path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            string first = path.Split('/')[0];
            return IsValidAccountName(first) ? first : null;
        }

        string[] labels = uri.Host.Split('.');
        return labels.Length > 2 && labels[1] == "blob" && !IPAddress.TryParse(uri.Host, out _) ? labels[0] : null;
    }

    internal static bool IsValidAccountName(string name) =>
        name.Length is >= 3 and <= 24 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'));

    internal static bool IsValidContainerName(string name)
    {
        if (name.Length is < 3 or > 63 || name[0] == '-' || name[^1] == '-' || name.Contains("--", StringComparison.Ordinal))
        {
            return false;
        }

        return name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
    }

    /// <summary>Escapes every value of a SAS token the same way, whether it was pasted escaped (as the portal gives it) or
    /// decoded (as some tools show it): a raw '+' in the signature would otherwise reach the service as a space.</summary>
    internal static string NormalizeSas(string sas) =>
        string.Join('&', sas.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            return equals < 0 ? pair : pair[..(equals + 1)] + Uri.EscapeDataString(Uri.UnescapeDataString(pair[(equals + 1)..]));
        }));

    private static bool IsValidPrefix(string prefix)
    {
        if (prefix.Length > 512 || prefix[0] == '/' || prefix[^1] == '/' || prefix.Contains("//", StringComparison.Ordinal)
            || prefix.Split('/').Any(segment => segment is "." or ".."))
        {
            return false;
        }

        return prefix.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.' or '/');
    }

    private sealed record ConnectionStringParts(Uri? BlobEndpoint, string? AccountName, string? AccountKey, string? SharedAccessSignature);

    /// <summary>Reads the parts of a connection string this backend uses. Unknown keys are ignored (the string may be
    /// shared with the queue or table services).</summary>
    private static ConnectionStringParts ParseConnectionString(string connectionString)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int index = 0;
        foreach (string rawPart in connectionString.Split(';'))
        {
            index++;
            string part = rawPart.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw Invalid($"AzureBlobBackendOptions.ConnectionString is not valid: part {index} is not 'Name=value'. Copy the connection string from the portal (Access keys) exactly.");
            }

            values[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        if (values.TryGetValue("UseDevelopmentStorage", out string? development) && development.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            string proxy = values.TryGetValue("DevelopmentStorageProxyUri", out string? p) ? p.TrimEnd('/') : "http://127.0.0.1";
            return new ConnectionStringParts(new Uri($"{proxy}:10000/{DevelopmentAccount}"), DevelopmentAccount, DevelopmentKey, null);
        }

        values.TryGetValue("AccountName", out string? account);
        Uri? endpoint = null;
        if (values.TryGetValue("BlobEndpoint", out string? blobEndpoint))
        {
            if (!Uri.TryCreate(blobEndpoint, UriKind.Absolute, out endpoint))
            {
                throw Invalid("AzureBlobBackendOptions.ConnectionString has a BlobEndpoint that is not an absolute URL.");
            }
        }
        else if (account is not null)
        {
            string protocol = values.TryGetValue("DefaultEndpointsProtocol", out string? proto) ? proto.ToLowerInvariant() : "https";
            string suffix = values.TryGetValue("EndpointSuffix", out string? s) ? s : "core.windows.net";
            if (protocol is not ("https" or "http") || !Uri.TryCreate($"{protocol}://{account}.blob.{suffix}", UriKind.Absolute, out endpoint))
            {
                throw Invalid("AzureBlobBackendOptions.ConnectionString has an invalid DefaultEndpointsProtocol, AccountName or EndpointSuffix.");
            }
        }

        values.TryGetValue("AccountKey", out string? key);
        values.TryGetValue("SharedAccessSignature", out string? sas);
        return new ConnectionStringParts(endpoint, account, key, sas);
    }
}
