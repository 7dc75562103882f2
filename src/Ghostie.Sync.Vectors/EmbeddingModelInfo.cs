namespace Ghostie.Sync.Vectors;

/// <summary>The embedding model a collection's vectors come from, and their dimension. Every collection records
/// one; vectors or generators that do not match it are refused with a <see cref="VectorModelMismatchException"/>,
/// because a cosine score between vectors of two different models is a number without meaning.</summary>
/// <param name="ModelName">The model's id as its provider names it (for example "text-embedding-3-small"); compared
/// ordinally, case-sensitively. 1 to 200 characters.</param>
/// <param name="Dimensions">The vector length, 1 to 65,536.</param>
public sealed record EmbeddingModelInfo(string ModelName, int Dimensions)
{
    /// <summary>The longest model name accepted.</summary>
    public const int MaxModelNameLength = 200;

    /// <summary>The largest dimension accepted.</summary>
    public const int MaxDimensions = 65_536;

    /// <summary>Throws a clear error when the name or the dimension is out of range.</summary>
    /// <exception cref="GhostieSyncException">The name is empty or too long, or the dimension is out of range
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelName) || ModelName.Length > MaxModelNameLength)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The embedding model name must be 1 to {MaxModelNameLength} characters (got {ModelName?.Length ?? 0}).");
        }

        if (Dimensions is < 1 or > MaxDimensions)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The embedding dimension of model '{ModelName}' is {Dimensions}; use 1 to {MaxDimensions}.");
        }
    }

    /// <summary>Throws <see cref="VectorModelMismatchException"/> unless <paramref name="other"/> names the same model
    /// with the same dimension.</summary>
    /// <param name="other">The model a caller asked for or a generator reported.</param>
    /// <param name="collectionName">The collection, for the message.</param>
    /// <exception cref="VectorModelMismatchException">The model or the dimension differs.</exception>
    public void EnsureSameAs(EmbeddingModelInfo other, string collectionName)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!string.Equals(ModelName, other.ModelName, StringComparison.Ordinal) || Dimensions != other.Dimensions)
        {
            throw new VectorModelMismatchException(collectionName, this, other.ModelName, other.Dimensions);
        }
    }

    /// <summary>Throws <see cref="VectorModelMismatchException"/> when <paramref name="vector"/> does not have this
    /// model's dimension, and a <see cref="GhostieSyncException"/> when it holds a NaN or an infinity, or is all zeros
    /// (it has no direction, so no cosine score).</summary>
    /// <param name="vector">The vector.</param>
    /// <param name="collectionName">The collection, for the message.</param>
    /// <param name="what">What the vector is, for the message ("query", "record 'k1'").</param>
    /// <exception cref="VectorModelMismatchException">The length differs from <see cref="Dimensions"/>.</exception>
    /// <exception cref="GhostieSyncException">The vector is not finite or is all zeros (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void EnsureVector(ReadOnlySpan<float> vector, string collectionName, string what)
    {
        if (vector.Length != Dimensions)
        {
            throw new VectorModelMismatchException(collectionName, this, null, vector.Length, what);
        }

        bool nonZero = false;
        foreach (float x in vector)
        {
            if (!float.IsFinite(x))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"The {what} vector for collection '{collectionName}' holds a NaN or an infinity; check the embedding generator.");
            }

            nonZero |= x != 0f;
        }

        if (!nonZero)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The {what} vector for collection '{collectionName}' is all zeros, so it has no direction to compare; check the embedding generator.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{ModelName} ({Dimensions} dimensions)";
}
