namespace Ghostie.Sync;

/// <summary>
/// Rules for the names of objects in a repository: at most 64 characters of <c>[a-z0-9/]</c>, no empty
/// segment. Such names are valid on every supported store (S3 keys, Azure blob names, gist files after
/// mapping, file systems that fold case), and reveal nothing when they are random or keyed hashes.
/// </summary>
public static class ObjectName
{
    /// <summary>The longest name allowed, in characters.</summary>
    public const int MaxLength = 64;

    /// <summary>Whether <paramref name="name"/> follows the rules.</summary>
    /// <param name="name">The candidate name.</param>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name[0] == '/' || name[^1] == '/')
        {
            return false;
        }

        char previous = '\0';
        foreach (char c in name)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '/';
            if (!ok || (c == '/' && previous == '/'))
            {
                return false;
            }

            previous = c;
        }

        return true;
    }

    /// <summary>Throws when <paramref name="name"/> does not follow the rules.</summary>
    /// <param name="name">The candidate name.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="GhostieSyncException">The name is invalid (code <see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static void Validate(string? name, string paramName = "name")
    {
        if (!IsValid(name))
        {
            string shown = name is null ? "(null)" : name.Length > 80 ? string.Concat(name.AsSpan(0, 80), "...") : name;
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Object name '{shown}' (parameter '{paramName}') is invalid: use 1 to {MaxLength} characters of a-z, 0-9 and '/', with no leading, trailing or doubled '/'.");
        }
    }
}
