using System.Collections.Specialized;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Ghostie.Sync.Testing;

/// <summary>
/// A loopback protocol double of Weaviate's REST v1 API and the GraphQL <c>Get</c> query (the subset the Weaviate tier
/// uses), written from Weaviate's documentation (docs.weaviate.io/weaviate/api/rest, /api/graphql), rule by rule:
/// <list type="bullet">
/// <item>Authentication: <c>Authorization: Bearer {key}</c>; a missing or wrong key is 401; a key without write
/// permission is 403 on writes (RBAC).</item>
/// <item>Schema: <c>POST /v1/schema</c> creates a class (name <c>/^[A-Z][_0-9A-Za-z]*$/</c>, else 422; an existing name is
/// 422 "already exists"); <c>vectorizer: none</c> means objects bring their vectors; <c>vectorIndexConfig.distance</c>
/// cosine; properties with <c>dataType</c> and <c>tokenization</c>; <c>GET /v1/schema/{class}</c> returns it, 404 when
/// there is none; <c>DELETE</c> removes it with its objects. Auto-schema is modelled as turned off: a property
/// the class does not declare is an object error.</item>
/// <item>Batch (api/rest, batch): <c>POST /v1/batch/objects</c> with <c>objects[] {class, id, properties, vector}</c>;
/// the answer holds one result per object, and an object can fail (<c>result.errors.error[].message</c>) while the
/// request succeeds; an object with an existing id is replaced; ids are UUIDs; every vector of a class has the
/// length of its first.</item>
/// <item>Objects: <c>GET /v1/objects/{class}/{id}</c> (<c>include=vector</c> adds the vector), 404 when missing;
/// <c>DELETE /v1/objects/{class}/{id}</c>, 204, or 404; <c>GET /v1/objects?class=..&amp;limit=..&amp;after={id}</c>
/// lists a class in id order from after the cursor (limit at most QUERY_MAXIMUM_RESULTS, 10,000).</item>
/// <item>GraphQL (<c>POST /v1/graphql</c> with <c>{query}</c>): <c>Get { Class(nearVector: {vector, distance}, limit,
/// where) { props _additional { id distance vector } } }</c>; cosine distance is 1 - cosine similarity, results
/// nearest first, <c>distance</c> a maximum; <c>where</c> with <c>And</c> operands and <c>ContainsAny</c> on a text
/// array (<c>valueText</c> list); a <c>field</c>-tokenized property compares whole strings, a <c>word</c>-tokenized one
/// lower-cased alphanumeric tokens; errors come back as HTTP 200 with an <c>errors</c> list (a vector of the wrong
/// length, an unknown class: "Cannot query field").</item>
/// <item>429 and 503 with Retry-After when the server names a wait (injected by tests).</item>
/// </list>
/// </summary>
public sealed class WeaviateDouble : JsonApiDouble
{
    private readonly Dictionary<string, WeaviateClass> _classes = new(StringComparer.Ordinal);

    /// <summary>Starts the double.</summary>
    /// <param name="apiKey">The read-write key.</param>
    /// <param name="readOnlyKey">A key allowed to read only.</param>
    public WeaviateDouble(string apiKey, string? readOnlyKey = null)
    {
        ApiKey = apiKey;
        ReadOnlyKey = readOnlyKey;
    }

    /// <summary>The read-write key.</summary>
    public string ApiKey { get; }

    /// <summary>The read-only key.</summary>
    public string? ReadOnlyKey { get; }

    /// <summary>The stored properties of every object of a class, as JSON text.</summary>
    /// <param name="className">The class.</param>
    public IReadOnlyList<string> Properties(string className)
    {
        lock (Gate)
        {
            return _classes[className].Objects.Values.Select(o => o.Properties.ToJsonString()).ToList();
        }
    }

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames
    {
        get
        {
            lock (Gate)
            {
                return _classes.Keys.ToList();
            }
        }
    }

    /// <summary>Deletes a class behind the client's back.</summary>
    /// <param name="className">The class.</param>
    public void Drop(string className)
    {
        lock (Gate)
        {
            _classes.Remove(className);
        }
    }

