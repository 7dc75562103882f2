using System.Runtime.CompilerServices;
using System.Text.Json;
using Ghostie.Sync.Shared;
using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Vectors.Qdrant;

/// <summary>One collection in Qdrant (see <see cref="QdrantVectorStore"/>). Scores are Qdrant's cosine scores (it
/// normalizes vectors on upload, so a vector read back is unit length). Filters become a <c>must</c> list of
/// <c>match</c> conditions on one keyword array of the payload, never text Qdrant parses.</summary>
public sealed class QdrantVectorCollection : IVectorCollection, IVectorCollectionLocation
{
    private const string KeyField = "ghostie_key";
    private const string DataField = "ghostie_data";
    private const string PairsField = "ghostie_pairs";
    private readonly QdrantVectorStore _store;
    private readonly string _path;

    internal QdrantVectorCollection(QdrantVectorStore store, string name, EmbeddingModelInfo model, string remoteName)
    {
        _store = store;
        Name = name;
        Model = model;
        RemoteName = remoteName;
        _path = $"collections/{remoteName}/";
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public EmbeddingModelInfo Model { get; }

    /// <summary>The Qdrant collection's name.</summary>
    public string RemoteName { get; }

    /// <summary>"Qdrant scheme://host:port collection" (no key): two tiers with the same location share their points.</summary>
    public string StorageLocation => $"Qdrant {_store.Client.Where.ToLowerInvariant()} {RemoteName}";

    private Exception Missing() => new RemoteVectorStorageNotFoundException(QdrantVectorStore.Service, $"collection '{RemoteName}'", _store.Client.Where,
        "It was deleted after this tier opened it: open the collection again (GetOrCreateCollectionAsync creates it) and rebalance.");

    /// <summary>Writes the records with <c>PUT /collections/{name}/points?wait=true</c>, in requests of
    /// <see cref="RemoteVectorTierOptions.BatchSize"/> points. Everything is validated before the first request; a
    /// failure after it can leave the earlier requests written (retrying the call is safe: upserts are idempotent).
    /// A key given twice keeps its last record.</summary>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">A vector's length differs from the collection's dimension (nothing is sent).</exception>
    /// <exception cref="GhostieSyncException">A key or vector is invalid, or Qdrant failed.</exception>
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
                w.WriteStartArray("points");
                foreach (VectorRecord record in batch)
                {
                    w.WriteStartObject();
                    w.WriteString("id", RemoteVectorNaming.KeyIdText(record.Key));
                    w.WriteStartArray("vector");
                    foreach (float x in record.Vector.Span)
                    {
                        w.WriteNumberValue(x);
                    }

                    w.WriteEndArray();
                    w.WriteStartObject("payload");
                    w.WriteString(KeyField, record.Key);
                    Dictionary<string, string>? data = _store.Data.Outgoing(record.Data);
                    if (data is not null)
                    {
                        w.WriteStartObject(DataField);
                        foreach (KeyValuePair<string, string> pair in data)
                        {
                            w.WriteString(pair.Key, pair.Value);
                        }

                        w.WriteEndObject();
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
                w.WriteEndObject();
            });
            using RemoteAnswer _ = await _store.Client.SendAsync($"upsert {RemoteName}", HttpMethod.Put, _path + "points?wait=true", body, cancellationToken, notFound: Missing).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        using RemoteAnswer answer = await RetrieveAsync(key, withVector: true, cancellationToken).ConfigureAwait(false);
        foreach (JsonElement point in answer.Root.GetProperty("result").EnumerateArray())
        {
            VectorRecord? record = ReadPoint(point, withVector: true);
            if (record is not null && string.Equals(record.Key, key, StringComparison.Ordinal))
            {
                return record;
            }
        }

        return null;
    }

    /// <summary>Deletes the point of <paramref name="key"/> (<c>POST /collections/{name}/points/delete?wait=true</c>);
    /// returns whether it existed (looked up first: Qdrant's delete does not say).</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        bool existed;
        using (RemoteAnswer found = await RetrieveAsync(key, withVector: false, cancellationToken).ConfigureAwait(false))
        {
            existed = found.Root.GetProperty("result").GetArrayLength() > 0;
        }

