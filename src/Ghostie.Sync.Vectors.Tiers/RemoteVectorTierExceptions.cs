namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>
/// A remote vector database (Qdrant, Weaviate, Pinecone) refused the API key (HTTP 401 or 403): the key is wrong,
/// expired, read-only, or not allowed on that cluster, index or collection. Code <see cref="GhostieErrorCode.AccessDenied"/>,
/// never transient: set a valid key (the tier's <c>ApiKey</c> option or its environment variable) and try again. The
/// message never contains the key.
/// </summary>
public sealed class RemoteVectorAccessDeniedException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="service">The database ("Qdrant", "Weaviate", "Pinecone").</param>
    /// <param name="where">The endpoint and object, without secrets.</param>
    /// <param name="status">The HTTP status (401 or 403).</param>
    /// <param name="apiKeyVariable">The environment variable the key is read from when the option is not set.</param>
    public RemoteVectorAccessDeniedException(string service, string where, int status, string apiKeyVariable)
        : base(GhostieErrorCode.AccessDenied,
            $"{service} refused the API key for {where} (HTTP {status}): the key is missing, wrong, expired, read-only or not allowed there. "
            + $"Set a valid key in the tier's ApiKey option or the {apiKeyVariable} environment variable.")
    {
        Service = service;
        Status = status;
    }

    /// <summary>The database.</summary>
    public string Service { get; }

    /// <summary>The HTTP status (401 or 403).</summary>
    public int Status { get; }
}

/// <summary>
/// A remote vector database answered that the index, class or collection a tier points at does not exist (HTTP 404),
/// for example because it was deleted after the tier opened it, or (Pinecone) the configured index was never created
/// and <c>CreateIndexIfMissing</c> is off. Code <see cref="GhostieErrorCode.StorageNotFound"/>, never transient:
/// create it (or let the tier create it), or fix the name.
/// </summary>
public sealed class RemoteVectorStorageNotFoundException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="service">The database ("Qdrant", "Weaviate", "Pinecone").</param>
    /// <param name="what">What is missing ("collection 'ghostie_u1_notes'"), without secrets.</param>
    /// <param name="where">The endpoint.</param>
    /// <param name="advice">What to do next.</param>
    public RemoteVectorStorageNotFoundException(string service, string what, string where, string advice)
        : base(GhostieErrorCode.StorageNotFound, $"{service} has no {what} at {where} (HTTP 404). {advice}")
    {
        Service = service;
        Missing = what;
    }

    /// <summary>The database.</summary>
    public string Service { get; }

    /// <summary>What is missing.</summary>
    public string Missing { get; }
}
