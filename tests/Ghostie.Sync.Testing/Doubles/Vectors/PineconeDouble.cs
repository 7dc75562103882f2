using System.Collections.Specialized;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Ghostie.Sync.Testing;

/// <summary>
/// A loopback protocol double of Pinecone's REST API (the control-plane and data-plane subset the Pinecone tier uses),
/// written from Pinecone's documentation (docs.pinecone.io/reference/api), rule by rule:
/// <list type="bullet">
/// <item>Authentication: the <c>Api-Key</c> header on every request; without a valid one, 401.</item>
/// <item>Versioning (reference/api/versioning): the <c>X-Pinecone-Api-Version</c> header names a version
/// ("2025-10"); a request without it is served as the oldest supported version (recorded here, so a test can see the
/// client always sends one); an unknown version is refused (400).</item>
/// <item>Control plane: <c>GET /indexes/{name}</c> describes an index (dimension, metric, host, status.ready, tags),
/// 404 when there is none; <c>POST /indexes</c> creates one (name of lower-case letters, digits and '-', at most 45;
/// dimension; metric cosine, euclidean or dotproduct; spec.serverless cloud and region; tags of letters, digits,
/// '_' and '-'), 201, or 409 when it exists.</item>
/// <item>Upsert (data-plane/upsert, database-limits): <c>POST /vectors/upsert</c> with <c>vectors[] {id, values,
/// metadata}</c> and <c>namespace</c>; at most 1,000 records and 2 MB a request; values must have the index's dimension;
/// metadata values are strings, numbers, booleans or lists of strings (no null, no objects); an existing id is
/// overwritten whole. Answer <c>{upsertedCount}</c>.</item>
/// <item>Fetch: <c>GET /vectors/fetch?ids=..&amp;namespace=..</c>, at most 1,000 ids; unknown ids are left out; answer
/// <c>vectors</c> keyed by id.</item>
/// <item>Delete: <c>POST /vectors/delete</c> with <c>ids</c> (unknown ones ignored) or <c>deleteAll</c>, in a namespace.</item>
/// <item>Query: <c>POST /query</c> with <c>vector</c>, <c>topK</c> (1 to 10,000), <c>namespace</c>, <c>filter</c>,
/// <c>includeValues</c> and <c>includeMetadata</c> (both default false); results best first, at most 4 MB;
/// cosine scores. Metadata filters: <c>$eq</c>, <c>$in</c>, <c>$and</c> (a list field matches when any element
/// does); other operators are not modelled (400 here).</item>
/// <item>List (serverless): <c>GET /vectors/list?namespace=..&amp;limit=..&amp;paginationToken=..</c>, ids in order,
/// <c>limit</c> default 100, <c>pagination.next</c> while more remain.</item>
/// <item>Errors: <c>{error: {code, message}, status}</c>; 429 (rate limits) and 503, with Retry-After when given
/// (injected by tests).</item>
/// </list>
/// Control plane and data plane share this one listener (their paths do not overlap); the index host the double
/// describes is its own address.
/// </summary>
public sealed class PineconeDouble : JsonApiDouble
{
    /// <summary>The API versions the double accepts.</summary>
    public static IReadOnlyList<string> Versions { get; } = ["2025-01", "2025-04", "2025-10"];

    private const int MaxRequestBytes = 2 * 1024 * 1024;
    private readonly Dictionary<string, Index> _indexes = new(StringComparer.Ordinal);
    private readonly List<string?> _versions = new();

    /// <summary>Starts the double.</summary>
    /// <param name="apiKey">The key it accepts.</param>
    public PineconeDouble(string apiKey) => ApiKey = apiKey;

    /// <summary>The key it accepts.</summary>
    public string ApiKey { get; }

    /// <summary>The X-Pinecone-Api-Version of every request (null: none sent).</summary>
    public IReadOnlyList<string?> VersionsSeen
    {
        get
        {
            lock (Gate)
            {
                return _versions.ToList();
            }
        }
    }

    /// <summary>The stored metadata of every record of a namespace, as JSON text.</summary>
    /// <param name="index">The index.</param>
    /// <param name="ns">The namespace.</param>
    public IReadOnlyList<string> Metadata(string index, string ns)
    {
        lock (Gate)
        {
            return _indexes[index].Namespace(ns).Values.Select(r => r.Metadata?.ToJsonString() ?? "null").ToList();
        }
    }

    /// <summary>Deletes an index behind the client's back.</summary>
    /// <param name="index">The index.</param>
    public void Drop(string index)
    {
        lock (Gate)
        {
            _indexes.Remove(index);
        }
    }

