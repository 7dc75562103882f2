using System.Collections.Specialized;
using System.Text.Json.Nodes;

namespace Ghostie.Sync.Testing;

/// <summary>
/// A loopback protocol double of Qdrant's REST API (the subset the Qdrant tier uses), written from Qdrant's
/// documentation, rule by rule:
/// <list type="bullet">
/// <item>Authentication (api.qdrant.tech, every endpoint; qdrant.tech/documentation/guides/security): the key in the
/// <c>api-key</c> header (or <c>Authorization: Bearer</c>); a missing or wrong key is 401; a read-only key may read but
/// not write (403).</item>
/// <item>Collections (api-reference/collections): <c>PUT /collections/{name}</c> creates one with
/// <c>vectors: {size, distance}</c> and optional <c>metadata</c> (1.16 and later), 409 when it exists;
/// <c>GET /collections/{name}</c> returns <c>result.config.params.vectors</c> and <c>result.config.metadata</c>;
/// <c>DELETE</c> removes it; an unknown collection is 404 with <c>status.error</c> "Not found: Collection ... doesn't exist!".</item>
/// <item>Points (documentation/concepts/points): ids are 64-bit unsigned integers or UUIDs (any other string is a 400);
/// <c>PUT .../points</c> upserts (an existing id is overwritten, payload included); a vector whose length differs from the
/// collection's size is a 400 "Wrong input: Vector dimension error"; <c>POST .../points</c> retrieves by ids (unknown ids
/// are left out); <c>POST .../points/delete</c> deletes by ids; <c>POST .../points/count</c> counts
/// (<c>exact</c>).</item>
/// <item>Cosine distance (documentation/concepts/collections, "Distance metrics"): vectors are normalized on upload,
/// so stored and returned vectors are unit length, and the score is their dot product.</item>
/// <item>Query (api-reference/search/query-points): <c>query</c> vector, <c>limit</c>, <c>score_threshold</c> (results
/// with a lower score are left out), <c>filter</c> with <c>must</c> conditions, <c>with_payload</c>, <c>with_vector</c>;
/// answer <c>result.points[]</c> with id, score, payload, vector, best first.</item>
/// <item>Filtering (documentation/concepts/filtering, "Match"): <c>{key, match: {value}}</c> on an array field holds when
/// any element equals the value; every <c>must</c> condition has to hold.</item>
/// <item>Rate limits and overload: 429 and 503, with Retry-After when the server names a wait (injected by tests).</item>
/// </list>
/// </summary>
public sealed class QdrantDouble : JsonApiDouble
{
    private readonly Dictionary<string, Collection> _collections = new(StringComparer.Ordinal);

    /// <summary>Starts the double.</summary>
    /// <param name="apiKey">The read-write key it accepts (null: no authentication, like a local Qdrant without a key).</param>
    /// <param name="readOnlyKey">A read-only key it also accepts, for reads only.</param>
    public QdrantDouble(string? apiKey, string? readOnlyKey = null)
    {
        ApiKey = apiKey;
        ReadOnlyKey = readOnlyKey;
    }

    /// <summary>The read-write key.</summary>
    public string? ApiKey { get; }

    /// <summary>The read-only key.</summary>
    public string? ReadOnlyKey { get; }

    /// <summary>The names of the collections.</summary>
    public IReadOnlyList<string> CollectionNames
    {
        get
        {
            lock (Gate)
            {
                return _collections.Keys.ToList();
            }
        }
    }

    /// <summary>The stored payload of every point of a collection, as JSON text.</summary>
    /// <param name="collection">The collection.</param>
    public IReadOnlyList<string> Payloads(string collection)
    {
        lock (Gate)
        {
            return _collections[collection].Points.Values.Select(p => p.Payload.ToJsonString()).ToList();
        }
    }

    /// <summary>Deletes a collection behind the client's back.</summary>
    /// <param name="collection">The collection.</param>
    public void Drop(string collection)
    {
        lock (Gate)
        {
            _collections.Remove(collection);
        }
    }

