using System.Security.Cryptography;
using System.Text.Json;

namespace Ghostie.Sync.KnowledgeGraph.Internal;

/// <summary>What a graph element is, as a memory record.</summary>
internal enum ElementKind
{
    Entity,
    Observation,
    Relation,
}

/// <summary>One element of a graph: an entity (name and type), an observation of an entity, or a relation.</summary>
internal readonly record struct GraphElement(ElementKind Kind, string A, string B, string C = "")
{
    public static GraphElement Entity(string name, string entityType) => new(ElementKind.Entity, name, entityType);

    public static GraphElement Observation(string entity, string text) => new(ElementKind.Observation, entity, text);

    public static GraphElement Relation(GraphRelation relation) => new(ElementKind.Relation, relation.From, relation.RelationType, relation.To);

    /// <summary>The memory id: a prefix per kind and the SHA-256 of the element's identity (an entity is identified by
    /// its name alone, so a change of its type is a new version of the same memory).</summary>
    public string Id => Kind switch
    {
        ElementKind.Entity => GraphRecords.EntityPrefix + GraphRecords.Hash("entity", A),
        ElementKind.Observation => GraphRecords.ObservationPrefix + GraphRecords.Hash("observation", A, B),
        _ => GraphRecords.RelationPrefix + GraphRecords.Hash("relation", A, B, C),
    };
}

/// <summary>
/// The mapping of graph elements onto memory records of the reserved category <see cref="Category"/>
/// (docs/knowledge-graph.md, "Records"): one memory per entity, per observation and per relation.
/// </summary>
internal static class GraphRecords
{
    public const string Category = "knowledge-graph";
    public const string EntityPrefix = "kg-e-";
    public const string ObservationPrefix = "kg-o-";
    public const string RelationPrefix = "kg-r-";

    /// <summary>Lowercase hex SHA-256 of the parts as a JSON array of strings (unambiguous for any strings).</summary>
    public static string Hash(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(parts, GraphJson.Default.StringArray)));

    /// <summary>
    /// The memory record of an element. Its timestamp and device are fixed (the Unix epoch, ""), so the same element
    /// added on two devices is the same content: equal versions, never a conflict.
    /// </summary>
    public static MemoryRecord ToRecord(GraphElement element)
    {
        (string content, ElementContext context) = element.Kind switch
        {
            ElementKind.Entity => (element.A, new ElementContext { Kind = "entity", Name = element.A, EntityType = element.B }),
            ElementKind.Observation => (element.B, new ElementContext { Kind = "observation", Entity = element.A }),
            _ => ($"{element.A} {element.B} {element.C}", new ElementContext { Kind = "relation", From = element.A, RelationType = element.B, To = element.C }),
        };
        return new MemoryRecord
        {
            Id = element.Id,
            Category = Category,
            Content = content,
            DeviceId = "",
            Timestamp = DateTimeOffset.UnixEpoch,
            Context = JsonSerializer.SerializeToElement(context, GraphJson.Default.ElementContext),
        };
    }

    /// <summary>The element a memory record of <see cref="Category"/> holds, or null with the reason.</summary>
    public static GraphElement? FromRecord(MemoryRecord record, out string? problem)
    {
        problem = null;
        ElementContext? context = null;
        try
        {
            if (record.Context is { ValueKind: JsonValueKind.Object } element)
            {
                context = element.Deserialize(GraphJson.Default.ElementContext);
            }
        }
        catch (JsonException)
        {
        }

        GraphElement? result = context?.Kind switch
        {
            "entity" when context.Name is { } name && context.EntityType is { } type => GraphElement.Entity(name, type),
            "observation" when context.Entity is { } entity => GraphElement.Observation(entity, record.Content),
            "relation" when context is { From: { } from, RelationType: { } relationType, To: { } to } => new GraphElement(ElementKind.Relation, from, relationType, to),
            _ => null,
        };
        if (result is null)
        {
            problem = "its context does not describe an entity, observation or relation";
            return null;
        }

        if (result.Value.Id != record.Id)
        {
            problem = "its id does not match the element it describes";
            return null;
        }

        return result;
    }
}

/// <summary>The <c>context</c> of a graph element's memory record.</summary>
internal sealed record ElementContext
{
    [System.Text.Json.Serialization.JsonPropertyName("kind")] public string? Kind { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("name")] public string? Name { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("entity_type")] public string? EntityType { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("entity")] public string? Entity { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("from")] public string? From { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("relation_type")] public string? RelationType { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("to")] public string? To { get; init; }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ElementContext))]
internal sealed partial class GraphJson : System.Text.Json.Serialization.JsonSerializerContext;
