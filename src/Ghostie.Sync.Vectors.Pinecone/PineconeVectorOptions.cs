using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Vectors.Pinecone;

/// <summary>Options of <see cref="PineconeVectorStore"/>. <see cref="RemoteVectorTierOptions.Endpoint"/> is the
/// control plane (default https://api.pinecone.io); the data plane is the index's own host, which the control plane
/// names.</summary>
public sealed class PineconeVectorOptions : RemoteVectorTierOptions
{
    /// <summary>The environment variable the API key is read from: PINECONE_API_KEY.</summary>
    public const string DefaultApiKeyVariable = "PINECONE_API_KEY";

    /// <summary>The API version this client is written against, sent as X-Pinecone-Api-Version.</summary>
    public const string DefaultApiVersion = "2025-10";

    /// <summary>Creates the options with the control plane endpoint https://api.pinecone.io.</summary>
    public PineconeVectorOptions() => Endpoint = new Uri("https://api.pinecone.io");

    /// <inheritdoc />
    public override string ApiKeyVariable => DefaultApiKeyVariable;

    /// <summary>The index (default "ghostie"; 1 to 45 characters of a-z, 0-9 and '-'). One index holds one embedding model
    /// and dimension; every user and collection is a namespace in it. Give each tier its own index.</summary>
    public string IndexName { get; set; } = "ghostie";

    /// <summary>Creates the index (serverless, cosine) when it does not exist (default true). When false, a missing index
    /// is a <see cref="RemoteVectorStorageNotFoundException"/>.</summary>
    public bool CreateIndexIfMissing { get; set; } = true;

    /// <summary>The cloud of a created serverless index (default "aws").</summary>
    public string Cloud { get; set; } = "aws";

    /// <summary>The region of a created serverless index (default "us-east-1").</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>The X-Pinecone-Api-Version sent with every request (default <see cref="DefaultApiVersion"/>). Pinecone
    /// answers requests without one with its oldest supported version, so the client always sends it.</summary>
    public string ApiVersion { get; set; } = DefaultApiVersion;

    /// <summary>How long to wait for a created index to become ready (default 2 minutes).</summary>
    public TimeSpan IndexReadyTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <inheritdoc />
    public override IReadOnlyList<string> Problems()
    {
        var problems = new List<string>(base.Problems());
        if (string.IsNullOrEmpty(IndexName) || IndexName.Length > 45 || !IndexName.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
            || IndexName[0] == '-' || IndexName[^1] == '-')
        {
            problems.Add("PineconeVectorOptions.IndexName must be 1 to 45 characters of a-z, 0-9 and '-', not starting or ending with '-'.");
        }

        if (string.IsNullOrWhiteSpace(Cloud) || string.IsNullOrWhiteSpace(Region))
        {
            problems.Add("PineconeVectorOptions.Cloud and Region must be set (for example \"aws\" and \"us-east-1\").");
        }

        if (string.IsNullOrWhiteSpace(ApiVersion) || ApiVersion.Length != 7 || ApiVersion[4] != '-')
        {
            problems.Add("PineconeVectorOptions.ApiVersion must be a Pinecone API version such as \"2025-10\".");
        }

        if (IndexReadyTimeout <= TimeSpan.Zero)
        {
            problems.Add("PineconeVectorOptions.IndexReadyTimeout must be positive.");
        }

        return problems;
    }
}
