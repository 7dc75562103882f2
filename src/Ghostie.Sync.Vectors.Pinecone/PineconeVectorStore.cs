using System.Text;
using System.Text.Json;
using Ghostie.Sync.Shared;
using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Vectors.Pinecone;

/// <summary>
/// Vector collections in one Pinecone index, through Pinecone's REST API (https://docs.pinecone.io/reference/api):
/// the control plane describes (and, by default, creates) the index, a serverless cosine index whose dimension and
/// embedding model (an index tag) every collection must share; each user's collection is a namespace
/// (<c>{user}_{name}_{8 hex}</c>) on the index's data plane host. Record ids are derived from the keys; the metadata
/// holds the key and, only when the host opts in, data properties. Every request carries the Api-Key and
/// X-Pinecone-Api-Version headers. Opt-in remote tier: Pinecone stores and sees every embedding in the clear, and
/// embeddings can be inverted to approximate text (docs/security.md).
/// </summary>
public sealed class PineconeVectorStore : IVectorStore, IDisposable
{
    internal const string Service = "Pinecone";
    private readonly SemaphoreSlim _indexGate = new(1, 1);
    private IndexInfo? _index;

    /// <summary>Creates the store (no request is sent until a collection is opened).</summary>
    /// <param name="options">Index, key, user and payload options.</param>
    /// <exception cref="GhostieSyncException">The options are invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public PineconeVectorStore(PineconeVectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        string? key = options.ResolveApiKey();
        string version = options.ApiVersion;
        Client = new RemoteVectorClient(Service, options.Endpoint!, headers =>
        {
            if (key is not null)
            {
                headers.TryAddWithoutValidation("Api-Key", key);
            }

            headers.TryAddWithoutValidation("X-Pinecone-Api-Version", version);
        }, options.ApiKeyVariable, options.HttpMessageHandler, options.Retry);
        Data = new RemoteDataPolicy(options.SendDataProperties, options.SendAllData, Service, "PineconeVectorOptions.SendDataProperties");
    }

    internal PineconeVectorOptions Options { get; }

    internal RemoteVectorClient Client { get; }

    internal RemoteDataPolicy Data { get; }

    /// <summary>The namespace of a user's collection: <c>{user}_{name}_{8 hex of SHA-256(user, name)}</c>.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="name">The collection name.</param>
    public static string NamespaceFor(string userId, string name)
    {
        ArgumentNullException.ThrowIfNull(userId);
        VectorCollectionName.EnsureValid(name);
        return $"{userId}_{name}_{RemoteVectorNaming.Hash8(userId + "\n" + name)}";
    }

    /// <summary>The index tag value naming a model: letters, digits, '_' and '-' only (Pinecone's tag rule), so the
    /// readable part is sanitized and 8 hex digits of the exact name keep two models apart.</summary>
    /// <param name="model">The model.</param>
    public static string ModelTag(EmbeddingModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var readable = new StringBuilder();
        foreach (char c in model.ModelName)
        {
            readable.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        string text = readable.Length > 100 ? readable.ToString(0, 100) : readable.ToString();
        return $"{text}-{RemoteVectorNaming.Hash8(model.ModelName)}";
    }

    /// <inheritdoc />
    public async Task<IVectorCollection> GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        if (model.Dimensions > 20_000)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Pinecone dense indexes hold at most 20,000 dimensions; collection '{name}' uses {model}. Use a smaller model or another tier.");
        }

        IndexInfo index = await GetIndexAsync(model, cancellationToken).ConfigureAwait(false);
        if (index.Dimension != model.Dimensions || (index.ModelTag is not null && index.ModelTag != ModelTag(model)))
        {
            var existing = new EmbeddingModelInfo(index.ModelTag ?? "(untagged)", index.Dimension);
            throw new VectorModelMismatchException(name, existing, model.ModelName, model.Dimensions);
        }

        if (!string.Equals(index.Metric, "cosine", StringComparison.Ordinal))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Pinecone index '{Options.IndexName}' uses the {index.Metric} metric, not cosine; Ghostie's scores are cosine similarities. Use another IndexName.");
        }

        return new PineconeVectorCollection(this, name, model, NamespaceFor(Options.UserId, name), index.DataPlane);
    }

    /// <summary>Deletes every record of a collection of this user (its namespace); the index stays.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        IndexInfo index = _index ?? throw new InvalidOperationException("Open a collection first (the index host is not known yet).");
        string ns = NamespaceFor(Options.UserId, name);
        byte[] body = RemoteVectorClient.Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("deleteAll", true);
            w.WriteString("namespace", ns);
            w.WriteEndObject();
        });
        using RemoteAnswer _ = await Client.SendAsync($"delete-all {ns}", HttpMethod.Post, "vectors/delete", body, cancellationToken, accept: [404], baseUri: index.DataPlane).ConfigureAwait(false);
    }

    private async Task<IndexInfo> GetIndexAsync(EmbeddingModelInfo model, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _index) is IndexInfo known)
        {
            return known;
        }

        await _indexGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_index is not null)
            {
                return _index;
            }

            IndexInfo? index = await DescribeAsync(cancellationToken).ConfigureAwait(false);
            if (index is null)
            {
                if (!Options.CreateIndexIfMissing)
                {
                    throw new RemoteVectorStorageNotFoundException(Service, $"index '{Options.IndexName}'", Client.Where,
                        "Create it (serverless, metric cosine, the model's dimension), or set PineconeVectorOptions.CreateIndexIfMissing = true.");
                }

                await CreateIndexAsync(model, cancellationToken).ConfigureAwait(false);
                index = await WaitReadyAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (!index.Ready)
            {
                index = await WaitReadyAsync(cancellationToken).ConfigureAwait(false);
            }

            Volatile.Write(ref _index, index);
            return index;
        }
        finally
        {
            _indexGate.Release();
        }
    }

    private async Task CreateIndexAsync(EmbeddingModelInfo model, CancellationToken cancellationToken)
    {
        byte[] body = RemoteVectorClient.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("name", Options.IndexName);
            w.WriteNumber("dimension", model.Dimensions);
            w.WriteString("metric", "cosine");
            w.WriteString("vector_type", "dense");
            w.WriteStartObject("spec");
            w.WriteStartObject("serverless");
            w.WriteString("cloud", Options.Cloud);
            w.WriteString("region", Options.Region);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("tags");
            w.WriteString("ghostie_model", ModelTag(model));
            w.WriteEndObject();
            w.WriteEndObject();
        });

        // 409: created meanwhile by another device; the describe that follows checks its dimension and model.
        using RemoteAnswer _ = await Client.SendAsync($"create-index {Options.IndexName}", HttpMethod.Post, "indexes", body, cancellationToken, accept: [409]).ConfigureAwait(false);
    }

    private async Task<IndexInfo> WaitReadyAsync(CancellationToken cancellationToken)
    {
        TimeProvider clock = Options.Retry.TimeProvider;
        DateTimeOffset deadline = clock.GetUtcNow() + Options.IndexReadyTimeout;
        while (true)
        {
            IndexInfo? index = await DescribeAsync(cancellationToken).ConfigureAwait(false);
            if (index is { Ready: true })
            {
                return index;
            }

            if (clock.GetUtcNow() >= deadline)
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"Pinecone index '{Options.IndexName}' at {Client.Where} was not ready within {Options.IndexReadyTimeout.TotalSeconds:0} s; try again later.", isTransient: true);
            }

            await Task.Delay(TimeSpan.FromSeconds(2), clock, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<IndexInfo?> DescribeAsync(CancellationToken cancellationToken)
    {
        using RemoteAnswer answer = await Client.SendAsync($"describe-index {Options.IndexName}", HttpMethod.Get, $"indexes/{Options.IndexName}", null, cancellationToken, accept: [404]).ConfigureAwait(false);
        if (answer.Status == 404)
        {
            return null;
        }

        JsonElement root = answer.Root;
        string host = root.GetProperty("host").GetString() ?? "";
        bool ready = root.TryGetProperty("status", out JsonElement status) && status.TryGetProperty("ready", out JsonElement r) && r.ValueKind == JsonValueKind.True;
        string? tag = root.TryGetProperty("tags", out JsonElement tags) && tags.ValueKind == JsonValueKind.Object && tags.TryGetProperty("ghostie_model", out JsonElement t) ? t.GetString() : null;
        int dimension = root.TryGetProperty("dimension", out JsonElement d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : 0;
        string metric = root.TryGetProperty("metric", out JsonElement m) ? m.GetString() ?? "" : "";
        return new IndexInfo(dimension, metric, tag, ready, DataPlaneUri(host));
    }

    /// <summary>The data plane address of an index host: https, except over a loopback control plane on plain http (a
    /// local emulator or a test double), where it is http too.</summary>
    private Uri DataPlaneUri(string host)
    {
        if (string.IsNullOrEmpty(host) || host.Contains('/', StringComparison.Ordinal) || host.Contains('@', StringComparison.Ordinal))
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"Pinecone described index '{Options.IndexName}' with an unusable host '{host}'; check the index in the Pinecone console.");
        }

        string scheme = Options.Endpoint!.Scheme == Uri.UriSchemeHttp && Options.Endpoint.IsLoopback ? "http" : "https";
        return new Uri($"{scheme}://{host}/");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Client.Dispose();
        _indexGate.Dispose();
    }

    private sealed record IndexInfo(int Dimension, string Metric, string? ModelTag, bool Ready, Uri DataPlane);
}
