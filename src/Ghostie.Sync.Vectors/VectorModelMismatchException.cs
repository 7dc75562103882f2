namespace Ghostie.Sync.Vectors;

/// <summary>A vector, a generator or a request does not match the embedding model or the dimension a collection was
/// created with. Code <see cref="GhostieErrorCode.InvalidArgument"/>; never transient: re-embed with the
/// collection's model, or use another collection.</summary>
public sealed class VectorModelMismatchException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="collectionName">The collection.</param>
    /// <param name="expected">The collection's model.</param>
    /// <param name="actualModelName">The model offered, when known.</param>
    /// <param name="actualDimensions">The dimension offered.</param>
    /// <param name="what">What was offered ("query", "record 'k1'", "generator"); null for a model request.</param>
    public VectorModelMismatchException(string collectionName, EmbeddingModelInfo expected, string? actualModelName, int actualDimensions, string? what = null)
        : base(GhostieErrorCode.InvalidArgument, BuildMessage(collectionName, expected, actualModelName, actualDimensions, what))
    {
        ArgumentNullException.ThrowIfNull(expected);
        CollectionName = collectionName;
        Expected = expected;
        ActualModelName = actualModelName;
        ActualDimensions = actualDimensions;
    }

    /// <summary>The collection.</summary>
    public string CollectionName { get; }

    /// <summary>The collection's model and dimension.</summary>
    public EmbeddingModelInfo Expected { get; }

    /// <summary>The model offered, when known.</summary>
    public string? ActualModelName { get; }

    /// <summary>The dimension offered.</summary>
    public int ActualDimensions { get; }

    private static string BuildMessage(string collectionName, EmbeddingModelInfo expected, string? actualModelName, int actualDimensions, string? what)
    {
        string offered = actualModelName is null ? $"{actualDimensions} dimensions" : $"{actualModelName} ({actualDimensions} dimensions)";
        string subject = what is null ? "was requested with" : $"got a {what} vector of";
        return $"Collection '{collectionName}' holds embeddings of {expected} but {subject} {offered}. "
            + "Scores across different models or dimensions mean nothing: embed with the collection's model, or use a separate collection for the other model.";
    }
}
