using System.Text;
using System.Text.Json;
using Ghostie.Sync.KnowledgeGraph.Internal;

namespace Ghostie.Sync.KnowledgeGraph;

/// <summary>
/// The file format of the reference MCP memory server (<c>@modelcontextprotocol/server-memory</c>) at
/// <c>MEMORY_FILE_PATH</c>: one JSON object per line, <c>{"type":"entity","name","entityType","observations"}</c> or
/// <c>{"type":"relation","from","to","relationType"}</c>, lines joined by <c>\n</c> with no final line break, written
/// the way JavaScript's <c>JSON.stringify</c> writes them (see docs/knowledge-graph.md).
/// </summary>
public static class MemoryGraphFile
{
    /// <summary>
    /// Reads a graph file. Lines that are not a well-formed entity or relation are never dropped: they are returned in
    /// <see cref="GraphFileContent.KeptLines"/>, byte for byte, with the reason. Blank lines are skipped (as the server
    /// skips them). An entity name that appears on several lines is one entity: its observations are joined, and the
    /// first line's type is kept (as the server's lookups find the first), which is reported in
    /// <see cref="GraphFileContent.Notes"/>.
    /// </summary>
    /// <param name="content">The file's bytes (UTF-8).</param>
    public static GraphFileContent Parse(ReadOnlySpan<byte> content)
    {
        var entities = new List<(string Name, string Type, List<string> Observations, int Line)>();
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var relations = new List<GraphRelation>();
        var seenRelations = new HashSet<GraphRelation>();
        var kept = new List<GraphFileLine>();
        var notes = new List<string>();
        int lineNumber = 0;
        while (true)
        {
            lineNumber++;
            int end = content.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? content : content[..end];
            if (!IsBlank(line))
            {
                switch (ParseLine(line, out string? problem))
                {
                    case GraphEntity entity:
                        if (byName.TryGetValue(entity.Name, out int index))
                        {
                            var existing = entities[index];
                            if (existing.Type != entity.EntityType)
                            {
                                notes.Add($"line {lineNumber} repeats the entity of line {existing.Line} with another type; the type of line {existing.Line} is kept and the observations of both are joined.");
                            }

                            AddDistinct(existing.Observations, entity.Observations);
                        }
                        else
                        {
                            byName[entity.Name] = entities.Count;
                            var observations = new List<string>();
                            AddDistinct(observations, entity.Observations);
                            entities.Add((entity.Name, entity.EntityType, observations, lineNumber));
                        }

                        break;
                    case GraphRelation relation:
                        if (seenRelations.Add(relation))
                        {
                            relations.Add(relation);
                        }

                        break;
                    default:
                        kept.Add(new GraphFileLine(lineNumber, line.ToArray(), problem!));
                        break;
                }
            }

            if (end < 0)
            {
                break;
            }

            content = content[(end + 1)..];
        }

        var graph = new KnowledgeGraph(entities.Select(e => new GraphEntity(e.Name, e.Type, e.Observations.ToArray())).ToArray(), relations.ToArray());
        return new GraphFileContent(graph, kept, notes);
    }

    /// <summary>
    /// Writes a graph in the server's format: the entities, then the relations, one compact JSON object per line in the
    /// server's property order and <c>JSON.stringify</c>'s escaping, then <paramref name="keptLines"/> byte for byte;
    /// lines joined by <c>\n</c>, no final line break (an empty graph is an empty file), as the server writes it.
    /// </summary>
    /// <param name="graph">The graph, in the order to write.</param>
    /// <param name="keptLines">Lines to keep as they are (from <see cref="GraphFileContent.KeptLines"/>).</param>
    public static byte[] Serialize(KnowledgeGraph graph, IEnumerable<GraphFileLine>? keptLines = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var output = new MemoryStream();
        bool first = true;
        void NewLine()
        {
            if (!first)
            {
                output.WriteByte((byte)'\n');
            }

            first = false;
        }

        foreach (GraphEntity entity in graph.Entities)
        {
            NewLine();
            var line = new StringBuilder("{\"type\":\"entity\",\"name\":");
            JsString.Append(line, entity.Name).Append(",\"entityType\":");
            JsString.Append(line, entity.EntityType).Append(",\"observations\":[");
            for (int i = 0; i < entity.Observations.Count; i++)
            {
                JsString.Append(i > 0 ? line.Append(',') : line, entity.Observations[i]);
            }

            output.Write(Encoding.UTF8.GetBytes(line.Append("]}").ToString()));
        }

        foreach (GraphRelation relation in graph.Relations)
        {
            NewLine();
            var line = new StringBuilder("{\"type\":\"relation\",\"from\":");
            JsString.Append(line, relation.From).Append(",\"to\":");
            JsString.Append(line, relation.To).Append(",\"relationType\":");
            JsString.Append(line, relation.RelationType).Append('}');
            output.Write(Encoding.UTF8.GetBytes(line.ToString()));
        }

        foreach (GraphFileLine kept in keptLines ?? [])
        {
            NewLine();
            output.Write(kept.Bytes.Span);
        }

        return output.ToArray();
    }