        if (existed)
        {
            byte[] body = RemoteVectorClient.Json(w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("points");
                w.WriteStringValue(RemoteVectorNaming.KeyIdText(key));
                w.WriteEndArray();
                w.WriteEndObject();
            });
            using RemoteAnswer _ = await _store.Client.SendAsync($"delete {RemoteName}", HttpMethod.Post, _path + "points/delete?wait=true", body, cancellationToken, notFound: Missing).ConfigureAwait(false);
        }

        return existed;
    }

    /// <summary>The records closest to <paramref name="query"/>, best first (<c>POST /collections/{name}/points/query</c>,
    /// with <c>score_threshold</c> for <see cref="VectorSearchOptions.MinScore"/>). Qdrant's HNSW index may answer
    /// approximately on large collections; below its indexing threshold (10,000 KB of vectors by default) it scans exactly.</summary>
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
            w.WriteStartArray("query");
            foreach (float x in query.Span)
            {
                w.WriteNumberValue(x);
            }

            w.WriteEndArray();
            w.WriteNumber("limit", options.Top);
            if (options.MinScore is float min)
            {
                w.WriteNumber("score_threshold", min);
            }

            if (options.Filter is { Count: > 0 } filter)
            {
                w.WriteStartObject("filter");
                w.WriteStartArray("must");
                foreach (KeyValuePair<string, string> pair in filter)
                {
                    w.WriteStartObject();
                    w.WriteString("key", PairsField);
                    w.WriteStartObject("match");
                    w.WriteString("value", RemoteVectorNaming.Pair(pair.Key, pair.Value));
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteBoolean("with_payload", true);
            w.WriteBoolean("with_vector", options.IncludeVectors);
            w.WriteEndObject();
        });
        var results = new List<VectorSearchResult>();
        using (RemoteAnswer answer = await _store.Client.SendAsync($"query {RemoteName}", HttpMethod.Post, _path + "points/query", body, cancellationToken, notFound: Missing).ConfigureAwait(false))
        {
            foreach (JsonElement point in answer.Root.GetProperty("result").GetProperty("points").EnumerateArray())
            {
                VectorRecord? record = ReadPoint(point, options.IncludeVectors);
                if (record is not null)
                {
                    results.Add(new VectorSearchResult(record, point.GetProperty("score").GetSingle()));
                }
            }
        }

        foreach (VectorSearchResult result in results)
        {
            yield return result;
        }
    }

    /// <summary>The exact number of points (<c>POST /collections/{name}/points/count</c> with <c>exact: true</c>).</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        byte[] body = RemoteVectorClient.Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("exact", true);
            w.WriteEndObject();
        });
        using RemoteAnswer answer = await _store.Client.SendAsync($"count {RemoteName}", HttpMethod.Post, _path + "points/count", body, cancellationToken, notFound: Missing).ConfigureAwait(false);
        return answer.Root.GetProperty("result").GetProperty("count").GetInt64();
    }

    private Task<RemoteAnswer> RetrieveAsync(string key, bool withVector, CancellationToken cancellationToken)
    {
        byte[] body = RemoteVectorClient.Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("ids");
            w.WriteStringValue(RemoteVectorNaming.KeyIdText(key));
            w.WriteEndArray();
            w.WriteBoolean("with_payload", true);
            w.WriteBoolean("with_vector", withVector);
            w.WriteEndObject();
        });
        return _store.Client.SendAsync($"retrieve {RemoteName}", HttpMethod.Post, _path + "points", body, cancellationToken, notFound: Missing);
    }

    private static VectorRecord? ReadPoint(JsonElement point, bool withVector)
    {
        if (!point.TryGetProperty("payload", out JsonElement payload) || payload.ValueKind != JsonValueKind.Object
            || !payload.TryGetProperty(KeyField, out JsonElement keyElement) || keyElement.GetString() is not string key)
        {
            return null; // not a Ghostie point
        }

        float[] vector = [];
        if (withVector && point.TryGetProperty("vector", out JsonElement v) && v.ValueKind == JsonValueKind.Array)
        {
            vector = new float[v.GetArrayLength()];
            int i = 0;
            foreach (JsonElement x in v.EnumerateArray())
            {
                vector[i++] = x.GetSingle();
            }
        }

        IReadOnlyDictionary<string, string>? data = payload.TryGetProperty(DataField, out JsonElement d) ? RemoteDataPolicy.ReadData(d) : null;
        return new VectorRecord(key, vector, data);
    }
}