    /// <inheritdoc />
    protected override (int Status, JsonNode? Answer) Handle(string method, string path, NameValueCollection query, NameValueCollection headers, JsonNode? body)
    {
        bool write = method is "PUT" or "DELETE" || path.EndsWith("/points/delete", StringComparison.Ordinal);
        string? key = headers["api-key"] ?? (headers["Authorization"] is string bearer && bearer.StartsWith("Bearer ", StringComparison.Ordinal) ? bearer[7..] : null);
        if (ApiKey is not null && key != ApiKey)
        {
            if (key is null || key != ReadOnlyKey)
            {
                return (401, Error("Must provide an API key or an Authorization bearer token"));
            }

            if (write)
            {
                return (403, Error("Forbidden: read-only access"));
            }
        }

        string[] parts = path.Trim('/').Split('/');
        if (parts.Length < 2 || parts[0] != "collections")
        {
            return (404, Error("Not found"));
        }

        string name = parts[1];
        _collections.TryGetValue(name, out Collection? collection);
        if (parts.Length == 2)
        {
            switch (method)
            {
                case "PUT":
                    if (collection is not null)
                    {
                        return (409, Error($"Wrong input: Collection `{name}` already exists!"));
                    }

                    JsonNode? vectors = body?["vectors"];
                    if (vectors?["size"] is not JsonValue sizeValue || !sizeValue.TryGetValue(out int size) || size < 1 || vectors["distance"]?.GetValue<string>() is not string distance)
                    {
                        return (400, Error("Wrong input: vectors.size and vectors.distance are required"));
                    }

                    _collections[name] = new Collection(size, distance, body!["metadata"]?.DeepClone() as JsonObject);
                    return (200, Ok(true));
                case "GET":
                    if (collection is null)
                    {
                        return (404, Error($"Not found: Collection `{name}` doesn't exist!"));
                    }

                    var config = new JsonObject { ["params"] = new JsonObject { ["vectors"] = new JsonObject { ["size"] = collection.Size, ["distance"] = collection.Distance } } };
                    if (collection.Metadata is not null)
                    {
                        config["metadata"] = collection.Metadata.DeepClone();
                    }

                    return (200, Ok(new JsonObject { ["status"] = "green", ["points_count"] = collection.Points.Count, ["config"] = config }));
                case "DELETE":
                    bool existed = _collections.Remove(name);
                    return (200, Ok(existed));
            }
        }

        if (collection is null)
        {
            return (404, Error($"Not found: Collection `{name}` doesn't exist!"));
        }

        string action = string.Join('/', parts.Skip(2));
        return (method, action) switch
        {
            ("PUT", "points") => Upsert(collection, body),
            ("POST", "points") => Retrieve(collection, body),
            ("POST", "points/delete") => Delete(collection, body),
            ("POST", "points/count") => (200, Ok(new JsonObject { ["count"] = collection.Points.Count })),
            ("POST", "points/query") => Query(collection, body),
            _ => (404, Error("Not found")),
        };
    }

    private static (int, JsonNode?) Upsert(Collection collection, JsonNode? body)
    {
        if (body?["points"] is not JsonArray points)
        {
            return (400, Error("Wrong input: points are required"));
        }

        var staged = new List<(string Id, Point Point)>();
        foreach (JsonNode? point in points)
        {
            if (ParseId(point?["id"]) is not string id)
            {
                return (400, Error("Format error in JSON body: Unable to parse UUID"));
            }

            if (Floats(point!["vector"]) is not float[] vector)
            {
                return (400, Error("Format error in JSON body: vector is required"));
            }

            if (vector.Length != collection.Size)
            {
                return (400, Error($"Wrong input: Vector dimension error: expected dim: {collection.Size}, got {vector.Length}"));
            }

            staged.Add((id, new Point(collection.Distance == "Cosine" ? Normalize(vector) : vector, point["payload"]?.DeepClone() as JsonObject ?? new JsonObject())));
        }

        foreach ((string id, Point point) in staged)
        {
            collection.Points[id] = point;
        }

        return (200, Ok(new JsonObject { ["operation_id"] = 1, ["status"] = "completed" }));
    }

    private static (int, JsonNode?) Retrieve(Collection collection, JsonNode? body)
    {
        if (body?["ids"] is not JsonArray ids)
        {
            return (400, Error("Wrong input: ids are required"));
        }

        var result = new JsonArray();
        foreach (JsonNode? idNode in ids)
        {
            if (ParseId(idNode) is not string id)
            {
                return (400, Error("Format error in JSON body: Unable to parse UUID"));
            }

            if (collection.Points.TryGetValue(id, out Point? point))
            {
                result.Add(PointJson(id, point, body["with_payload"]?.GetValue<bool>() ?? true, body["with_vector"]?.GetValue<bool>() ?? false, null));
            }
        }

        return (200, Ok(result));
    }

