using Ghostie.Sync.KnowledgeGraph.Internal;

namespace Ghostie.Sync.KnowledgeGraph;

public sealed partial class KnowledgeGraphSync
{
    /// <summary>The graph's elements: each entity (name and type), each observation, each relation.</summary>
    private static IEnumerable<GraphElement> Elements(KnowledgeGraph graph)
    {
        foreach (GraphEntity entity in graph.Entities)
        {
            yield return GraphElement.Entity(entity.Name, entity.EntityType);
            foreach (string observation in entity.Observations)
            {
                yield return GraphElement.Observation(entity.Name, observation);
            }
        }

        foreach (GraphRelation relation in graph.Relations)
        {
            yield return GraphElement.Relation(relation);
        }
    }

    /// <summary>
    /// What changed in <paramref name="file"/> since <paramref name="snapshot"/>: elements added (an entity with a new
    /// type is an addition of the same record id, so its record gets a new version) and, when allowed, elements deleted.
    /// </summary>
    private static (List<GraphElement> Additions, List<GraphElement> Deletions) Changes(KnowledgeGraph file, KnowledgeGraph snapshot, bool inferDeletions)
    {
        var now = Elements(file).ToHashSet();
        var before = Elements(snapshot).ToHashSet();
        var additions = now.Where(e => !before.Contains(e)).ToList();
        var addedIds = additions.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        List<GraphElement> deletions = inferDeletions ? before.Where(e => !now.Contains(e) && !addedIds.Contains(e.Id)).ToList() : [];
        return (additions, deletions);
    }

    /// <summary>Writes the changes as memory files (the memory sync commits them as versions and tombstones).</summary>
    private (int Added, int Deleted) ApplyLocalChanges((List<GraphElement> Additions, List<GraphElement> Deletions) changes, ProblemList problems)
    {
        int added = 0, deleted = 0;
        foreach (GraphElement element in changes.Additions)
        {
            if (!TryGetRecord(element.Id, problems, out MemoryRecord? existing))
            {
                continue;
            }

            if (existing is not null && existing.Category == GraphRecords.Category && GraphRecords.FromRecord(existing, out _) == element)
            {
                continue; // already recorded (the same addition on another device, or an earlier round)
            }

            _manager.Memories.Save(GraphRecords.ToRecord(element));
            added++;
        }

        foreach (GraphElement element in changes.Deletions)
        {
            if (TryGetRecord(element.Id, problems, out MemoryRecord? existing) && existing is not null && _manager.Memories.Delete(element.Id))
            {
                deleted++;
            }
        }

        return (added, deleted);
    }

    /// <summary>The element's memory file, or false when it is malformed (never overwritten or deleted; the memory sync reports it too).</summary>
    private bool TryGetRecord(string id, ProblemList problems, out MemoryRecord? record)
    {
        try
        {
            record = _manager.Memories.Get(id);
            return true;
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.MalformedLocalFile)
        {
            problems.Add(GhostieErrorCode.MalformedLocalFile, _manager.Home.MemoryPath(id),
                $"{_manager.Home.MemoryPath(id)} holds a graph element but is not a valid memory; the change of that element in {_path} was not recorded, and the memory file was left untouched. Fix or remove it, then run graph sync again.");
            record = null;
            return false;
        }
    }

    /// <summary>The graph the home's records hold: what every device added and did not delete.</summary>
    private (KnowledgeGraph Graph, List<HiddenObservations> Hidden) BuildFromRecords(ProblemList problems)
    {
        var entities = new Dictionary<string, string>(StringComparer.Ordinal);
        var observations = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var relations = new List<GraphRelation>();
        foreach (LocalMemoryFile file in _manager.Memories.Scan())
        {
            if (file.Record is not { Category: GraphRecords.Category } record)
            {
                continue; // other memories, and malformed files (which the memory sync reports)
            }

            if (GraphRecords.FromRecord(record, out string? problem) is not { } element)
            {
                problems.Add(GhostieErrorCode.MalformedLocalFile, file.Path,
                    $"{file.Path} is in the category '{GraphRecords.Category}' but is not a graph element ({problem}); it was left out of {_path} and left untouched.");
                continue;
            }

            switch (element.Kind)
            {
                case ElementKind.Entity:
                    entities[element.A] = element.B;
                    break;
                case ElementKind.Observation:
                    (observations.TryGetValue(element.A, out List<string>? list) ? list : observations[element.A] = []).Add(element.B);
                    break;
                default:
                    relations.Add(new GraphRelation(element.A, element.C, element.B));
                    break;
            }
        }

        var graph = new KnowledgeGraph(
            entities.Select(e => new GraphEntity(e.Key, e.Value, observations.GetValueOrDefault(e.Key) ?? [])).ToArray(),
            relations.ToArray()).Canonical();
        List<HiddenObservations> hidden = observations.Where(o => !entities.ContainsKey(o.Key))
            .OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => new HiddenObservations(o.Key, o.Value.Count)).ToList();
        return (graph, hidden);
    }

    /// <summary>
    /// An observation or relation is identified by its content, so its only possible conflict is one device deleting
    /// it while another added it again: the addition is kept (additions from every device are kept), resolved as a new
    /// version that supersedes both, the same on every device that resolves it.
    /// </summary>
    private async Task<int> ResolveAdditionConflictsAsync(CancellationToken cancellationToken)
    {
        int resolved = 0;
        foreach (ConflictInfo conflict in _manager.ListConflicts())
        {
            if (!conflict.Id.StartsWith(GraphRecords.ObservationPrefix, StringComparison.Ordinal) && !conflict.Id.StartsWith(GraphRecords.RelationPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            MemoryRecord? addition = new[] { conflict.Current }.Concat(conflict.Others).FirstOrDefault(v => !v.Deleted && v.Record is { Category: GraphRecords.Category })?.Record;
            if (addition is null || GraphRecords.FromRecord(addition, out _) is null)
            {
                continue;
            }

            await _manager.ResolveConflictAsync(conflict.Id, ConflictChoice.Merged, addition with { SyncMetadata = null }, cancellationToken).ConfigureAwait(false);
            GraphLog.AdditionKept(_logger, conflict.Id);
            resolved++;
        }

        return resolved;
    }

    /// <summary>The entities in conflict (their type changed differently on two devices, or changed on one and deleted on another).</summary>
    private List<GraphEntityConflict> Conflicts()
    {
        var result = new List<GraphEntityConflict>();
        foreach (ConflictInfo conflict in _manager.ListConflicts())
        {
            if (!conflict.Id.StartsWith(GraphRecords.EntityPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var versions = new List<GraphConflictVersion>();
            string? name = null;
            foreach (ConflictVersionInfo version in new[] { conflict.Current }.Concat(conflict.Others))
            {
                GraphElement? element = version is { Deleted: false, Record: { } record } ? GraphRecords.FromRecord(record, out _) : null;
                name ??= element?.A;
                versions.Add(new GraphConflictVersion(version.DeviceId, version.Deleted ? null : element?.B));
            }

            if (name is not null)
            {
                result.Add(new GraphEntityConflict(name, conflict.Id, versions));
            }
        }

        return result;
    }
}
