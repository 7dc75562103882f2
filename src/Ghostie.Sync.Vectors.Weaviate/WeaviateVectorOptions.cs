using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Vectors.Weaviate;

/// <summary>Options of <see cref="WeaviateVectorStore"/>: the cluster, the key, the user, and what may be sent.</summary>
public sealed class WeaviateVectorOptions : RemoteVectorTierOptions
{
    /// <summary>The environment variable the API key is read from: WEAVIATE_API_KEY.</summary>
    public const string DefaultApiKeyVariable = "WEAVIATE_API_KEY";

    /// <inheritdoc />
    public override string ApiKeyVariable => DefaultApiKeyVariable;

    /// <summary>The start of every class (collection) name (default "Ghostie"; 1 to 16 ASCII letters and digits,
    /// starting with an upper-case letter, as Weaviate class names must). A class is
    /// <c>{prefix}_{user}_{name}_{8 hex}</c>: give each tier on one cluster its own prefix.</summary>
    public string ClassPrefix { get; set; } = "Ghostie";

    /// <inheritdoc />
    public override IReadOnlyList<string> Problems()
    {
        var problems = new List<string>(base.Problems());
        if (string.IsNullOrEmpty(ClassPrefix) || ClassPrefix.Length > 16 || !char.IsAsciiLetterUpper(ClassPrefix[0]) || !ClassPrefix.All(char.IsAsciiLetterOrDigit))
        {
            problems.Add("WeaviateVectorOptions.ClassPrefix must be 1 to 16 ASCII letters and digits, starting with an upper-case letter.");
        }

        return problems;
    }
}
