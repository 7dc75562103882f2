namespace Ghostie.Sync.Vectors;

/// <summary>One entry of a vector collection: a key, the embedding, and optional string data (for example the memory
/// id, category or title) that filters match on.</summary>
/// <param name="Key">The record's key, unique in its collection: 1 to <see cref="MaxKeyLength"/> characters.</param>
/// <param name="Vector">The embedding; its length must equal the collection's dimension. Collections compare by
/// cosine similarity, so the length of the vector does not matter (local collections store it unit-normalized, and
/// <see cref="IVectorCollection.GetAsync"/> may return it that way).</param>
/// <param name="Data">Optional string properties; <see cref="VectorSearchOptions.Filter"/> matches them by equality.</param>
public sealed record VectorRecord(string Key, ReadOnlyMemory<float> Vector, IReadOnlyDictionary<string, string>? Data = null)
{
    /// <summary>The longest key accepted, in characters.</summary>
    public const int MaxKeyLength = 512;

    /// <summary>Throws a clear error when the key is empty or too long, or the vector does not fit <paramref name="model"/>.</summary>
    /// <param name="model">The collection's model.</param>
    /// <param name="collectionName">The collection, for messages.</param>
    /// <exception cref="VectorModelMismatchException">The vector's length differs from the model's dimension.</exception>
    /// <exception cref="GhostieSyncException">The key is invalid, or the vector holds a NaN or infinity or is all zeros
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void EnsureValid(EmbeddingModelInfo model, string collectionName)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (string.IsNullOrEmpty(Key) || Key.Length > MaxKeyLength)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"A record key for collection '{collectionName}' must be 1 to {MaxKeyLength} characters (got {Key?.Length ?? 0}).");
        }

        model.EnsureVector(Vector.Span, collectionName, "record");
    }
}

/// <summary>How a search is run.</summary>
public sealed class VectorSearchOptions
{
    /// <summary>The largest number of results (default 10; 1 to 10,000).</summary>
    public int Top { get; set; } = 10;

    /// <summary>Results scoring below this cosine similarity are left out (default null: no threshold).</summary>
    public float? MinScore { get; set; }

    /// <summary>Only records whose <see cref="VectorRecord.Data"/> holds every one of these key/value pairs (ordinal
    /// equality) are returned (default null: no filter).</summary>
    public IReadOnlyDictionary<string, string>? Filter { get; set; }

    /// <summary>Whether results carry the stored vector (default false: <see cref="VectorRecord.Vector"/> is empty in
    /// results, which saves a copy per result).</summary>
    public bool IncludeVectors { get; set; }

    /// <summary>Throws a clear error when a value is out of range.</summary>
    /// <exception cref="GhostieSyncException"><see cref="Top"/> is out of range or <see cref="MinScore"/> is NaN
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        if (Top is < 1 or > 10_000)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"VectorSearchOptions.Top is {Top}; use 1 to 10,000.");
        }

        if (MinScore is float min && float.IsNaN(min))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "VectorSearchOptions.MinScore is NaN; use a number or null.");
        }
    }

    /// <summary>Whether a record's data passes <see cref="Filter"/>: every filter pair present with an equal value.</summary>
    /// <param name="data">The record's data.</param>
    public bool Matches(IReadOnlyDictionary<string, string>? data)
    {
        if (Filter is null || Filter.Count == 0)
        {
            return true;
        }

        if (data is null)
        {
            return false;
        }

        foreach (KeyValuePair<string, string> pair in Filter)
        {
            if (!data.TryGetValue(pair.Key, out string? value) || !string.Equals(value, pair.Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>One search result.</summary>
/// <param name="Record">The record found (its vector is empty unless <see cref="VectorSearchOptions.IncludeVectors"/>).</param>
/// <param name="Score">The cosine similarity to the query, in [-1, 1]; higher is closer.</param>
public sealed record VectorSearchResult(VectorRecord Record, float Score);