    private static object? ParseLine(ReadOnlySpan<byte> line, out string? problem)
    {
        problem = null;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            if (reader.BytesConsumed < line.Length && !IsBlank(line[(int)reader.BytesConsumed..]))
            {
                problem = "it holds more than one JSON value";
                return null;
            }

            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = $"it holds a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an entity or relation object";
                return null;
            }

            string? type = root.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type == "entity")
            {
                if (String(root, "name") is not { } name || String(root, "entityType") is not { } entityType
                    || !root.TryGetProperty("observations", out JsonElement observations) || observations.ValueKind != JsonValueKind.Array
                    || observations.EnumerateArray().Any(o => o.ValueKind != JsonValueKind.String))
                {
                    problem = "it is an entity without a string 'name', a string 'entityType' and an array of string 'observations'";
                    return null;
                }

                return new GraphEntity(name, entityType, observations.EnumerateArray().Select(o => o.GetString()!).ToArray());
            }

            if (type == "relation")
            {
                if (String(root, "from") is not { } from || String(root, "to") is not { } to || String(root, "relationType") is not { } relationType)
                {
                    problem = "it is a relation without string 'from', 'to' and 'relationType'";
                    return null;
                }

                return new GraphRelation(from, to, relationType);
            }

            problem = "its 'type' is neither \"entity\" nor \"relation\"";
            return null;
        }
        catch (JsonException ex)
        {
            problem = $"it is not valid JSON (byte {(ex.BytePositionInLine ?? 0) + 1})";
            return null;
        }
        catch (InvalidOperationException)
        {
            problem = "it holds a string that is not valid Unicode";
            return null;
        }
    }

    private static string? String(JsonElement root, string property) =>
        root.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static void AddDistinct(List<string> target, IEnumerable<string> items)
    {
        foreach (string item in items)
        {
            if (!target.Contains(item, StringComparer.Ordinal))
            {
                target.Add(item);
            }
        }
    }

    /// <summary>Whether the line is empty or only white space (the server skips such lines: <c>line.trim() !== ""</c>).</summary>
    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (byte b in line)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or 0x0B or 0x0C))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A graph file as read: the graph, the lines that are not part of it, and notes about repeated entities.</summary>
/// <param name="Graph">The entities and relations of the well-formed lines, in file order.</param>
/// <param name="KeptLines">Lines that are not a well-formed entity or relation, kept byte for byte.</param>
/// <param name="Notes">Remarks about the file that lost nothing but merged something (an entity on several lines).</param>
public sealed record GraphFileContent(KnowledgeGraph Graph, IReadOnlyList<GraphFileLine> KeptLines, IReadOnlyList<string> Notes);

/// <summary>A line of a graph file that is not a well-formed entity or relation: kept as it is, never synced or dropped.</summary>
/// <param name="LineNumber">Its line number in the file as read (1 is the first line).</param>
/// <param name="Bytes">The line's bytes, without its line break.</param>
/// <param name="Problem">Why it is not an entity or relation (never its content).</param>
public sealed record GraphFileLine(int LineNumber, ReadOnlyMemory<byte> Bytes, string Problem);
