namespace Ghostie.Sync.Internal;

/// <summary>
/// Gives a home a new device id (see <see cref="MemorySyncManager.RenameDeviceAsync"/>): the versions it committed and
/// never pushed are made again under the new id, on top of what the repository holds; nothing is written to the
/// repository.
/// </summary>
internal sealed class DeviceRename
{
    private readonly SyncContext _sync;
    private readonly VersionApplier _applier;
    private readonly LocalChanges _changes;

    public DeviceRename(SyncContext sync, VersionApplier applier, LocalChanges changes) => (_sync, _applier, _changes) = (sync, applier, changes);

    private SyncStateDocument State => _sync.State;

    public async Task RenameAsync(string newDeviceId, string? newDeviceName, CancellationToken cancellationToken)
    {
        string newPrefix = SyncContext.PrefixOf(_sync.Keys, newDeviceId);
        if (await DeviceIdGuard.AnyObjectUnderAsync(_sync.Backend, newPrefix, cancellationToken).ConfigureAwait(false))
        {
            throw new GhostieSyncException(GhostieErrorCode.DeviceIdInUse,
                $"Device id '{newDeviceId}' is already used in {_sync.Backend.DisplayName} by another installation. Choose another one; nothing was changed.");
        }

        _changes.Commit(null, save: false); // every local change is an outbox version first
        List<(PackEntry Newest, VersionVector Baseline)> remint = UnpushedVersions();
        if (State.Removed.ContainsKey(_sync.Prefix))
        {
            remint.AddRange(PushedSinceRemoval(remint));
        }
        SwitchIdentity(newDeviceId, newDeviceName ?? newDeviceId, newPrefix);
        List<PackEntry> entries = Remint(remint);
        _sync.SaveState();
        if (_sync.Home.IsConfigured)
        {
            SyncConfiguration configuration = _sync.Home.ReadConfiguration();
            (configuration.DeviceId, configuration.DeviceName) = (_sync.DeviceId, _sync.DeviceName);
            _sync.Home.WriteConfiguration(configuration);
        }

        SyncLog.Renamed(_sync.Logger, entries.Count);
    }

    /// <summary>
    /// Per memory, the newest version committed here and never pushed, and what it was made on top of among the
    /// versions the repository holds; the record is reset to those (the unpushed versions under the old id are
    /// dropped: never seen elsewhere).
    /// </summary>
    private List<(PackEntry Newest, VersionVector Baseline)> UnpushedVersions()
    {
        var newest = new Dictionary<string, PackEntry>(StringComparer.Ordinal);
        foreach (OutboxLine line in _sync.Outbox.Read(State.OutboxPushed))
        {
            newest[line.Entry.Id] = line.Entry;
        }

        var remint = new List<(PackEntry Newest, VersionVector Baseline)>();
        foreach ((string id, PackEntry entry) in newest)
        {
            RecordState record = State.Records[id];
            List<VersionInfo> confirmed = record.Confirmed ?? record.Versions.Where(v => v.Origin != _sync.DeviceId).ToList();
            VersionVector baseline = confirmed.Where(v => Vectors.Includes(entry.VersionVector, v.VersionVector))
                .Aggregate(VersionVector.Empty, (vv, v) => vv.Merge(v.Vector));
            (record.Versions, record.Confirmed) = (confirmed, null);
            remint.Add((entry, baseline));
        }

        return remint;
    }

    /// <summary>
    /// For a home that was removed from the repository: the memories whose winner is a version of this device, made
    /// again under the new id. Other devices ignore what it pushed after its removal (and it cannot tell which versions
    /// those were), so each is made again on top of itself: where others hold it already, the new version has the same
    /// content and simply supersedes it; where they do not, it reaches them.
    /// </summary>
    private IEnumerable<(PackEntry Newest, VersionVector Baseline)> PushedSinceRemoval(List<(PackEntry Newest, VersionVector Baseline)> unpushed)
    {
        var done = new HashSet<string>(unpushed.Select(u => u.Newest.Id), StringComparer.Ordinal);
        foreach ((string id, RecordState record) in State.Records)
        {
            if (done.Contains(id) || record.Versions.Count == 0 || record.Winner.Origin != _sync.DeviceId)
            {
                continue;
            }

            VersionInfo winner = record.Winner;
            MemoryRecord? content = null;
            if (!winner.Deleted)
            {
                content = LocalMemoryStore.Read(_sync.Home.MemoryPath(id)).Record is { } file ? file with { SyncMetadata = null } : null;
                if (content is null || LocalMemoryStore.ContentHash(content) != winner.Hash)
                {
                    continue; // the file was edited since: the commit above made that edit a version of its own
                }
            }

            var entry = new PackEntry { Id = id, VersionVector = winner.VersionVector, WallMs = winner.WallMs, Counter = winner.Counter, Origin = winner.Origin, Deleted = winner.Deleted, Hash = winner.Hash, Record = content };
            yield return (entry, winner.Vector);
        }
    }

    private void SwitchIdentity(string newDeviceId, string newDeviceName, string newPrefix)
    {
        _sync.DeviceId = newDeviceId;
        _sync.DeviceName = newDeviceName;
        _sync.Prefix = newPrefix;
        State.DeviceId = newDeviceId;
        State.DevicePrefix = newPrefix;
        State.Installation = SyncStateStore.NewInstallationId();
        (State.OwnSeq, State.OwnHead, State.OwnPacks, State.Retired, State.PushedAcks) = (0, null, [], [], new(StringComparer.Ordinal));
        // The new prefix holds nothing (checked above). Checked, so that a head appearing under this home's prefix
        // from another installation stops it, whichever id it runs under: also after a crash before the
        // configuration is rewritten (the home, opened as the old id, is then refused, not merged into the old id's
        // history, and the rename is run again).
        State.OwnLogChecked = true;
    }

    /// <summary>The unpushed versions made again under the new id, replacing the outbox.</summary>
    private List<PackEntry> Remint(List<(PackEntry Newest, VersionVector Baseline)> remint)
    {
        var entries = new List<PackEntry>();
        foreach ((PackEntry entry, VersionVector baseline) in remint)
        {
            entries.Add(_changes.NewLocalEntry(entry.Id, baseline, entry.Deleted, entry.Hash, entry.Record));
            _sync.PendingStamps[entry.Id] = (FileStat.Of(_sync.Home.MemoryPath(entry.Id)), DateTime.UtcNow); // the file shows it already
        }

        _sync.Outbox.Rewrite([]);
        if (entries.Count > 0)
        {
            _sync.AppendToOutbox(entries);
            foreach (PackEntry entry in entries)
            {
                _applier.Apply(entry, local: true, writeFiles: true);
            }
        }

        _sync.PendingStamps.Clear();
        return entries;
    }
}
