using System.Text.Json;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

public sealed partial class MemorySyncManager
{
    private (long Ticks, long Size) WriteLocalFile(MemoryRecord content, PackEntry version)
    {
        string path = _home.MemoryPath(content.Id);
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
        WriteLocal(path, JsonSerializer.SerializeToUtf8Bytes(rendered, IndentedJson.Readable.MemoryRecord));
        var file = new FileInfo(path);
        return (file.LastWriteTimeUtc.Ticks, file.Length);
    }

    /// <summary>Lists the memories with concurrent versions awaiting resolution (from <c>sync/conflicts/</c>).</summary>
    public IReadOnlyList<ConflictInfo> ListConflicts()
    {
        _gate.Wait();
        try
        {
            ReloadStateIfChanged();
            return ListConflictsCore();
        }
        finally
        {
            _gate.Release();
        }
    }

    private List<ConflictInfo> ListConflictsCore()
    {
        var result = new List<ConflictInfo>();
        foreach ((string id, RecordState record) in _state.Records.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (record.IsConflicted && GetConflictCore(id) is { } conflict)
            {
                result.Add(conflict);
            }
        }

        return result;
    }

    /// <summary>One conflict, or null if the memory is not in conflict.</summary>
    /// <param name="id">The memory id.</param>
    public ConflictInfo? GetConflict(string id)
    {
        _gate.Wait();
        try
        {
            ReloadStateIfChanged();
            return GetConflictCore(id);
        }
        finally
        {
            _gate.Release();
        }
    }

    private ConflictInfo? GetConflictCore(string id)
    {
        ConflictDocument? document = ReadConflict(id);
        if (document is null || !_state.Records.TryGetValue(id, out RecordState? record) || !record.IsConflicted)
        {
            return null;
        }

        static ConflictVersionInfo Convert(ConflictVersion v) => new(v.DeviceId, v.LastModified, v.Deleted, v.Record);
        return new ConflictInfo(id, Convert(document.Winner), document.Losers.Select(Convert).ToArray(), document.DetectedAt);
    }

