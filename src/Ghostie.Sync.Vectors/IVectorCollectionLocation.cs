namespace Ghostie.Sync.Vectors;

/// <summary>Implemented by a collection that can say where its records are stored (for example a database table), so
/// that two collections over the same storage can be told apart from two distinct ones. The tiered store refuses two
/// tiers with the same location: the stray-copy cleanup of one would delete the other's records.</summary>
public interface IVectorCollectionLocation
{
    /// <summary>Where the records live, as a stable, comparable text that holds no secret (for example
    /// <c>PostgreSQL db.example:5432/ghostie "public"."ghostie_v_notes_1a2b3c4d"</c>). Two collections with equal
    /// locations share their records.</summary>
    string StorageLocation { get; }
}
