namespace Ghostie.Sync.KnowledgeGraph;

/// <summary>
/// A knowledge graph in the reference MCP memory server's model: entities (a unique name, a type and observations)
/// and directed, typed relations between entity names.
/// </summary>
public sealed class KnowledgeGraph
{
    /// <summary>Creates a graph.</summary>
    /// <param name="entities">The entities (names are unique).</param>
    /// <param name="relations">The relations.</param>
    public KnowledgeGraph(IReadOnlyList<GraphEntity> entities, IReadOnlyList<GraphRelation> relations)
    {
        Entities = entities ?? throw new ArgumentNullException(nameof(entities));
        Relations = relations ?? throw new ArgumentNullException(nameof(relations));
    }

    /// <summary>A graph with no entities and no relations.</summary>
    public static KnowledgeGraph Empty { get; } = new([], []);

    /// <summary>The entities, in file order.</summary>
    public IReadOnlyList<GraphEntity> Entities { get; }

    /// <summary>The relations, in file order.</summary>
    public IReadOnlyList<GraphRelation> Relations { get; }

    /// <summary>How many observations the entities hold in all.</summary>
    public int ObservationCount => Entities.Sum(e => e.Observations.Count);

    /// <summary>
    /// The same graph in the order graph sync writes it: entities by name, each entity's observations, and relations by
    /// from, to and relation type (ordinal comparison throughout), so every device writes the same bytes for the same graph.
    /// </summary>
    public KnowledgeGraph Canonical() => new(
        Entities.OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => e with { Observations = e.Observations.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray() })
            .ToArray(),
        Relations.Distinct().OrderBy(r => r.From, StringComparer.Ordinal).ThenBy(r => r.To, StringComparer.Ordinal)
            .ThenBy(r => r.RelationType, StringComparer.Ordinal).ToArray());
}

/// <summary>An entity: its name (unique in the graph), its type, and the observations recorded about it.</summary>
/// <param name="Name">The entity's name, which identifies it.</param>
/// <param name="EntityType">Its type (for example "person").</param>
/// <param name="Observations">What is known about it, one fact per string.</param>
public sealed record GraphEntity(string Name, string EntityType, IReadOnlyList<string> Observations)
{
    /// <summary>What <see cref="object.ToString"/> shows: the name, type and the number of observations, never their text.</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Name = ").Append(Name).Append(", EntityType = ").Append(EntityType)
            .Append(", Observations = (").Append(Observations.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(", not shown)");
        return true;
    }
}

/// <summary>A directed relation between two entity names, in active voice ("Alice" "works_at" "Acme").</summary>
/// <param name="From">The name of the entity it starts at.</param>
/// <param name="To">The name of the entity it ends at (the reference server does not require that entity to exist).</param>
/// <param name="RelationType">The kind of relation.</param>
public sealed record GraphRelation(string From, string To, string RelationType);