    /// <inheritdoc />
    protected override (int Status, JsonNode? Answer) Handle(string method, string path, NameValueCollection query, NameValueCollection headers, JsonNode? body)
    {
        string? auth = headers["Authorization"];
        string? key = auth is not null && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : null;
        bool write = method is "PUT" or "DELETE" || (method == "POST" && path != "/v1/graphql");
        if (key != ApiKey)
        {
            if (key is null || key != ReadOnlyKey)
            {
                return (401, Errors("anonymous access not enabled, please provide an auth scheme such as OIDC or API key"));
            }

            if (write)
            {
                return (403, Errors("forbidden: the key has no write permission"));
            }
        }

        string[] parts = path.Trim('/').Split('/');
        return (method, parts) switch
        {
            ("POST", ["v1", "schema"]) => CreateClass(body),
            ("GET", ["v1", "schema", string c]) => _classes.TryGetValue(c, out WeaviateClass? cls) ? (200, cls.Definition.DeepClone()) : (404, null),
            ("DELETE", ["v1", "schema", string c]) => (_classes.Remove(c) ? 200 : 404, null),
            ("POST", ["v1", "batch", "objects"]) => Batch(body),
            ("GET", ["v1", "objects", string c, string id]) => GetObject(c, id, query["include"] == "vector"),
            ("DELETE", ["v1", "objects", string c, string id]) => DeleteObject(c, id),
            ("GET", ["v1", "objects"]) => List(query),
            ("POST", ["v1", "graphql"]) => GraphQL(body?["query"]?.GetValue<string>() ?? ""),
            _ => (404, null),
        };
    }

