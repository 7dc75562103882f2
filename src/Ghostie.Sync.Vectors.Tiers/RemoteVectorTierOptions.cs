namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>
/// What every remote vector tier (Qdrant, Weaviate, Pinecone) is configured with. Remote tiers are opt-in, and by
/// default they send the database only each record's key and vector (and an id derived from the key): none of the
/// record's data properties, so no memory text, leaves the device unless the host names the properties in
/// <see cref="SendDataProperties"/> or sets <see cref="SendAllData"/>. The vector itself is not private: embeddings can
/// be inverted to approximate text (docs/security.md).
/// </summary>
public abstract class RemoteVectorTierOptions
{
    /// <summary>The database's endpoint (for example <c>https://xyz.eu-central.aws.cloud.qdrant.io:6333</c>). Must be
    /// https, except for a loopback address (a database on this machine, or a test double).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The API key (default null: read from the tier's environment variable, for example QDRANT_API_KEY, when
    /// it is set; no key is sent when neither is). Never logged, never part of a message.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Whose vectors these are: each user gets their own collection, class or namespace (required; 1 to 32
    /// characters of a-z, 0-9, '_' and '-').</summary>
    public string UserId { get; set; } = "";

    /// <summary>The data properties the tier may send to the database (default empty: none). Filters can use only these.
    /// A record read back from the tier carries only these properties.</summary>
    public IList<string> SendDataProperties { get; } = new List<string>();

    /// <summary>Sends every data property (default false). Only for data you would give the database operator.</summary>
    public bool SendAllData { get; set; }

    /// <summary>Records per write request (default 100; 1 to 1,000).</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Retries of 429, 503 and other transient failures (the shared backend retry policy).</summary>
    public BackendRetryOptions Retry { get; } = new();

    /// <summary>The HTTP handler (default null: a pooled <see cref="SocketsHttpHandler"/>); tests give one of their own.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>The environment variable the API key is read from when <see cref="ApiKey"/> is null.</summary>
    public abstract string ApiKeyVariable { get; }

    /// <summary>The key to send: <see cref="ApiKey"/>, else the environment variable, else null.</summary>
    public string? ResolveApiKey() => !string.IsNullOrEmpty(ApiKey) ? ApiKey : Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;

    /// <summary>What is wrong with the options (empty when they are valid).</summary>
    public virtual IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        string type = GetType().Name;
        if (Endpoint is null || !Endpoint.IsAbsoluteUri)
        {
            problems.Add($"{type}.Endpoint must be an absolute https URI of the database.");
        }
        else if (Endpoint.Scheme != Uri.UriSchemeHttps && !(Endpoint.Scheme == Uri.UriSchemeHttp && Endpoint.IsLoopback))
        {
            problems.Add($"{type}.Endpoint must use https (plain http only to a loopback address): the API key and the vectors would cross the network in the clear.");
        }

        if (string.IsNullOrEmpty(UserId) || UserId.Length > 32 || !UserId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-'))
        {
            problems.Add($"{type}.UserId must be 1 to 32 characters of a-z, 0-9, '_' and '-' (each user gets their own collection).");
        }

        if (BatchSize is < 1 or > 1000)
        {
            problems.Add($"{type}.BatchSize must be 1 to 1,000.");
        }

        if (SendDataProperties.Any(string.IsNullOrEmpty))
        {
            problems.Add($"{type}.SendDataProperties holds an empty name.");
        }

        return problems;
    }

    /// <summary>Throws a clear error when the options are not valid.</summary>
    /// <exception cref="GhostieSyncException">An option is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        IReadOnlyList<string> problems = Problems();
        if (problems.Count > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"Invalid {GetType().Name}: " + string.Join(" ", problems));
        }

        Retry.Validate();
    }
}
