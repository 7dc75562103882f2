using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Shared;
using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Vectors.Weaviate;

/// <summary>One collection: a Weaviate class (see <see cref="WeaviateVectorStore"/>). Writes go through
/// <c>POST /v1/batch/objects</c>, reads and deletes through <c>/v1/objects/{class}/{id}</c>, counts page through
/// <c>GET /v1/objects?class=..&amp;after=..</c>; searches are GraphQL <c>Get</c> queries with <c>nearVector</c> and, for
/// filters, <c>ContainsAny</c> conditions on a field-tokenized text array (exact, case-sensitive comparison). Scores
/// are 1 - Weaviate's cosine distance, so cosine similarities.</summary>
public sealed class WeaviateVectorCollection : IVectorCollection, IVectorCollectionLocation
{
    internal const string KeyProperty = "ghostieKey";
    internal const string DataProperty = "ghostieData";
    internal const string PairsProperty = "ghostiePairs";
    private const int ListPage = 100;
    private readonly WeaviateVectorStore _store;

    internal WeaviateVectorCollection(WeaviateVectorStore store, string name, EmbeddingModelInfo model, string className)
    {
        _store = store;
        Name = name;
        Model = model;
        ClassName = className;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public EmbeddingModelInfo Model { get; }

    /// <summary>The Weaviate class.</summary>
    public string ClassName { get; }

    /// <summary>"Weaviate scheme://host:port class" (no key): two tiers with the same location share their objects.</summary>
    public string StorageLocation => $"Weaviate {_store.Client.Where.ToLowerInvariant()} {ClassName}";

    private Exception Missing() => new RemoteVectorStorageNotFoundException(WeaviateVectorStore.Service, $"class '{ClassName}'", _store.Client.Where,
        "It was deleted after this tier opened it: open the collection again (GetOrCreateCollectionAsync creates it) and rebalance.");

    /// <summary>Writes the records with <c>POST /v1/batch/objects</c> in requests of
    /// <see cref="RemoteVectorTierOptions.BatchSize"/> objects (an existing id is replaced). Weaviate answers a batch with
    /// a result per object, and an object can fail while the request succeeds: any object error fails the call, naming
    /// the record. Everything is validated before the first request; retrying after a failure is safe.</summary>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">A vector's length differs from the collection's dimension (nothing is sent).</exception>
    /// <exception cref="GhostieSyncException">A key or vector is invalid, or Weaviate refused an object.</exception>
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
                w.WriteStartArray("objects");
                foreach (VectorRecord record in batch)
                {
                    w.WriteStartObject();
                    w.WriteString("class", ClassName);
                    w.WriteString("id", RemoteVectorNaming.KeyIdText(record.Key));
                    w.WriteStartObject("properties");
                    w.WriteString(KeyProperty, record.Key);
                    Dictionary<string, string>? data = _store.Data.Outgoing(record.Data);
                    if (data is not null)
                    {
                        w.WriteString(DataProperty, RemoteDataPolicy.DataText(data));
                        w.WriteStartArray(PairsProperty);
                        foreach (KeyValuePair<string, string> pair in data)
                        {
                            w.WriteStringValue(RemoteVectorNaming.Pair(pair.Key, pair.Value));
                        }

                        w.WriteEndArray();
                    }

                    w.WriteEndObject();
                    w.WriteStartArray("vector");
                    foreach (float x in record.Vector.Span)
                    {
                        w.WriteNumberValue(x);
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
            using RemoteAnswer answer = await _store.Client.SendAsync($"batch {ClassName}", HttpMethod.Post, "v1/batch/objects", body, cancellationToken, notFound: Missing).ConfigureAwait(false);
            foreach (JsonElement result in answer.Root.EnumerateArray())
            {
                if (result.TryGetProperty("result", out JsonElement r) && r.TryGetProperty("errors", out JsonElement errors)
                    && errors.TryGetProperty("error", out JsonElement list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0)
                {
                    string key = result.TryGetProperty("properties", out JsonElement p) && p.TryGetProperty(KeyProperty, out JsonElement k) ? k.GetString() ?? "?" : "?";
                    string message = list[0].TryGetProperty("message", out JsonElement m) ? m.GetString() ?? "" : "";
                    if (message.Contains("class", StringComparison.OrdinalIgnoreCase) && message.Contains("not", StringComparison.OrdinalIgnoreCase)
                        && message.Contains(ClassName, StringComparison.Ordinal))
                    {
                        throw Missing();
                    }

                    throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                        $"Weaviate refused record '{key}' of collection '{Name}' (class {ClassName}) at {_store.Client.Where}: {Shorten(message)}. Records before it in the call may be written; fix the cause and write again.");
                }
            }
        }
    }

    /// <inheritdoc />
    public async Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        using RemoteAnswer answer = await _store.Client.SendAsync($"get {ClassName}", HttpMethod.Get,
            $"v1/objects/{ClassName}/{RemoteVectorNaming.KeyIdText(key)}?include=vector", null, cancellationToken, accept: [404]).ConfigureAwait(false);
        if (answer.Status == 404)
        {
            return null;
        }

        VectorRecord? record = ReadObject(answer.Root.GetProperty("properties"), answer.Root, withVector: true);
        return record is not null && string.Equals(record.Key, key, StringComparison.Ordinal) ? record : null;
    }