    private (int, JsonNode?) CreateClass(JsonNode? body)
    {
        string? name = body?["class"]?.GetValue<string>();
        if (name is null || name.Length == 0 || !char.IsAsciiLetterUpper(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            return (422, Errors($"'{name}' is not a valid class name"));
        }

        if (_classes.ContainsKey(name))
        {
            return (422, Errors($"class name \"{name}\" already exists"));
        }

        var definition = (JsonObject)body!.DeepClone();
        _classes[name] = new WeaviateClass(definition);
        return (200, definition.DeepClone());
    }

    private (int, JsonNode?) Batch(JsonNode? body)
    {
        if (body?["objects"] is not JsonArray objects)
        {
            return (422, Errors("objects are required"));
        }

        var results = new JsonArray();
        foreach (JsonNode? o in objects)
        {
            var result = (JsonObject)o!.DeepClone();
            result.Remove("vector");
            string? error = Store(o);
            result["result"] = error is null ? new JsonObject() : new JsonObject { ["errors"] = new JsonObject { ["error"] = new JsonArray(new JsonObject { ["message"] = error }) } };
            results.Add(result);
        }

        return (200, results);
    }

    private string? Store(JsonNode? o)
    {
        string? className = o?["class"]?.GetValue<string>();
        if (className is null || !_classes.TryGetValue(className, out WeaviateClass? cls))
        {
            return $"class '{className}' not present in schema";
        }

        if (!Guid.TryParse(o!["id"]?.GetValue<string>(), out Guid id))
        {
            return "id is not a valid uuid";
        }

        if (Floats(o["vector"]) is not float[] vector || vector.Length == 0)
        {
            return "no vector given, and the class has no vectorizer";
        }

        if (cls.Dimension is int dim && dim != vector.Length)
        {
            return $"new node has a vector with length {vector.Length}. Existing nodes have vectors with length {dim}";
        }

        var properties = o["properties"] as JsonObject ?? new JsonObject();
        foreach ((string property, _) in properties)
        {
            if (cls.Property(property) is null)
            {
                return $"no such prop with name '{property}' found in class '{className}' in the schema. Check your schema files for which properties in this class are available";
            }
        }

        cls.Dimension ??= vector.Length;
        cls.Objects[id.ToString("D")] = new WeaviateObject(vector, (JsonObject)properties.DeepClone());
        return null;
    }

    private (int, JsonNode?) GetObject(string className, string id, bool withVector)
    {
        if (!_classes.TryGetValue(className, out WeaviateClass? cls) || !Guid.TryParse(id, out Guid guid) || !cls.Objects.TryGetValue(guid.ToString("D"), out WeaviateObject? obj))
        {
            return (404, null);
        }

        return (200, ObjectJson(className, guid.ToString("D"), obj, withVector));
    }

    private (int, JsonNode?) DeleteObject(string className, string id)
    {
        if (_classes.TryGetValue(className, out WeaviateClass? cls) && Guid.TryParse(id, out Guid guid) && cls.Objects.Remove(guid.ToString("D")))
        {
            return (204, null);
        }

        return (404, null);
    }

    private (int, JsonNode?) List(NameValueCollection query)
    {
        string? className = query["class"];
        int limit = query["limit"] is string l ? int.Parse(l, CultureInfo.InvariantCulture) : 25;
        if (limit is < 1 or > 10_000)
        {
            return (422, Errors("limit must be 1 to QUERY_MAXIMUM_RESULTS (10000)"));
        }

        if (className is null || !_classes.TryGetValue(className, out WeaviateClass? cls))
        {
            return query["after"] is null && className is null ? (422, Errors("class is required with the cursor API")) : (404, null);
        }

        string? after = query["after"];
        var page = cls.Objects.Where(o => after is null || string.CompareOrdinal(o.Key, after) > 0).OrderBy(o => o.Key, StringComparer.Ordinal).Take(limit)
            .Select(o => (JsonNode?)ObjectJson(className, o.Key, o.Value, withVector: false)).ToArray();
        return (200, new JsonObject { ["objects"] = new JsonArray(page), ["totalResults"] = page.Length });
    }

    private (int, JsonNode?) GraphQL(string text)
    {
        GraphQLQuery q;
        try
        {
            q = GraphQLQuery.Parse(text);
        }
        catch (FormatException e)
        {
            return (200, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["message"] = "Syntax Error GraphQL request: " + e.Message }) });
        }

        if (!_classes.TryGetValue(q.ClassName, out WeaviateClass? cls))
        {
            return (200, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["message"] = $"Cannot query field \"{q.ClassName}\" on type \"GetObjectsObj\"." }) });
        }

        if (q.Vector is not float[] vector || (cls.Dimension is int dim && vector.Length != dim))
        {
            return (200, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["message"] = $"explorer: get class: vector search: vector lengths don't match: {q.Vector?.Length ?? 0} vs {cls.Dimension}" }) });
        }

        var hits = cls.Objects
            .Where(o => q.Where.All(c => Contains(cls, o.Value.Properties, c.Property, c.Values)))
            .Select(o => (o.Key, o.Value, Distance: 1f - Cosine(vector, o.Value.Vector)))
            .Where(h => q.MaxDistance is not double max || h.Distance <= max)
            .OrderBy(h => h.Distance).ThenBy(h => h.Key, StringComparer.Ordinal)
            .Take(q.Limit ?? 10)
            .Select(h =>
            {
                var item = new JsonObject();
                foreach (string field in q.Fields)
                {
                    item[field] = h.Value.Properties[field]?.DeepClone();
                }

                var additional = new JsonObject();
                foreach (string field in q.Additional)
                {
                    additional[field] = field switch
                    {
                        "id" => h.Key,
                        "distance" => h.Distance,
                        "vector" => FloatArray(h.Value.Vector),
                        _ => null,
                    };
                }

                item["_additional"] = additional;
                return (JsonNode?)item;
            })
            .ToArray();
        return (200, new JsonObject { ["data"] = new JsonObject { ["Get"] = new JsonObject { [q.ClassName] = new JsonArray(hits) } } });
    }

    /// <summary>ContainsAny on a property: field tokenization compares whole strings; word tokenization compares the
    /// lower-cased alphanumeric tokens of both sides.</summary>
    private static bool Contains(WeaviateClass cls, JsonObject properties, string property, IReadOnlyList<string> wanted)
    {
        string tokenization = cls.Property(property)?["tokenization"]?.GetValue<string>() ?? "word";
        IEnumerable<string> values = properties[property] switch
        {
            JsonArray array => array.Select(x => x!.GetValue<string>()),
            JsonValue value => [value.GetValue<string>()],
            _ => [],
        };
        if (tokenization == "field")
        {
            return values.Any(v => wanted.Contains(v, StringComparer.Ordinal));
        }

        HashSet<string> tokens = values.SelectMany(Tokens).ToHashSet(StringComparer.Ordinal);
        return wanted.SelectMany(Tokens).Any(tokens.Contains);

        static IEnumerable<string> Tokens(string s) => System.Text.RegularExpressions.Regex.Split(s.ToLowerInvariant(), @"[^\p{L}\p{Nd}]+").Where(t => t.Length > 0);
    }

    private static JsonObject ObjectJson(string className, string id, WeaviateObject obj, bool withVector)
    {
        var json = new JsonObject { ["class"] = className, ["id"] = id, ["properties"] = obj.Properties.DeepClone() };
        if (withVector)
        {
            json["vector"] = FloatArray(obj.Vector);
        }

        return json;
    }

    private static JsonObject Errors(string message) => new() { ["error"] = new JsonArray(new JsonObject { ["message"] = message }) };

    private sealed class WeaviateClass(JsonObject definition)
    {
        public JsonObject Definition { get; } = definition;

        public int? Dimension { get; set; }

        public Dictionary<string, WeaviateObject> Objects { get; } = new(StringComparer.Ordinal);

        public JsonObject? Property(string name) =>
            (Definition["properties"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(p => p["name"]?.GetValue<string>() == name);
    }

    private sealed record WeaviateObject(float[] Vector, JsonObject Properties);

    /// <summary>The one GraphQL shape the double answers: <c>{ Get { Class(args) { fields _additional { ... } } } }</c>.</summary>
    private sealed class GraphQLQuery
    {
        private readonly string _text;
        private int _at;

        private GraphQLQuery(string text) => _text = text;

        public string ClassName { get; private set; } = "";

        public float[]? Vector { get; private set; }

        public double? MaxDistance { get; private set; }

        public int? Limit { get; private set; }

        public List<(string Property, IReadOnlyList<string> Values)> Where { get; } = [];

        public List<string> Fields { get; } = [];

        public List<string> Additional { get; } = [];

        public static GraphQLQuery Parse(string text)
        {
            var q = new GraphQLQuery(text);
            q.Expect('{');
            if (q.Name() != "Get")
            {
                throw new FormatException("only Get is modelled");
            }

            q.Expect('{');
            q.ClassName = q.Name();
            q.Expect('(');
            while (!q.TryTake(')'))
            {
                string argument = q.Name();
                q.Expect(':');
                object? value = q.Value();
                switch (argument)
                {
                    case "nearVector" when value is Dictionary<string, object?> near:
                        q.Vector = (near.GetValueOrDefault("vector") as List<object?>)?.Select(x => (float)(double)x!).ToArray();
                        q.MaxDistance = near.GetValueOrDefault("distance") as double?;
                        break;
                    case "limit" when value is double limit:
                        q.Limit = (int)limit;
                        break;
                    case "where" when value is Dictionary<string, object?> where:
                        q.AddWhere(where);
                        break;
                    default:
                        throw new FormatException($"argument {argument} is not modelled");
                }

                q.TryTake(',');
            }

            q.Expect('{');
            while (!q.TryTake('}'))
            {
                string field = q.Name();
                if (field == "_additional")
                {
                    q.Expect('{');
                    while (!q.TryTake('}'))
                    {
                        q.Additional.Add(q.Name());
                    }
                }
                else
                {
                    q.Fields.Add(field);
                }
            }

            q.Expect('}');
            q.Expect('}');
            return q;
        }

        private void AddWhere(Dictionary<string, object?> where)
        {
            string op = where.GetValueOrDefault("operator") as string ?? "";
            if (op == "And")
            {
                foreach (object? operand in where.GetValueOrDefault("operands") as List<object?> ?? [])
                {
                    AddWhere((Dictionary<string, object?>)operand!);
                }
            }
            else if (op == "ContainsAny" && where.GetValueOrDefault("path") is List<object?> { Count: 1 } path && where.GetValueOrDefault("valueText") is List<object?> values)
            {
                Where.Add(((string)path[0]!, values.Select(v => (string)v!).ToList()));
            }
            else
            {
                throw new FormatException($"where operator {op} is not modelled");
            }
        }

        private object? Value()
        {
            Skip();
            char c = Peek();
            if (c == '{')
            {
                _at++;
                var obj = new Dictionary<string, object?>(StringComparer.Ordinal);
                while (!TryTake('}'))
                {
                    string name = Name();
                    Expect(':');
                    obj[name] = Value();
                    TryTake(',');
                }

                return obj;
            }

            if (c == '[')
            {
                _at++;
                var list = new List<object?>();
                while (!TryTake(']'))
                {
                    list.Add(Value());
                    TryTake(',');
                }

                return list;
            }

            if (c == '"')
            {
                return String();
            }

            if (c == '-' || char.IsAsciiDigit(c))
            {
                int start = _at;
                while (_at < _text.Length && (char.IsAsciiDigit(_text[_at]) || _text[_at] is '-' or '+' or '.' or 'e' or 'E'))
                {
                    _at++;
                }

                return double.Parse(_text.AsSpan(start, _at - start), NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            return Name(); // an enum value (And, ContainsAny)
        }

        private string String()
        {
            Expect('"');
            var sb = new StringBuilder();
            while (true)
            {
                if (_at >= _text.Length)
                {
                    throw new FormatException("unterminated string");
                }

                char c = _text[_at++];
                if (c == '"')
                {
                    return sb.ToString();
                }

                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }

                char e = _text[_at++];
                sb.Append(e switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\b',
                    'f' => '\f',
                    'u' => (char)int.Parse(_text.AsSpan((_at += 4) - 4, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    _ => e,
                });
            }
        }

        private string Name()
        {
            Skip();
            int start = _at;
            while (_at < _text.Length && (char.IsAsciiLetterOrDigit(_text[_at]) || _text[_at] == '_'))
            {
                _at++;
            }

            return _at > start ? _text[start.._at] : throw new FormatException($"a name was expected at {start}");
        }

        private void Expect(char c)
        {
            if (!TryTake(c))
            {
                throw new FormatException($"'{c}' was expected at {_at}");
            }
        }

        private bool TryTake(char c)
        {
            Skip();
            if (_at < _text.Length && _text[_at] == c)
            {
                _at++;
                return true;
            }

            return false;
        }

        private char Peek() => _at < _text.Length ? _text[_at] : throw new FormatException("unexpected end");

        private void Skip()
        {
            while (_at < _text.Length && char.IsWhiteSpace(_text[_at]))
            {
                _at++;
            }
        }
    }
}
