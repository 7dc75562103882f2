using System.Runtime.CompilerServices;
using System.Text.Json;
using Ghostie.Sync.Shared;
using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Vectors.Pinecone;

/// <summary>One collection: a namespace of the Pinecone index (see <see cref="PineconeVectorStore"/>). Scores are
/// Pinecone's cosine similarities. Filters become <c>$in</c> conditions on one string-list metadata field, joined with
/// <c>$and</c>. Pinecone is eventually consistent: a record just written can take a moment to appear in queries,
/// lists and counts (the double answers at once).</summary>
public sealed class PineconeVectorCollection : IVectorCollection, IVectorCollectionLocation
{
    private const string KeyField = "ghostie_key";
    private const string DataField = "ghostie_data";
    private const string PairsField = "ghostie_pairs";
    private const int FetchBatch = 100;
    private readonly PineconeVectorStore _store;
    private readonly Uri _dataPlane;

    internal PineconeVectorCollection(PineconeVectorStore store, string name, EmbeddingModelInfo model, string ns, Uri dataPlane)
    {
        _store = store;
        Name = name;
        Model = model;
        Namespace = ns;
        _dataPlane = dataPlane;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public EmbeddingModelInfo Model { get; }

    /// <summary>The namespace in the index.</summary>
    public string Namespace { get; }

    /// <summary>"Pinecone host namespace" (no key): two tiers with the same location share their records.</summary>
    public string StorageLocation => $"Pinecone {_dataPlane.Authority.ToLowerInvariant()} {Namespace}";

    private Exception Missing() => new RemoteVectorStorageNotFoundException(PineconeVectorStore.Service, $"index '{_store.Options.IndexName}' (namespace '{Namespace}')",
        _dataPlane.Authority, "The index was deleted after this tier opened it: open the collection again from a new store (it creates the index when CreateIndexIfMissing is on).");

    private Task<RemoteAnswer> SendAsync(string operation, HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken, int[]? accept = null) =>
        _store.Client.SendAsync($"{operation} {Namespace}", method, path, body, cancellationToken, accept, Missing, _dataPlane);

    /// <summary>Writes the records with <c>POST /vectors/upsert</c>, in requests of
    /// <see cref="RemoteVectorTierOptions.BatchSize"/> records (Pinecone takes at most 1,000 records and 2 MB per request).
    /// Everything is validated before the first request; a failure after it can leave earlier requests written
    /// (retrying is safe: upserts are idempotent). A key given twice keeps its last record.</summary>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">A vector's length differs from the collection's dimension (nothing is sent).</exception>
    /// <exception cref="GhostieSyncException">A key or vector is invalid, or Pinecone failed.</exception>
    public async Task UpsertAsync(IEnumerable<VectorRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var byKey = new Dictionary<string, VectorRecord>(StringComparer.Ordinal);
        foreach (VectorRecord record in records)
        {
            ArgumentNullException.ThrowIfNull(record, nameof(records));
            record.EnsureValid(Model, Name);
            byKey[record.Key] = record;
        }

        cancellationToken.ThrowIfCancellationRequested();
        foreach (VectorRecord[] batch in byKey.Values.Chunk(_store.Options.BatchSize))
        {
            byte[] body = RemoteVectorClient.Json(w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("vectors");
                foreach (VectorRecord record in batch)
                {
                    w.WriteStartObject();
                    w.WriteString("id", RemoteVectorNaming.KeyIdText(record.Key));
                    w.WriteStartArray("values");
                    foreach (float x in record.Vector.Span)
                    {
                        w.WriteNumberValue(x);
                    }

                    w.WriteEndArray();
                    w.WriteStartObject("metadata");
                    w.WriteString(KeyField, record.Key);
                    Dictionary<string, string>? data = _store.Data.Outgoing(record.Data);
                    if (data is not null)
                    {
                        // Pinecone metadata holds strings, numbers, booleans and lists of strings: the properties go as one
                        // JSON string, and as a list of "{length}:{name}={value}" strings for filters.
                        w.WriteString(DataField, RemoteDataPolicy.DataText(data));
                        w.WriteStartArray(PairsField);
                        foreach (KeyValuePair<string, string> pair in data)
                        {
                            w.WriteStringValue(RemoteVectorNaming.Pair(pair.Key, pair.Value));
                        }

                        w.WriteEndArray();
                    }

                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteString("namespace", Namespace);
                w.WriteEndObject();
            });
            using RemoteAnswer _ = await SendAsync("upsert", HttpMethod.Post, "vectors/upsert", body, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        Dictionary<string, VectorRecord> found = await FetchAsync([RemoteVectorNaming.KeyIdText(key)], cancellationToken).ConfigureAwait(false);
        return found.Values.FirstOrDefault(r => string.Equals(r.Key, key, StringComparison.Ordinal));
    }

    /// <summary>Deletes the record of <paramref name="key"/> (<c>POST /vectors/delete</c>); returns whether it existed
    /// (fetched first: Pinecone's delete does not say).</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (await GetAsync(key, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        byte[] body = RemoteVectorClient.Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("ids");
            w.WriteStringValue(RemoteVectorNaming.KeyIdText(key));
            w.WriteEndArray();
            w.WriteString("namespace", Namespace);
            w.WriteEndObject();
        });
        using RemoteAnswer _ = await SendAsync("delete", HttpMethod.Post, "vectors/delete", body, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The records closest to <paramref name="query"/>, best first (<c>POST /query</c> with <c>topK</c>, the
    /// metadata, and the values only when asked for). <see cref="VectorSearchOptions.MinScore"/> is applied to the
    /// answer (Pinecone has no threshold parameter).</summary>
    /// <param name="query">The query vector.</param>
    /// <param name="options">Top, threshold, filter (on properties the tier sends only).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The query's length differs from the collection's dimension.</exception>
    /// <exception cref="GhostieSyncException">The filter names a data property this tier does not send (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public async IAsyncEnumerable<VectorSearchResult> SearchAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new VectorSearchOptions();
        options.Validate();
        Model.EnsureVector(query.Span, Name, "query");
        _store.Data.EnsureFilterable(options.Filter, Name);
        cancellationToken.ThrowIfCancellationRequested();
        byte[] body = RemoteVectorClient.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("namespace", Namespace);
            w.WriteStartArray("vector");
            foreach (float x in query.Span)
            {
                w.WriteNumberValue(x);
            }

            w.WriteEndArray();
            w.WriteNumber("topK", options.Top);
            w.WriteBoolean("includeMetadata", true);
            w.WriteBoolean("includeValues", options.IncludeVectors);
            if (options.Filter is { Count: > 0 } filter)
            {
                w.WriteStartObject("filter");
                w.WriteStartArray("$and");
                foreach (KeyValuePair<string, string> pair in filter)
                {
                    w.WriteStartObject();
                    w.WriteStartObject(PairsField);
                    w.WriteStartArray("$in");
                    w.WriteStringValue(RemoteVectorNaming.Pair(pair.Key, pair.Value));
                    w.WriteEndArray();
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndObject();
        });
        var results = new List<VectorSearchResult>();
        using (RemoteAnswer answer = await SendAsync("query", HttpMethod.Post, "query", body, cancellationToken).ConfigureAwait(false))
        {
            if (answer.Root.TryGetProperty("matches", out JsonElement matches))
            {
                foreach (JsonElement match in matches.EnumerateArray())
                {
                    float score = match.GetProperty("score").GetSingle();
                    if (options.MinScore is float min && score < min)
                    {
                        continue;
                    }

                    if (ReadRecord(match, options.IncludeVectors) is VectorRecord record)
                    {
                        results.Add(new VectorSearchResult(record, score));
                    }
                }
            }
        }

        foreach (VectorSearchResult result in results)
        {
            yield return result;
        }
    }

    /// <summary>The number of records in the namespace, counted by paging through <c>GET /vectors/list</c> (100 ids a
    /// page): exact for what Pinecone lists, which lags writes slightly. One request per 100 records.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        long count = 0;
        string? token = null;
        do
        {
            string path = $"vectors/list?namespace={Uri.EscapeDataString(Namespace)}&limit=100" + (token is null ? "" : "&paginationToken=" + Uri.EscapeDataString(token));
            using RemoteAnswer answer = await SendAsync("list", HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
            if (answer.Root.TryGetProperty("vectors", out JsonElement vectors))
            {
                count += vectors.GetArrayLength();
            }

            token = answer.Root.TryGetProperty("pagination", out JsonElement pagination) && pagination.ValueKind == JsonValueKind.Object
                && pagination.TryGetProperty("next", out JsonElement next) ? next.GetString() : null;
        }
        while (!string.IsNullOrEmpty(token));

        return count;
    }

    private async Task<Dictionary<string, VectorRecord>> FetchAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, VectorRecord>(StringComparer.Ordinal);
        foreach (string[] batch in ids.Chunk(FetchBatch))
        {
            string path = "vectors/fetch?namespace=" + Uri.EscapeDataString(Namespace) + string.Concat(batch.Select(id => "&ids=" + Uri.EscapeDataString(id)));
            using RemoteAnswer answer = await SendAsync("fetch", HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
            if (answer.Root.TryGetProperty("vectors", out JsonElement vectors) && vectors.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty property in vectors.EnumerateObject())
                {
                    if (ReadRecord(property.Value, withValues: true) is VectorRecord record)
                    {
                        found[property.Name] = record;
                    }
                }
            }
        }

        return found;
    }

    private static VectorRecord? ReadRecord(JsonElement element, bool withValues)
    {
        if (!element.TryGetProperty("metadata", out JsonElement metadata) || metadata.ValueKind != JsonValueKind.Object
            || !metadata.TryGetProperty(KeyField, out JsonElement keyElement) || keyElement.GetString() is not string key)
        {
            return null; // not a Ghostie record
        }

        float[] vector = [];
        if (withValues && element.TryGetProperty("values", out JsonElement values) && values.ValueKind == JsonValueKind.Array)
        {
            vector = new float[values.GetArrayLength()];
            int i = 0;
            foreach (JsonElement x in values.EnumerateArray())
            {
                vector[i++] = x.GetSingle();
            }
        }

        IReadOnlyDictionary<string, string>? data = metadata.TryGetProperty(DataField, out JsonElement d) ? RemoteDataPolicy.ReadData(d) : null;
        return new VectorRecord(key, vector, data);
    }
}