    /// <summary>
    /// Resolves a conflict with a new version that supersedes every concurrent one, so every device converges on the
    /// choice once it syncs. The choice is committed locally at once and uploaded by the next push.
    /// </summary>
    /// <param name="id">The memory id.</param>
    /// <param name="choice">Which version to keep.</param>
    /// <param name="merged">The record to keep when <paramref name="choice"/> is <see cref="ConflictChoice.Merged"/>.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The ids of the memories that now hold the kept content (several for <see cref="ConflictChoice.KeepBoth"/>).
    /// When the chosen version is a deletion, the memory is deleted and <paramref name="id"/> is not in the list (empty,
    /// or only the copies of <see cref="ConflictChoice.KeepBoth"/>).</returns>
    /// <exception cref="GhostieSyncException">No such conflict (<see cref="GhostieErrorCode.NotFound"/>), a bad merged
    /// record, or <see cref="ConflictChoice.KeepMine"/> on a device that wrote none of the versions
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>); <see cref="GhostieErrorCode.LocalStorageFailure"/> when the
    /// home cannot be written.</exception>
    public async Task<IReadOnlyList<string>> ResolveConflictAsync(string id, ConflictChoice choice, MemoryRecord? merged = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await ResolveConflictCoreAsync(id, choice, merged, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw LocalFailure("resolution", ex);
        }
    }

    private async Task<IReadOnlyList<string>> ResolveConflictCoreAsync(string id, ConflictChoice choice, MemoryRecord? merged, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using LocalLock _ = LocalLock.Acquire(_home);
            ReloadStateIfChanged();
            _problems = [];
            Dictionary<string, List<string>> heads = await ListHeadsAsync(OwnHeadPrefix, cancellationToken).ConfigureAwait(false);
            await CheckOwnHeadAsync(heads.GetValueOrDefault(_prefix) ?? [], cancellationToken).ConfigureAwait(false);
            int ignored = 0;
            CommitLocalChanges(null, ref ignored); // an unpushed local edit becomes a version first, never lost
            string memoryPath = _home.MemoryPath(id);
            if (File.Exists(memoryPath) && LocalMemoryStore.Read(memoryPath).Record is null)
            {
                throw new GhostieSyncException(GhostieErrorCode.MalformedLocalFile,
                    $"{memoryPath} is not a valid memory; fix or remove it before resolving the conflict (it is never overwritten).");
            }
            ConflictDocument document = (_state.Records.TryGetValue(id, out RecordState? record) && record.IsConflicted ? ReadConflict(id) : null)
                ?? throw new GhostieSyncException(GhostieErrorCode.NotFound, $"Memory '{id}' has no conflict to resolve. List conflicts to see which ones do.");
            var all = new List<ConflictVersion> { document.Winner };
            all.AddRange(document.Losers);

            ConflictVersion keep = choice switch
            {
                ConflictChoice.KeepMine => all.FirstOrDefault(v => v.DeviceId == DeviceId)
                    ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                        $"This device ('{DeviceId}') wrote none of the versions of memory '{id}' (they come from {string.Join(", ", all.Select(v => $"'{v.DeviceId}'").Distinct(StringComparer.Ordinal))}), so there is no version of its own to keep. Use KeepTheirs (the newest other version), KeepBoth, or Merged; nothing was changed."),
                ConflictChoice.KeepTheirs => all.FirstOrDefault(v => v.DeviceId != DeviceId)
                    ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"Every version of memory '{id}' comes from this device; use keep-mine."),
                _ => document.Winner,
            };

            MemoryRecord? content = keep.Record;
            if (choice == ConflictChoice.Merged)
            {
                content = merged ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "A merged resolution needs the merged record.");
                if (content.Id != id)
                {
                    throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"The merged record's id '{content.Id}' must be the conflicted memory's id '{id}'.");
                }
            }
            else if (content is null && !keep.Deleted)
            {
                throw new GhostieSyncException(GhostieErrorCode.NotFound, $"The content of the chosen version of memory '{id}' is not available on this device; pull again, then resolve.");
            }

            // The resolution includes every concurrent version, so it supersedes all of them everywhere.
            VersionVector includesAll = record!.Versions.Aggregate(VersionVector.Empty, (vv, v) => vv.Merge(v.Vector));
            var kept = new List<string> { id };
            var entries = new List<PackEntry>();
            if (keep.Deleted && choice != ConflictChoice.Merged)
            {
                kept.Clear(); // the memory is deleted, not kept
                File.Delete(_home.MemoryPath(id));
                _pendingStamps[id] = (0, -1);
                entries.Add(NewLocalEntry(id, includesAll, deleted: true, "deleted", null));
            }
            else
            {
                MemoryRecord clean = content! with { SyncMetadata = null };
                string hash = LocalMemoryStore.ContentHash(clean);
                entries.Add(NewLocalEntry(id, includesAll, deleted: false, hash, clean));
                _pendingStamps[id] = WriteLocalFile(clean, entries[^1]);
            }

            if (choice == ConflictChoice.KeepBoth)
            {
                foreach (ConflictVersion other in document.Losers.Where(l => !l.Deleted && l.Record is not null))
                {
                    string copyId = Guid.CreateVersion7(Now).ToString("N");
                    MemoryRecord copy = other.Record! with { Id = copyId, SyncMetadata = null };
                    entries.Add(NewLocalEntry(copyId, VersionVector.Empty, deleted: false, LocalMemoryStore.ContentHash(copy), copy));
                    _pendingStamps[copyId] = WriteLocalFile(copy, entries[^1]);
                    kept.Add(copyId);
                }
            }

            AppendOutbox(entries);
            foreach (PackEntry entry in entries)
            {
                ApplyVersion(entry, local: true, writeFiles: true);
            }

            _pendingStamps.Clear();
            SaveState();
            _succeeded = true;
            return kept;
        }
        finally
        {
            DiscardStateUnlessSucceeded();
            _gate.Release();
        }
    }
}
