namespace Ghostie.Sync.Vectors;

/// <summary>The rule for collection names, shared by every store: 1 to 64 characters of [a-z0-9_-], so a name is
/// safe as a file name, an object-name component and a SQL identifier suffix.</summary>
public static class VectorCollectionName
{
    /// <summary>The longest name accepted.</summary>
    public const int MaxLength = 64;

    /// <summary>Throws a clear error unless <paramref name="name"/> follows the rule.</summary>
    /// <param name="name">The name.</param>
    /// <exception cref="GhostieSyncException">The name is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static void EnsureValid(string name)
    {
        if (!IsValid(name))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The collection name '{Truncate(name)}' is not valid: use 1 to {MaxLength} characters of a-z, 0-9, '_' and '-'.");
        }
    }

    /// <summary>Whether <paramref name="name"/> follows the rule.</summary>
    /// <param name="name">The name.</param>
    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-');

    private static string Truncate(string? name) => name is null ? "" : name.Length <= 70 ? name : name[..70] + "...";
}
