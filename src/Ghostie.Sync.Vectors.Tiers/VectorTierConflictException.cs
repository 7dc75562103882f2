namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>
/// Two tiers of one tiered collection store their records in the same place (the same collection object, or, for
/// example, two pgvector tiers on one database with the same schema and table prefix). The store refuses to open
/// them: every move between them would delete the record it just wrote, and every insert would be deleted by the
/// stray-copy cleanup. Give each tier its own table prefix (or schema, or database), or drop one of the tiers.
/// </summary>
public sealed class VectorTierConflictException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="collectionName">The tiered collection.</param>
    /// <param name="first">The first tier.</param>
    /// <param name="second">The tier that shares its storage.</param>
    /// <param name="location">Where both store their records.</param>
    public VectorTierConflictException(string collectionName, VectorTier first, VectorTier second, string location)
        : base(GhostieErrorCode.InvalidArgument,
            $"The {first} and {second} tiers of vector collection '{collectionName}' store their records in the same place ({location}): "
            + "moves and stray-copy cleanup between them would delete the records. Give each tier its own table (for pgvector, a different "
            + "PgVectorOptions.TablePrefix or Schema, or another database), or register only one of them.")
    {
        CollectionName = collectionName;
        FirstTier = first;
        SecondTier = second;
        Location = location;
    }

    /// <summary>The tiered collection.</summary>
    public string CollectionName { get; }

    /// <summary>The first tier.</summary>
    public VectorTier FirstTier { get; }

    /// <summary>The tier that shares its storage with <see cref="FirstTier"/>.</summary>
    public VectorTier SecondTier { get; }

    /// <summary>Where both store their records.</summary>
    public string Location { get; }
}
