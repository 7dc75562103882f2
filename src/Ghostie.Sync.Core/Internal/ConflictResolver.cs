using System.Text.Json;

namespace Ghostie.Sync.Internal;

/// <summary>
/// The memories with concurrent versions (<c>sync/conflicts/</c>) and their resolution: a new local version that
/// includes every concurrent one, so every device converges on the choice once it syncs (docs/sync-protocol.md,
/// "Versions and causality").
/// </summary>
internal sealed class ConflictResolver
{
    private readonly SyncContext _sync;
    private readonly VersionApplier _applier;
    private readonly LocalChanges _changes;

    public ConflictResolver(SyncContext sync, VersionApplier applier, LocalChanges changes) => (_sync, _applier, _changes) = (sync, applier, changes);

    private GhostieHome Home => _sync.Home;

    public List<ConflictInfo> List()
    {
        var result = new List<ConflictInfo>();
        foreach ((string id, RecordState record) in _sync.State.Records.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (record.IsConflicted && Get(id) is { } conflict)
            {
                result.Add(conflict);
            }
        }

        return result;
    }

    public ConflictInfo? Get(string id)
    {
        ConflictDocument? document = _applier.ReadConflict(id);
        if (document is null || !_sync.State.Records.TryGetValue(id, out RecordState? record) || !record.IsConflicted)
        {
            return null;
        }

        static ConflictVersionInfo Convert(ConflictVersion v) => new(v.DeviceId, v.LastModified, v.Deleted, v.Record);
        return new ConflictInfo(id, Convert(document.Winner), document.Losers.Select(Convert).ToArray(), document.DetectedAt);
    }

    /// <summary>Resolves the conflict of <paramref name="id"/> (local changes must be committed first); see
    /// <see cref="MemorySyncManager.ResolveConflictAsync"/>.</summary>
    public IReadOnlyList<string> Resolve(string id, ConflictChoice choice, MemoryRecord? merged)
    {
        string memoryPath = Home.MemoryPath(id);
        if (File.Exists(memoryPath) && LocalMemoryStore.Read(memoryPath).Record is null)
        {
            throw new GhostieSyncException(GhostieErrorCode.MalformedLocalFile,
                $"{memoryPath} is not a valid memory; fix or remove it before resolving the conflict (it is never overwritten).");
        }

        ConflictDocument document = (_sync.State.Records.TryGetValue(id, out RecordState? record) && record.IsConflicted ? _applier.ReadConflict(id) : null)
            ?? throw new GhostieSyncException(GhostieErrorCode.NotFound, $"Memory '{id}' has no conflict to resolve. List conflicts to see which ones do.");
        ConflictVersion keep = Chosen(id, choice, document);
        MemoryRecord? content = ContentToKeep(id, choice, keep, merged);

        // The resolution includes every concurrent version, so it supersedes all of them everywhere.
        VersionVector includesAll = record!.Versions.Aggregate(VersionVector.Empty, (vv, v) => vv.Merge(v.Vector));
        var kept = new List<string> { id };
        var entries = new List<PackEntry>();
        if (keep.Deleted && choice != ConflictChoice.Merged)
        {
            kept.Clear(); // the memory is deleted, not kept
            File.Delete(memoryPath);
            _sync.PendingStamps[id] = (FileStat.Missing, default);
            entries.Add(_changes.NewLocalEntry(id, includesAll, deleted: true, "deleted", null));
        }
        else
        {
            MemoryRecord clean = content! with { SyncMetadata = null };
            entries.Add(_changes.NewLocalEntry(id, includesAll, deleted: false, LocalMemoryStore.ContentHash(clean), clean));
            _sync.PendingStamps[id] = WriteLocalFile(clean, entries[^1]);
        }

        if (choice == ConflictChoice.KeepBoth)
        {
            kept.AddRange(CopyLosers(document, entries));
        }

        _sync.AppendToOutbox(entries);
        foreach (PackEntry entry in entries)
        {
            _applier.Apply(entry, local: true, writeFiles: true);
        }

        _sync.PendingStamps.Clear();
        _sync.SaveState();
        return kept;
    }

    private ConflictVersion Chosen(string id, ConflictChoice choice, ConflictDocument document)
    {
        var all = new List<ConflictVersion> { document.Winner };
        all.AddRange(document.Losers);
        string deviceId = _sync.DeviceId;
        return choice switch
        {
            ConflictChoice.KeepMine => all.FirstOrDefault(v => v.DeviceId == deviceId)
                ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"This device ('{deviceId}') wrote none of the versions of memory '{id}' (they come from {string.Join(", ", all.Select(v => $"'{v.DeviceId}'").Distinct(StringComparer.Ordinal))}), so there is no version of its own to keep. Use KeepTheirs (the newest other version), KeepBoth, or Merged; nothing was changed."),
            ConflictChoice.KeepTheirs => all.FirstOrDefault(v => v.DeviceId != deviceId)
                ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"Every version of memory '{id}' comes from this device; use keep-mine."),
            _ => document.Winner,
        };
    }

    private static MemoryRecord? ContentToKeep(string id, ConflictChoice choice, ConflictVersion keep, MemoryRecord? merged)
    {
        if (choice == ConflictChoice.Merged)
        {
            MemoryRecord content = merged ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "A merged resolution needs the merged record.");
            if (content.Id != id)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"The merged record's id '{content.Id}' must be the conflicted memory's id '{id}'.");
            }

            return content;
        }

        if (keep.Record is null && !keep.Deleted)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotFound, $"The content of the chosen version of memory '{id}' is not available on this device; pull again, then resolve.");
        }

        return keep.Record;
    }

    /// <summary>KeepBoth: every other version with content becomes a new memory; returns their ids.</summary>
    private List<string> CopyLosers(ConflictDocument document, List<PackEntry> entries)
    {
        var copies = new List<string>();
        foreach (ConflictVersion other in document.Losers.Where(l => !l.Deleted && l.Record is not null))
        {
            string copyId = Guid.CreateVersion7(_sync.Now).ToString("N");
            MemoryRecord copy = other.Record! with { Id = copyId, SyncMetadata = null };
            entries.Add(_changes.NewLocalEntry(copyId, VersionVector.Empty, deleted: false, LocalMemoryStore.ContentHash(copy), copy));
            _sync.PendingStamps[copyId] = WriteLocalFile(copy, entries[^1]);
            copies.Add(copyId);
        }

        return copies;
    }

    private (FileStat Stat, DateTime SeenAt) WriteLocalFile(MemoryRecord content, PackEntry version)
    {
        string path = Home.MemoryPath(content.Id);
        MemoryRecord rendered = content with
        {
            SyncMetadata = new SyncMetadata
            {
                LastModified = DateTimeOffset.FromUnixTimeMilliseconds(version.WallMs),

                // Written before the outbox: without its sync_hash, a file left by a crash in between is committed as
                // an ordinary local edit by the next sync, never mistaken for sync's own unedited output.
                SyncHash = "",
                Version = VersionVector.From(version.VersionVector).Sum,
            },
        };
        _sync.WriteLocal(path, JsonSerializer.SerializeToUtf8Bytes(rendered, IndentedJson.Readable.MemoryRecord));
        return (FileStat.Of(path), DateTime.UtcNow);
    }
}
