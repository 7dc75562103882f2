using System.Globalization;
using System.Text.Json;
using Ghostie.Sync.Shared;
using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Vectors.Qdrant;

/// <summary>
/// Vector collections in Qdrant, through its REST API (https://api.qdrant.tech): one Qdrant collection per user and
/// collection (<c>{prefix}_{user}_{name}_{8 hex}</c>), cosine distance, the model name and dimension kept in the
/// collection's metadata, so opening it for another model is a clear error. Points have a UUID derived from the record
/// key; the payload holds the key and, only when the host opts in, data properties. Opt-in remote tier: Qdrant stores
/// and sees every embedding in the clear, and embeddings can be inverted to approximate text (docs/security.md).
/// </summary>
public sealed class QdrantVectorStore : IVectorStore, IDisposable
{
    internal const string Service = "Qdrant";

    /// <summary>Creates the store (no request is sent until a collection is opened).</summary>
    /// <param name="options">Endpoint, key, user and payload options.</param>
    /// <exception cref="GhostieSyncException">The options are invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public QdrantVectorStore(QdrantVectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        string? key = options.ResolveApiKey();
        Client = new RemoteVectorClient(Service, options.Endpoint!, headers =>
        {
            if (key is not null)
            {
                headers.TryAddWithoutValidation("api-key", key);
            }
        }, options.ApiKeyVariable, options.HttpMessageHandler, options.Retry);
        Data = new RemoteDataPolicy(options.SendDataProperties, options.SendAllData, Service, "QdrantVectorOptions.SendDataProperties");
    }

    internal QdrantVectorOptions Options { get; }

    internal RemoteVectorClient Client { get; }

    internal RemoteDataPolicy Data { get; }

    /// <summary>The Qdrant collection of a user's collection: <c>{prefix}_{user}_{name}_{8 hex of SHA-256(user, name)}</c>
    /// ('-' as '_'; the hash keeps "a-b"/"c" and "a"/"b-c" apart).</summary>
    /// <param name="prefix">The collection prefix.</param>
    /// <param name="userId">The user.</param>
    /// <param name="name">The collection name.</param>
    public static string CollectionNameFor(string prefix, string userId, string name)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(userId);
        VectorCollectionName.EnsureValid(name);
        return $"{prefix}_{userId.Replace('-', '_')}_{name.Replace('-', '_')}_{RemoteVectorNaming.Hash8(userId + "\n" + name)}";
    }

    /// <inheritdoc />
    public async Task<IVectorCollection> GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        string remote = CollectionNameFor(Options.CollectionPrefix, Options.UserId, name);
        for (int attempt = 0; ; attempt++)
        {
            EmbeddingModelInfo? existing = await ReadModelAsync(name, remote, cancellationToken).ConfigureAwait(false);
            if (existing is not null)
            {
                existing.EnsureSameAs(model, name);
                return new QdrantVectorCollection(this, name, existing, remote);
            }

            byte[] body = RemoteVectorClient.Json(w =>
            {
                w.WriteStartObject();
                w.WriteStartObject("vectors");
                w.WriteNumber("size", model.Dimensions);
                w.WriteString("distance", "Cosine");
                w.WriteEndObject();
                w.WriteStartObject("metadata");
                w.WriteString("ghostie_model", model.ModelName);
                w.WriteNumber("ghostie_dimensions", model.Dimensions);
                w.WriteString("ghostie_collection", name);
                w.WriteEndObject();
                w.WriteEndObject();
            });

            // 409: another device created it first; read it again (once) and check its model.
            using RemoteAnswer created = await Client.SendAsync($"create-collection {remote}", HttpMethod.Put, $"collections/{remote}", body, cancellationToken, accept: [409]).ConfigureAwait(false);
            if (created.Status != 409 || attempt > 0)
            {
                return new QdrantVectorCollection(this, name, model, remote);
            }
        }
    }

    /// <summary>Deletes a collection of this user; returns whether it existed.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        string remote = CollectionNameFor(Options.CollectionPrefix, Options.UserId, name);
        using RemoteAnswer answer = await Client.SendAsync($"delete-collection {remote}", HttpMethod.Delete, $"collections/{remote}", null, cancellationToken, accept: [404]).ConfigureAwait(false);
        return answer.Status != 404 && answer.Root.ValueKind == JsonValueKind.Object && answer.Root.TryGetProperty("result", out JsonElement result) && result.ValueKind == JsonValueKind.True;
    }

    private async Task<EmbeddingModelInfo?> ReadModelAsync(string name, string remote, CancellationToken cancellationToken)
    {
        using RemoteAnswer answer = await Client.SendAsync($"get-collection {remote}", HttpMethod.Get, $"collections/{remote}", null, cancellationToken, accept: [404]).ConfigureAwait(false);
        if (answer.Status == 404)
        {
            return null;
        }

        JsonElement config = answer.Root.GetProperty("result").GetProperty("config");
        JsonElement vectors = config.GetProperty("params").GetProperty("vectors");
        if (vectors.ValueKind != JsonValueKind.Object || !vectors.TryGetProperty("size", out JsonElement size))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Qdrant collection '{remote}' at {Client.Where} uses named vectors; Ghostie needs a single unnamed vector. Use another CollectionPrefix, or delete that collection.");
        }

        string distance = vectors.TryGetProperty("distance", out JsonElement d) ? d.GetString() ?? "" : "";
        if (!string.Equals(distance, "Cosine", StringComparison.Ordinal))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Qdrant collection '{remote}' at {Client.Where} compares by {distance}, not Cosine; Ghostie's scores are cosine similarities. Use another CollectionPrefix, or delete that collection.");
        }

        int dimensions = size.GetInt32();
        string? modelName = config.TryGetProperty("metadata", out JsonElement metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty("ghostie_model", out JsonElement m) ? m.GetString() : null;
        if (modelName is null)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Qdrant collection '{remote}' at {Client.Where} ({dimensions.ToString(CultureInfo.InvariantCulture)} dimensions) was not created by Ghostie (no ghostie_model in its metadata), so its embedding model is unknown. Use another CollectionPrefix, or delete that collection.");
        }

        return new EmbeddingModelInfo(modelName, dimensions);
    }

    /// <inheritdoc />
    public void Dispose() => Client.Dispose();
}
