using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ghostie.Sync.AgentState.Redis.Internal;

/// <summary>One operation of a delta: a subset of JSON Patch (RFC 6902) with JSON Pointer (RFC 6901) paths.</summary>
internal sealed record PatchOperation
{
    /// <summary>"add", "replace" or "remove".</summary>
    public required string Op { get; init; }

    /// <summary>A JSON Pointer; "/-" at the end of an array path appends.</summary>
    public required string Path { get; init; }

    /// <summary>The value for "add" and "replace".</summary>
    public JsonNode? Value { get; init; }
}

/// <summary>
/// Deltas between two JSON documents and the digest that says a rebuilt document is exactly the one written.
/// Objects are compared member by member; an array that only grew at its end (an agent's messages, its memories)
/// becomes appends, any other changed array is replaced whole.
/// </summary>
internal static class JsonDelta
{
    private static readonly JsonWriterOptions Canonical = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>
    /// SHA-256 of the canonical form: no whitespace, object members sorted by ordinal name, values as written. Member
    /// order depends on how a document was built (a dictionary after removals, a patched object), the digest does not.
    /// </summary>
    public static string Sha256(JsonNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Canonical))
        {
            WriteCanonical(writer, node);
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (KeyValuePair<string, JsonNode?> member in obj.OrderBy(m => m.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(member.Key);
                    WriteCanonical(writer, member.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (JsonNode? item in array)
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    /// <summary>The operations that turn <paramref name="from"/> into <paramref name="to"/>.</summary>
    public static List<PatchOperation> Diff(JsonNode? from, JsonNode? to)
    {
        var ops = new List<PatchOperation>();
        DiffInto(ops, "", from, to);
        return ops;
    }

    private static void DiffInto(List<PatchOperation> ops, string path, JsonNode? from, JsonNode? to)
    {
        if (JsonNode.DeepEquals(from, to))
        {
            return;
        }

        if (from is JsonObject a && to is JsonObject b)
        {
            foreach (KeyValuePair<string, JsonNode?> member in a)
            {
                if (!b.ContainsKey(member.Key))
                {
                    ops.Add(new PatchOperation { Op = "remove", Path = path + "/" + Escape(member.Key) });
                }
            }

            foreach (KeyValuePair<string, JsonNode?> member in b)
            {
                string child = path + "/" + Escape(member.Key);
                if (a.TryGetPropertyValue(member.Key, out JsonNode? old))
                {
                    DiffInto(ops, child, old, member.Value);
                }
                else
                {
                    ops.Add(new PatchOperation { Op = "add", Path = child, Value = member.Value?.DeepClone() });
                }
            }

            return;
        }

        if (from is JsonArray x && to is JsonArray y && y.Count > x.Count && IsPrefix(x, y))
        {
            for (int i = x.Count; i < y.Count; i++)
            {
                ops.Add(new PatchOperation { Op = "add", Path = path + "/-", Value = y[i]?.DeepClone() });
            }

            return;
        }

        ops.Add(new PatchOperation { Op = "replace", Path = path, Value = to?.DeepClone() });
    }

    private static bool IsPrefix(JsonArray shorter, JsonArray longer)
    {
        for (int i = 0; i < shorter.Count; i++)
        {
            if (!JsonNode.DeepEquals(shorter[i], longer[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Applies <paramref name="ops"/> to a copy of <paramref name="document"/>.</summary>
    /// <exception cref="FormatException">An operation does not fit the document (its path is missing, or its op unknown).</exception>
    public static JsonNode? Apply(JsonNode? document, IReadOnlyList<PatchOperation> ops)
    {
        JsonNode? root = document?.DeepClone();
        foreach (PatchOperation op in ops)
        {
            if (op.Path.Length == 0)
            {
                root = op.Op is "replace" or "add" ? op.Value?.DeepClone() : throw new FormatException($"'{op.Op}' of the whole document");
                continue;
            }

            int cut = op.Path.LastIndexOf('/');
            JsonNode parent = Resolve(root, op.Path[..cut]) ?? throw new FormatException($"path '{op.Path}' has no parent");
            string last = Unescape(op.Path[(cut + 1)..]);
            switch (parent, op.Op)
            {
                case (JsonObject obj, "add" or "replace"):
                    if (op.Op == "replace" && !obj.ContainsKey(last))
                    {
                        throw new FormatException($"'replace' of missing member '{op.Path}'");
                    }

                    obj[last] = op.Value?.DeepClone();
                    break;
                case (JsonObject obj, "remove"):
                    if (!obj.Remove(last))
                    {
                        throw new FormatException($"'remove' of missing member '{op.Path}'");
                    }

                    break;
                case (JsonArray array, "add") when last == "-":
                    array.Add(op.Value?.DeepClone());
                    break;
                case (JsonArray array, "replace") when int.TryParse(last, out int index) && index >= 0 && index < array.Count:
                    array[index] = op.Value?.DeepClone();
                    break;
                default:
                    throw new FormatException($"'{op.Op}' at '{op.Path}' does not fit the document");
            }
        }

        return root;
    }

    private static JsonNode? Resolve(JsonNode? root, string pointer)
    {
        JsonNode? node = root;
        if (pointer.Length == 0)
        {
            return node;
        }

        foreach (string raw in pointer[1..].Split('/'))
        {
            string token = Unescape(raw);
            node = node switch
            {
                JsonObject obj => obj.TryGetPropertyValue(token, out JsonNode? child) ? child : null,
                JsonArray array when int.TryParse(token, out int index) && index >= 0 && index < array.Count => array[index],
                _ => null,
            };
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    private static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string Unescape(string token) => token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
}
