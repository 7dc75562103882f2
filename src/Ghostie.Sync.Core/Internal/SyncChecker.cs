namespace Ghostie.Sync.Internal;

/// <summary>
/// Whether a push or pull has anything to do, without doing it (see <see cref="MemorySyncManager.CheckAsync"/>), and
/// the status view from local state.
/// </summary>
internal sealed class SyncChecker
{
    private readonly SyncContext _sync;
    private readonly RepositoryObjects _objects;
    private readonly LocalChanges _changes;

    public SyncChecker(SyncContext sync, RepositoryObjects objects, LocalChanges changes) => (_sync, _objects, _changes) = (sync, objects, changes);

    private SyncStateDocument State => _sync.State;

    public SyncStatus Status()
    {
        // Not yet in the repository: memories with a version in the outbox, and memory files changed since sync
        // last saw them (a 'memory add' a moment ago, an edit, a deletion), which the next sync commits.
        var pending = _sync.Outbox.Read(State.OutboxPushed).Select(l => l.Entry.Id).ToHashSet(StringComparer.Ordinal);
        pending.UnionWith(_changes.Uncommitted());
        int local = _changes.PresentCount; // the memory files of the same listing
        var devices = new List<DeviceInfo> { new(_sync.DeviceId, _sync.DeviceName, true, State.LastPush) };
        devices.AddRange(State.Devices.Values.Where(d => d.DeviceId.Length > 0)
            .OrderBy(d => d.DeviceId, StringComparer.Ordinal)
            .Select(d => new DeviceInfo(d.DeviceId, d.DeviceName, false, d.LastSeen)));
        return new SyncStatus
        {
            Backend = _sync.Backend.DisplayName,
            DeviceId = _sync.DeviceId,
            RepositoryId = _sync.Keys.RepositoryId,
            LastSync = State.LastSync,
            LocalCount = local,
            CloudCount = State.Records.Values.Count(r => r.InRepository),
            PendingPush = pending.Count,
            ConflictCount = State.Records.Values.Count(r => r.IsConflicted),
            KnownDevices = devices,
        };
    }

    public async Task<SyncCheck> CheckAsync(SyncCheckScope scope, CancellationToken cancellationToken)
    {
        _sync.Reads = 0;
        (HashSet<string> pending, long uploadBytes) = LocalPending();
        if (scope == SyncCheckScope.Local)
        {
            return new SyncCheck { PendingChanges = pending.Count, UploadBytes = uploadBytes };
        }

        Dictionary<string, List<string>> heads = await _objects.ListHeadsAsync(RepositoryLayout.HeadPrefix, cancellationToken).ConfigureAwait(false);
        List<string> own = heads.GetValueOrDefault(_sync.Prefix) ?? [];

        // This device's own head gone (a push writes it again) or a head of its own it has not adopted (a push
        // that crashed after its head landed, or a restored state): a sync is needed even with nothing new.
        bool ownChanged = State.OwnHead is null ? own.Count > 0 : !own.Contains(State.OwnHead);
        int changed = 0;
        long downloadBytes = 0;
        foreach ((string prefix, List<string> names) in heads)
        {
            RemoteDeviceState? device = State.Devices.GetValueOrDefault(prefix);
            if (prefix == _sync.Prefix || PullApply.NothingNew(State, prefix, device, names))
            {
                continue; // the same test as the pull's: nothing new from this device
            }

            changed++;
            if (scope == SyncCheckScope.Estimate)
            {
                downloadBytes += await EstimateDownloadAsync(device, names, cancellationToken).ConfigureAwait(false);
            }
        }

        return new SyncCheck
        {
            RemoteChanged = changed > 0 || ownChanged,
            ChangedDevices = changed,
            DownloadBytes = scope == SyncCheckScope.Estimate ? downloadBytes : null,
            PendingChanges = pending.Count,
            UploadBytes = uploadBytes,
            ObjectsRead = _sync.Reads,
        };
    }

    /// <summary>Outbox versions not pushed, plus memory files changed since sync last saw them (as status counts).</summary>
    private (HashSet<string> Pending, long UploadBytes) LocalPending()
    {
        List<OutboxLine> outbox = _sync.Outbox.Read(State.OutboxPushed);
        var pending = outbox.Select(l => l.Entry.Id).ToHashSet(StringComparer.Ordinal);
        long uploadBytes = outbox.Sum(l => (long)(l.EntryJson?.Length ?? l.Entry.ToJson().Length));
        foreach (string id in _changes.Uncommitted())
        {
            if (pending.Add(id))
            {
                var file = new FileInfo(_sync.Home.MemoryPath(id));
                uploadBytes += file.Exists ? file.Length : 0;
            }
        }

        return (pending, uploadBytes);
    }

    /// <summary>The bytes of the packs a pull would download from one device: those its newest head lists that this
    /// device has not applied (as the head states their sizes). A head that cannot be read counts as nothing: the pull
    /// reports it.</summary>
    private async Task<long> EstimateDownloadAsync(RemoteDeviceState? device, List<string> names, CancellationToken cancellationToken)
    {
        HeadDocument? best = null;
        foreach (string name in names.Where(n => n != device?.Head))
        {
            try
            {
                HeadDocument? head = await _objects.ReadHeadAsync(name, cancellationToken).ConfigureAwait(false);
                if (head is not null && (best is null || head.Seq > best.Seq))
                {
                    best = head;
                }
            }
            catch (Exception ex) when (ex is GhostieSyncException or InvalidDataException)
            {
                // unreadable: the pull skips and reports this device, so it downloads nothing from it either
            }
        }

        if (best is null || (device is not null && best.Seq <= device.Seq))
        {
            return 0;
        }

        return best.Packs.Where(p => device is null || !device.Ingested.Contains(p.Name)).Sum(p => p.Bytes);
    }
}