    private static (int, JsonNode?) Delete(Collection collection, JsonNode? body)
    {
        if (body?["points"] is not JsonArray ids)
        {
            return (400, Error("Wrong input: points are required"));
        }

        foreach (JsonNode? idNode in ids)
        {
            if (ParseId(idNode) is not string id)
            {
                return (400, Error("Format error in JSON body: Unable to parse UUID"));
            }

            collection.Points.Remove(id);
        }

        return (200, Ok(new JsonObject { ["operation_id"] = 2, ["status"] = "completed" }));
    }

    private static (int, JsonNode?) Query(Collection collection, JsonNode? body)
    {
        if (Floats(body?["query"]) is not float[] query)
        {
            return (400, Error("Wrong input: query vector is required"));
        }

        if (query.Length != collection.Size)
        {
            return (400, Error($"Wrong input: Vector dimension error: expected dim: {collection.Size}, got {query.Length}"));
        }

        int limit = body!["limit"]?.GetValue<int>() ?? 10;
        float? threshold = body["score_threshold"] is JsonValue t ? (float)t.GetValue<double>() : null;
        var must = new List<(string Key, JsonNode Value)>();
        if (body["filter"] is JsonObject filter)
        {
            foreach (JsonNode? condition in filter["must"] as JsonArray ?? [])
            {
                if (condition?["key"]?.GetValue<string>() is not string field || condition["match"]?["value"] is not JsonNode value)
                {
                    return (400, Error("Format error in JSON body: unsupported condition"));
                }

                must.Add((field, value));
            }
        }

        float[] q = Normalize(query);
        var scored = collection.Points
            .Where(p => must.All(m => Matches(p.Value.Payload[m.Key], m.Value)))
            .Select(p => (p.Key, p.Value, Score: Dot(q, p.Value.Vector)))
            .Where(s => threshold is not float min || s.Score >= min)
            .OrderByDescending(s => s.Score).ThenBy(s => s.Key, StringComparer.Ordinal)
            .Take(limit)
            .Select(s => (JsonNode?)PointJson(s.Key, s.Value, body["with_payload"]?.GetValue<bool>() ?? false, body["with_vector"]?.GetValue<bool>() ?? false, s.Score))
            .ToArray();
        return (200, Ok(new JsonObject { ["points"] = new JsonArray(scored) }));
    }

    private static bool Matches(JsonNode? field, JsonNode value)
    {
        string expected = value.ToJsonString();
        return field switch
        {
            JsonArray array => array.Any(e => e?.ToJsonString() == expected),
            null => false,
            _ => field.ToJsonString() == expected,
        };
    }

    private static float Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return (float)sum;
    }

    private static JsonObject PointJson(string id, Point point, bool withPayload, bool withVector, float? score)
    {
        var json = new JsonObject { ["id"] = id };
        if (score is float s)
        {
            json["score"] = s;
        }

        if (withPayload)
        {
            json["payload"] = point.Payload.DeepClone();
        }

        if (withVector)
        {
            json["vector"] = FloatArray(point.Vector);
        }

        return json;
    }

    /// <summary>A point id: an unsigned integer, or a UUID in any of Qdrant's spellings (returned hyphenated, lower case).</summary>
    private static string? ParseId(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        if (value.TryGetValue(out ulong number))
        {
            return number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        string? text = value.TryGetValue(out string? s) ? s : null;
        if (text is not null && text.StartsWith("urn:uuid:", StringComparison.OrdinalIgnoreCase))
        {
            text = text[9..];
        }

        return text is not null && Guid.TryParse(text, out Guid id) ? id.ToString("D") : null;
    }

    private static JsonObject Ok(JsonNode? result) => new() { ["result"] = result, ["status"] = "ok", ["time"] = 0.0001 };

    private static JsonObject Error(string message) => new() { ["status"] = new JsonObject { ["error"] = message }, ["time"] = 0.0001 };

    private sealed record Collection(int Size, string Distance, JsonObject? Metadata)
    {
        public Dictionary<string, Point> Points { get; } = new(StringComparer.Ordinal);
    }

    private sealed record Point(float[] Vector, JsonObject Payload);
}
