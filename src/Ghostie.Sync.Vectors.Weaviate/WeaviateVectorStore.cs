using System.Globalization;
using System.Text.Json;
using Ghostie.Sync.Shared;
using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Vectors.Weaviate;

/// <summary>
/// Vector collections in Weaviate, through its REST v1 API (schema, objects, batch) and, for vector search only, its
/// GraphQL <c>Get</c> with <c>nearVector</c> (REST v1 has no vector search): one class per user and collection
/// (<c>{prefix}_{user}_{name}_{8 hex}</c>), <c>vectorizer: none</c> (Ghostie brings its vectors), cosine distance, the
/// model name and dimension in the class description, so opening it for another model is a clear error. Object ids are
/// UUIDs derived from the record keys; the properties hold the key and, only when the host opts in, data. Opt-in
/// remote tier: Weaviate stores and sees every embedding in the clear, and embeddings can be inverted to approximate
/// text (docs/security.md).
/// </summary>
public sealed class WeaviateVectorStore : IVectorStore, IDisposable
{
    internal const string Service = "Weaviate";
    internal const string DescriptionPrefix = "ghostie-model ";

    /// <summary>Creates the store (no request is sent until a collection is opened).</summary>
    /// <param name="options">Endpoint, key, user and payload options.</param>
    /// <exception cref="GhostieSyncException">The options are invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public WeaviateVectorStore(WeaviateVectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        string? key = options.ResolveApiKey();
        Client = new RemoteVectorClient(Service, options.Endpoint!, headers =>
        {
            if (key is not null)
            {
                headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
            }
        }, options.ApiKeyVariable, options.HttpMessageHandler, options.Retry);
        Data = new RemoteDataPolicy(options.SendDataProperties, options.SendAllData, Service, "WeaviateVectorOptions.SendDataProperties");
    }

    internal WeaviateVectorOptions Options { get; }

    internal RemoteVectorClient Client { get; }

    internal RemoteDataPolicy Data { get; }

    /// <summary>The Weaviate class of a user's collection: <c>{prefix}_{user}_{name}_{8 hex of SHA-256(user, name)}</c>
    /// ('-' as '_').</summary>
    /// <param name="prefix">The class prefix.</param>
    /// <param name="userId">The user.</param>
    /// <param name="name">The collection name.</param>
    public static string ClassNameFor(string prefix, string userId, string name)
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
        string className = ClassNameFor(Options.ClassPrefix, Options.UserId, name);
        for (int attempt = 0; ; attempt++)
        {
            EmbeddingModelInfo? existing = await ReadModelAsync(className, cancellationToken).ConfigureAwait(false);
            if (existing is not null)
            {
                existing.EnsureSameAs(model, name);
                return new WeaviateVectorCollection(this, name, existing, className);
            }

            byte[] body = RemoteVectorClient.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("class", className);
                w.WriteString("description", DescriptionPrefix + JsonSerializer.Serialize(new[] { model.ModelName, model.Dimensions.ToString(CultureInfo.InvariantCulture) }, WeaviateJson.Default.StringArray));
                w.WriteString("vectorizer", "none");
                w.WriteString("vectorIndexType", "hnsw");
                w.WriteStartObject("vectorIndexConfig");
                w.WriteString("distance", "cosine");
                w.WriteEndObject();
                w.WriteStartArray("properties");
                Property(w, WeaviateVectorCollection.KeyProperty, "text", "field", filterable: true);
                Property(w, WeaviateVectorCollection.DataProperty, "text", "field", filterable: false);
                Property(w, WeaviateVectorCollection.PairsProperty, "text[]", "field", filterable: true);
                w.WriteEndArray();
                w.WriteEndObject();
            });

            // 422 "already exists": another device created it first; read it again (once) and check its model.
            using RemoteAnswer created = await Client.SendAsync($"create-class {className}", HttpMethod.Post, "v1/schema", body, cancellationToken, accept: attempt == 0 ? [422] : null).ConfigureAwait(false);
            if (created.Status != 422)
            {
                return new WeaviateVectorCollection(this, name, model, className);
            }
        }
    }

    /// <summary>Deletes a collection of this user (its class and objects); returns whether it existed.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        string className = ClassNameFor(Options.ClassPrefix, Options.UserId, name);
        if (await ReadModelAsync(className, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        using RemoteAnswer _ = await Client.SendAsync($"delete-class {className}", HttpMethod.Delete, $"v1/schema/{className}", null, cancellationToken, accept: [404]).ConfigureAwait(false);
        return true;
    }

    private static void Property(Utf8JsonWriter w, string name, string dataType, string tokenization, bool filterable)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteStartArray("dataType");
        w.WriteStringValue(dataType);
        w.WriteEndArray();
        w.WriteString("tokenization", tokenization);
        w.WriteBoolean("indexFilterable", filterable);
        w.WriteBoolean("indexSearchable", false);
        w.WriteEndObject();
    }

    private async Task<EmbeddingModelInfo?> ReadModelAsync(string className, CancellationToken cancellationToken)
    {
        using RemoteAnswer answer = await Client.SendAsync($"get-class {className}", HttpMethod.Get, $"v1/schema/{className}", null, cancellationToken, accept: [404]).ConfigureAwait(false);
        if (answer.Status == 404)
        {
            return null;
        }

        JsonElement root = answer.Root;
        string distance = root.TryGetProperty("vectorIndexConfig", out JsonElement config) && config.TryGetProperty("distance", out JsonElement d) ? d.GetString() ?? "" : "";
        string description = root.TryGetProperty("description", out JsonElement desc) ? desc.GetString() ?? "" : "";
        string[]? model = null;
        if (description.StartsWith(DescriptionPrefix, StringComparison.Ordinal))
        {
            try
            {
                model = JsonSerializer.Deserialize(description[DescriptionPrefix.Length..], WeaviateJson.Default.StringArray);
            }
            catch (JsonException)
            {
            }
        }

        if (model is not [string modelName, string dims] || !int.TryParse(dims, NumberStyles.None, CultureInfo.InvariantCulture, out int dimensions))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Weaviate class '{className}' at {Client.Where} was not created by Ghostie (its description names no model), so its embedding model is unknown. Use another ClassPrefix, or delete that class.");
        }

        if (!string.Equals(distance, "cosine", StringComparison.Ordinal))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Weaviate class '{className}' at {Client.Where} compares by {distance}, not cosine; Ghostie's scores are cosine similarities. Use another ClassPrefix, or delete that class.");
        }

        return new EmbeddingModelInfo(modelName, dimensions);
    }

    /// <inheritdoc />
    public void Dispose() => Client.Dispose();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]), TypeInfoPropertyName = "StringArray")]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class WeaviateJson : System.Text.Json.Serialization.JsonSerializerContext;