    /// <inheritdoc />
    protected override (int Status, JsonNode? Answer) Handle(string method, string path, NameValueCollection query, NameValueCollection headers, JsonNode? body)
    {
        string? version = headers["X-Pinecone-Api-Version"];
        _versions.Add(version);
        if (headers["Api-Key"] != ApiKey)
        {
            return (401, Error(401, "UNAUTHENTICATED", "Invalid API Key"));
        }

        if (version is not null && !Versions.Contains(version))
        {
            return (400, Error(400, "INVALID_ARGUMENT", $"Unsupported API version {version}"));
        }

        if (path.StartsWith("/indexes", StringComparison.Ordinal))
        {
            return ControlPlane(method, path, body);
        }

        // The data plane: every index has its own host in Pinecone; this double has one address, so it serves the
        // data plane of one index and refuses to guess between several.
        if (_indexes.Count > 1)
        {
            return (400, Error(400, "INVALID_ARGUMENT", "The double serves the data plane of one index; use one double per index"));
        }

        Index? index = _indexes.Values.FirstOrDefault();
        if (index is null)
        {
            return (404, Error(404, "NOT_FOUND", "Index not found"));
        }

        return (method, path) switch
        {
            ("POST", "/vectors/upsert") => Upsert(index, body),
            ("GET", "/vectors/fetch") => Fetch(index, query),
            ("POST", "/vectors/delete") => Delete(index, body),
            ("POST", "/query") => Query(index, body),
            ("GET", "/vectors/list") => List(index, query),
            _ => (404, Error(404, "NOT_FOUND", "Not found")),
        };
    }

