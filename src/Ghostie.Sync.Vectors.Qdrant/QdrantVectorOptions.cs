using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Vectors.Qdrant;

/// <summary>Options of <see cref="QdrantVectorStore"/>: the cluster, the key, the user, and what may be sent.</summary>
public sealed class QdrantVectorOptions : RemoteVectorTierOptions
{
    /// <summary>The environment variable the API key is read from: QDRANT_API_KEY.</summary>
    public const string DefaultApiKeyVariable = "QDRANT_API_KEY";

    /// <inheritdoc />
    public override string ApiKeyVariable => DefaultApiKeyVariable;

    /// <summary>The start of every collection name (default "ghostie"; 1 to 16 characters of a-z, 0-9 and '_'). A
    /// collection is <c>{prefix}_{user}_{name}_{8 hex}</c>: give each tier on one cluster its own prefix.</summary>
    public string CollectionPrefix { get; set; } = "ghostie";

    /// <inheritdoc />
    public override IReadOnlyList<string> Problems()
    {
        var problems = new List<string>(base.Problems());
        if (string.IsNullOrEmpty(CollectionPrefix) || CollectionPrefix.Length > 16 || !CollectionPrefix.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
        {
            problems.Add("QdrantVectorOptions.CollectionPrefix must be 1 to 16 characters of a-z, 0-9 and '_'.");
        }

        return problems;
    }
}