    /// <summary>Deletes the object of <paramref name="key"/> (<c>DELETE /v1/objects/{class}/{id}</c>); returns whether it
    /// existed (204, or 404).</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        using RemoteAnswer answer = await _store.Client.SendAsync($"delete {ClassName}", HttpMethod.Delete,
            $"v1/objects/{ClassName}/{RemoteVectorNaming.KeyIdText(key)}", null, cancellationToken, accept: [404]).ConfigureAwait(false);
        return answer.Status != 404;
    }

    /// <summary>The records closest to <paramref name="query"/>, best first: a GraphQL <c>Get</c> with
    /// <c>nearVector</c> (and <c>distance</c> = 1 - <see cref="VectorSearchOptions.MinScore"/>), <c>limit</c>, and a
    /// <c>where</c> filter. REST v1 has no vector search, so this is the tier's one GraphQL request; GraphQL errors
    /// (answered with HTTP 200) are errors here too.</summary>
    /// <param name="query">The query vector.</param>
    /// <param name="options">Top, threshold, filter (on properties the tier sends only).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The query's length differs from the collection's dimension.</exception>
    /// <exception cref="GhostieSyncException">The filter names a data property this tier does not send, or Weaviate refused the query.</exception>
    public async IAsyncEnumerable<VectorSearchResult> SearchAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new VectorSearchOptions();
        options.Validate();
        Model.EnsureVector(query.Span, Name, "query");
        _store.Data.EnsureFilterable(options.Filter, Name);
        cancellationToken.ThrowIfCancellationRequested();
        var graphql = new StringBuilder("{ Get { ").Append(ClassName).Append("(nearVector: {vector: [");
        ReadOnlySpan<float> span = query.Span;
        for (int i = 0; i < span.Length; i++)
        {
            graphql.Append(i == 0 ? "" : ",").Append(span[i].ToString("R", CultureInfo.InvariantCulture));
        }

        graphql.Append(']');
        if (options.MinScore is float min)
        {
            graphql.Append(", distance: ").Append((1.0 - min).ToString("R", CultureInfo.InvariantCulture));
        }

        graphql.Append("}, limit: ").Append(options.Top.ToString(CultureInfo.InvariantCulture));
        if (options.Filter is { Count: > 0 } filter)
        {
            graphql.Append(", where: {operator: And, operands: [");
            bool first = true;
            foreach (KeyValuePair<string, string> pair in filter)
            {
                graphql.Append(first ? "" : ", ").Append("{path: [\"").Append(PairsProperty).Append("\"], operator: ContainsAny, valueText: [")
                    .Append(GraphQLString(RemoteVectorNaming.Pair(pair.Key, pair.Value))).Append("]}");
                first = false;
            }

            graphql.Append("]}");
        }

        graphql.Append(") { ").Append(KeyProperty).Append(' ').Append(DataProperty).Append(" _additional { id distance")
            .Append(options.IncludeVectors ? " vector" : "").Append(" } } } }");
        byte[] body = RemoteVectorClient.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("query", graphql.ToString());
            w.WriteEndObject();
        });

        var results = new List<VectorSearchResult>();
        using (RemoteAnswer answer = await _store.Client.SendAsync($"graphql-get {ClassName}", HttpMethod.Post, "v1/graphql", body, cancellationToken, notFound: Missing).ConfigureAwait(false))
        {
            JsonElement root = answer.Root;
            if (root.TryGetProperty("errors", out JsonElement errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
            {
                string message = errors[0].TryGetProperty("message", out JsonElement m) ? m.GetString() ?? "" : "";
                if (message.Contains(ClassName, StringComparison.Ordinal) && message.Contains("Cannot query field", StringComparison.Ordinal))
                {
                    throw Missing(); // GraphQL names no class that is not in the schema
                }

                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"Weaviate refused the search of collection '{Name}' (class {ClassName}) at {_store.Client.Where}: {Shorten(message)}. "
                    + "The tier searches through GraphQL, which Weaviate Cloud disables on new clusters; see docs/vector-tiers.md.");
            }

            JsonElement hits = root.GetProperty("data").GetProperty("Get").GetProperty(ClassName);
            if (hits.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement hit in hits.EnumerateArray())
                {
                    JsonElement additional = hit.GetProperty("_additional");
                    if (ReadObject(hit, additional, options.IncludeVectors) is VectorRecord record)
                    {
                        results.Add(new VectorSearchResult(record, 1f - additional.GetProperty("distance").GetSingle()));
                    }
                }
            }
        }

        foreach (VectorSearchResult result in results)
        {
            yield return result;
        }
    }

    /// <summary>The number of objects, counted by paging through <c>GET /v1/objects?class=..&amp;limit=100&amp;after=..</c>
    /// (Weaviate's cursor listing, REST v1): one request per 100 objects.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long count = 0;
        string? after = null;
        while (true)
        {
            string path = $"v1/objects?class={ClassName}&limit={ListPage.ToString(CultureInfo.InvariantCulture)}" + (after is null ? "" : "&after=" + after);
            using RemoteAnswer answer = await _store.Client.SendAsync($"list {ClassName}", HttpMethod.Get, path, null, cancellationToken, notFound: Missing).ConfigureAwait(false);
            JsonElement objects = answer.Root.TryGetProperty("objects", out JsonElement o) && o.ValueKind == JsonValueKind.Array ? o : default;
            int page = objects.ValueKind == JsonValueKind.Array ? objects.GetArrayLength() : 0;
            count += page;
            if (page < ListPage)
            {
                return count;
            }

            after = objects[page - 1].GetProperty("id").GetString();
        }
    }

    private static VectorRecord? ReadObject(JsonElement properties, JsonElement vectorHolder, bool withVector)
    {
        if (properties.ValueKind != JsonValueKind.Object || !properties.TryGetProperty(KeyProperty, out JsonElement k) || k.GetString() is not string key)
        {
            return null; // not a Ghostie object
        }

        float[] vector = [];
        if (withVector && vectorHolder.TryGetProperty("vector", out JsonElement v) && v.ValueKind == JsonValueKind.Array)
        {
            vector = new float[v.GetArrayLength()];
            int i = 0;
            foreach (JsonElement x in v.EnumerateArray())
            {
                vector[i++] = x.GetSingle();
            }
        }

        IReadOnlyDictionary<string, string>? data = properties.TryGetProperty(DataProperty, out JsonElement d) ? RemoteDataPolicy.ReadData(d) : null;
        return new VectorRecord(key, vector, data);
    }

    /// <summary>A GraphQL string literal: JSON's escaping is GraphQL's (quotes, backslashes, control characters,
    /// \uXXXX), and every non-ASCII character is escaped too.</summary>
    private static string GraphQLString(string value) => JsonSerializer.Serialize(value, WeaviateJson.Default.String);

    private static string Shorten(string message) => message.Length <= 300 ? message : message[..300] + "...";
}