    private (int, JsonNode?) ControlPlane(string method, string path, JsonNode? body)
    {
        string[] parts = path.Trim('/').Split('/');
        if (method == "GET" && parts.Length == 2)
        {
            return _indexes.TryGetValue(parts[1], out Index? index)
                ? (200, Describe(index))
                : (404, Error(404, "NOT_FOUND", $"Resource {parts[1]} not found"));
        }

        if (method == "POST" && parts.Length == 1)
        {
            string? name = body?["name"]?.GetValue<string>();
            if (name is null || name.Length is 0 or > 45 || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return (400, Error(400, "INVALID_ARGUMENT", "Name must consist of lower case alphanumeric characters or '-', at most 45 characters"));
            }

            if (body!["dimension"] is not JsonValue d || !d.TryGetValue(out int dimension) || dimension is < 1 or > 20_000)
            {
                return (422, Error(422, "INVALID_ARGUMENT", "dimension must be 1 to 20000"));
            }

            string metric = body["metric"]?.GetValue<string>() ?? "cosine";
            if (metric is not ("cosine" or "euclidean" or "dotproduct"))
            {
                return (422, Error(422, "INVALID_ARGUMENT", "metric must be cosine, euclidean or dotproduct"));
            }

            if (body["spec"]?["serverless"]?["cloud"] is null || body["spec"]?["serverless"]?["region"] is null)
            {
                return (422, Error(422, "INVALID_ARGUMENT", "spec.serverless.cloud and region are required"));
            }

            var tags = body["tags"] as JsonObject;
            if (tags is not null && tags.Any(t => !t.Key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
                || t.Value?.GetValue<string>() is not string v || !v.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')))
            {
                return (400, Error(400, "INVALID_ARGUMENT", "Tag keys and values may hold only letters, digits, '_' and '-'"));
            }

            if (_indexes.ContainsKey(name))
            {
                return (409, Error(409, "ALREADY_EXISTS", "Resource already exists"));
            }

            var created = new Index(name, dimension, metric, (JsonObject?)tags?.DeepClone());
            _indexes[name] = created;
            return (201, Describe(created));
        }

        return (404, Error(404, "NOT_FOUND", "Not found"));
    }

    private JsonObject Describe(Index index) => new()
    {
        ["name"] = index.Name,
        ["dimension"] = index.Dimension,
        ["metric"] = index.Metric,
        ["vector_type"] = "dense",
        ["host"] = Uri.Authority,
        ["spec"] = new JsonObject { ["serverless"] = new JsonObject { ["cloud"] = "aws", ["region"] = "us-east-1" } },
        ["status"] = new JsonObject { ["ready"] = true, ["state"] = "Ready" },
        ["tags"] = index.Tags?.DeepClone(),
        ["deletion_protection"] = "disabled",
    };

    private static (int, JsonNode?) Upsert(Index index, JsonNode? body)
    {
        if (body?["vectors"] is not JsonArray vectors || vectors.Count == 0)
        {
            return (400, Error(400, "INVALID_ARGUMENT", "vectors are required"));
        }

        if (vectors.Count > 1000)
        {
            return (400, Error(400, "INVALID_ARGUMENT", $"Batch size exceeds 1000 ({vectors.Count})"));
        }

        if (body.ToJsonString().Length > MaxRequestBytes)
        {
            return (400, Error(400, "INVALID_ARGUMENT", "Request size exceeds 2MB"));
        }

        var staged = new List<(string, Record)>();
        foreach (JsonNode? v in vectors)
        {
            string? id = v?["id"]?.GetValue<string>();
            if (string.IsNullOrEmpty(id) || id.Length > 512)
            {
                return (400, Error(400, "INVALID_ARGUMENT", "id must be 1 to 512 characters"));
            }

            if (Floats(v!["values"]) is not float[] values || values.Length != index.Dimension)
            {
                return (400, Error(400, "INVALID_ARGUMENT", $"Vector dimension {(v["values"] as JsonArray)?.Count ?? 0} does not match the dimension of the index {index.Dimension}"));
            }

            var metadata = v["metadata"] as JsonObject;
            if (metadata is not null && !metadata.All(p => ValidMetadata(p.Value)))
            {
                return (400, Error(400, "INVALID_ARGUMENT", "Metadata values must be strings, numbers, booleans or lists of strings"));
            }

            if (metadata is not null && metadata.ToJsonString().Length > 40 * 1024)
            {
                return (400, Error(400, "INVALID_ARGUMENT", "Metadata size exceeds the limit of 40960 bytes per vector"));
            }

            staged.Add((id, new Record(values, (JsonObject?)metadata?.DeepClone())));
        }

        Dictionary<string, Record> ns = index.Namespace(body["namespace"]?.GetValue<string>() ?? "__default__");
        foreach ((string id, Record record) in staged)
        {
            ns[id] = record;
        }

        return (200, new JsonObject { ["upsertedCount"] = staged.Count });
    }

    private static bool ValidMetadata(JsonNode? value) => value switch
    {
        JsonArray array => array.All(e => e is JsonValue s && s.TryGetValue(out string? _)),
        JsonValue scalar => scalar.TryGetValue(out string? _) || scalar.TryGetValue(out double _) || scalar.TryGetValue(out bool _),
        _ => false,
    };

    private static (int, JsonNode?) Fetch(Index index, NameValueCollection query)
    {
        string[] ids = query.GetValues("ids") ?? [];
        if (ids.Length is 0 or > 1000)
        {
            return (400, Error(400, "INVALID_ARGUMENT", "1 to 1000 ids are required"));
        }

        string ns = query["namespace"] ?? "__default__";
        Dictionary<string, Record> records = index.Namespace(ns);
        var vectors = new JsonObject();
        foreach (string id in ids.Distinct(StringComparer.Ordinal))
        {
            if (records.TryGetValue(id, out Record? record))
            {
                vectors[id] = RecordJson(id, record, values: true, metadata: true, score: null);
            }
        }

        return (200, new JsonObject { ["vectors"] = vectors, ["namespace"] = ns, ["usage"] = new JsonObject { ["readUnits"] = 1 } });
    }

    private static (int, JsonNode?) Delete(Index index, JsonNode? body)
    {
        Dictionary<string, Record> ns = index.Namespace(body?["namespace"]?.GetValue<string>() ?? "__default__");
        if (body?["deleteAll"]?.GetValue<bool>() == true)
        {
            ns.Clear();
            return (200, new JsonObject());
        }

        if (body?["ids"] is not JsonArray ids || ids.Count is 0 or > 1000)
        {
            return (400, Error(400, "INVALID_ARGUMENT", "1 to 1000 ids, or deleteAll, are required"));
        }

        foreach (JsonNode? id in ids)
        {
            ns.Remove(id!.GetValue<string>());
        }

        return (200, new JsonObject());
    }

    private static (int, JsonNode?) Query(Index index, JsonNode? body)
    {
        if (Floats(body?["vector"]) is not float[] vector || vector.Length != index.Dimension)
        {
            return (400, Error(400, "INVALID_ARGUMENT", $"Vector dimension {(body?["vector"] as JsonArray)?.Count ?? 0} does not match the dimension of the index {index.Dimension}"));
        }

        int topK = body!["topK"] is JsonValue t && t.TryGetValue(out int k) ? k : 0;
        if (topK is < 1 or > 10_000)
        {
            return (400, Error(400, "INVALID_ARGUMENT", "topK must be 1 to 10000"));
        }

        Func<JsonObject?, bool> filter;
        try
        {
            filter = Filter(body["filter"] as JsonObject);
        }
        catch (NotSupportedException e)
        {
            return (400, Error(400, "INVALID_ARGUMENT", e.Message));
        }

        bool values = body["includeValues"]?.GetValue<bool>() ?? false;
        bool metadata = body["includeMetadata"]?.GetValue<bool>() ?? false;
        string ns = body["namespace"]?.GetValue<string>() ?? "__default__";
        JsonNode?[] matches = index.Namespace(ns)
            .Where(r => filter(r.Value.Metadata))
            .Select(r => (r.Key, r.Value, Score: Cosine(vector, r.Value.Values)))
            .OrderByDescending(s => s.Score).ThenBy(s => s.Key, StringComparer.Ordinal)
            .Take(topK)
            .Select(s => (JsonNode?)RecordJson(s.Key, s.Value, values, metadata, s.Score))
            .ToArray();
        var answer = new JsonObject { ["matches"] = new JsonArray(matches), ["namespace"] = ns };
        if (answer.ToJsonString().Length > 4 * 1024 * 1024)
        {
            return (400, Error(400, "INVALID_ARGUMENT", "Result size exceeds 4MB; lower topK or leave out values or metadata"));
        }

        return (200, answer);
    }

    private static (int, JsonNode?) List(Index index, NameValueCollection query)
    {
        int limit = query["limit"] is string l ? int.Parse(l, CultureInfo.InvariantCulture) : 100;
        if (limit is < 1 or > 1000)
        {
            return (400, Error(400, "INVALID_ARGUMENT", "limit must be 1 to 1000"));
        }

        string prefix = query["prefix"] ?? "";
        string? after = query["paginationToken"];
        List<string> ids = index.Namespace(query["namespace"] ?? "__default__").Keys
            .Where(id => id.StartsWith(prefix, StringComparison.Ordinal) && (after is null || string.CompareOrdinal(id, after) > 0))
            .OrderBy(id => id, StringComparer.Ordinal).ToList();
        var page = ids.Take(limit).ToList();
        var answer = new JsonObject
        {
            ["vectors"] = new JsonArray(page.Select(id => (JsonNode?)new JsonObject { ["id"] = id }).ToArray()),
            ["namespace"] = query["namespace"] ?? "__default__",
        };
        if (ids.Count > limit)
        {
            answer["pagination"] = new JsonObject { ["next"] = page[^1] };
        }

        return (200, answer);
    }

    /// <summary>A metadata filter: an object of field conditions (all must hold) or <c>$and</c>.</summary>
    private static Func<JsonObject?, bool> Filter(JsonObject? filter)
    {
        if (filter is null)
        {
            return _ => true;
        }

        var conditions = new List<Func<JsonObject?, bool>>();
        foreach ((string field, JsonNode? condition) in filter)
        {
            if (field == "$and")
            {
                var parts = (condition as JsonArray ?? throw new NotSupportedException("$and takes a list")).Select(c => Filter(c as JsonObject)).ToList();
                conditions.Add(m => parts.All(p => p(m)));
            }
            else if (field.StartsWith('$'))
            {
                throw new NotSupportedException($"The double does not model {field}");
            }
            else
            {
                (string op, JsonNode? operand) = condition is JsonObject ops && ops.Count == 1 ? (ops.First().Key, ops.First().Value) : ("$eq", condition);
                HashSet<string> wanted = op switch
                {
                    "$eq" => [operand!.ToJsonString()],
                    "$in" => (operand as JsonArray ?? throw new NotSupportedException("$in takes a list")).Select(x => x!.ToJsonString()).ToHashSet(),
                    _ => throw new NotSupportedException($"The double does not model {op}"),
                };
                conditions.Add(m => m?[field] switch
                {
                    JsonArray list => list.Any(e => wanted.Contains(e!.ToJsonString())),
                    null => false,
                    JsonNode value => wanted.Contains(value.ToJsonString()),
                });
            }
        }

        return m => conditions.All(c => c(m));
    }

    private static JsonObject RecordJson(string id, Record record, bool values, bool metadata, float? score)
    {
        var json = new JsonObject { ["id"] = id };
        if (score is float s)
        {
            json["score"] = s;
        }

        if (values)
        {
            json["values"] = FloatArray(record.Values);
        }

        if (metadata && record.Metadata is not null)
        {
            json["metadata"] = record.Metadata.DeepClone();
        }

        return json;
    }

    private static JsonObject Error(int status, string code, string message) =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message }, ["status"] = status };

    private sealed record Record(float[] Values, JsonObject? Metadata);

    private sealed record Index(string Name, int Dimension, string Metric, JsonObject? Tags)
    {
        private readonly Dictionary<string, Dictionary<string, Record>> _namespaces = new(StringComparer.Ordinal);

        public Dictionary<string, Record> Namespace(string name)
        {
            if (!_namespaces.TryGetValue(name, out Dictionary<string, Record>? ns))
            {
                _namespaces[name] = ns = new Dictionary<string, Record>(StringComparer.Ordinal);
            }

            return ns;
        }
    }
}
