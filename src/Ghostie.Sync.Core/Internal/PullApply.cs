namespace Ghostie.Sync.Internal;

/// <summary>
/// A pull (docs/sync-protocol.md, "Pull"): from one listing of every device's heads, downloads only heads whose name
/// changed since last time, and applies the packs they list that this device has not ingested yet. A device whose
/// head or packs cannot be read is reported and skipped; the others still sync. The state is saved after each device.
/// </summary>
internal sealed class PullApply
{
    private readonly SyncContext _sync;
    private readonly RepositoryObjects _objects;
    private readonly VersionApplier _applier;

    public PullApply(SyncContext sync, RepositoryObjects objects, VersionApplier applier) => (_sync, _objects, _applier) = (sync, objects, applier);

    private SyncStateDocument State => _sync.State;

    /// <summary>Whether the listing shows nothing new from a device: its applied head is there, and every other name
    /// is a leftover older head read once. (Without the applied head, the leftovers are read again: the storage went
    /// back, a rollback.)</summary>
    public static bool NothingNew(RemoteDeviceState? device, List<string> names) =>
        device?.Head is not null && names.Contains(device.Head) && names.All(n => n == device.Head || device.Leftovers.Contains(n));

    public async Task<(int Applied, int NewConflicts)> PullAsync(Dictionary<string, List<string>> heads, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        int applied = 0, newConflicts = 0;
        foreach ((string prefix, List<string> names) in heads.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            if (prefix == _sync.Prefix)
            {
                continue;
            }

            if (!State.Devices.TryGetValue(prefix, out RemoteDeviceState? device))
            {
                device = new RemoteDeviceState();
                State.Devices[prefix] = device;
            }

            if (NothingNew(device, names) || (State.Removed.ContainsKey(prefix) && names.All(n => n == device.Head || device.Leftovers.Contains(n))))
            {
                continue; // no download at all (a removed device's heads written after its removal are read once)
            }

            (int n, int c) = await PullOrReportAsync(prefix, device, names, progress, cancellationToken).ConfigureAwait(false);
            applied += n;
            newConflicts += c;

            // Checkpoint after each device: a crash never repeats finished work. Not after a local write failure: the
            // version that could not be written is in the state in memory only, which the failed run discards, so the
            // next pull applies it again instead of believing its file was written.
            _sync.SaveState();
        }

        new MissingHistories(_sync).Report(heads);
        return (applied, newConflicts);
    }

    private async Task<(int Applied, int NewConflicts)> PullOrReportAsync(string prefix, RemoteDeviceState device, List<string> names, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            return await PullDeviceAsync(device, names, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is GhostieSyncException or InvalidDataException)
        {
            // One unreadable device (tampered, still syncing, locked by another program) never stops the others.
            // (Not IOException: the repository's read failures arrive as GhostieSyncException; a raw one is this
            // device's own disk, which stops the whole pull as a local error, see SyncEngine.LocalFailure.)
            string who = device.DeviceId.Length > 0 ? $"device '{device.DeviceId}'" : $"device prefix {prefix}";
            GhostieErrorCode code = ex is GhostieSyncException g ? g.Code : GhostieErrorCode.IntegrityFailure;
            _sync.Problem(code, who, $"Could not pull from {who}: {ex.Message}");
            return (0, 0);
        }
        catch (OperationCanceledException)
        {
            _sync.SaveState(); // what was applied is on disk: keep it
            throw;
        }
    }

    private async Task<(int Applied, int NewConflicts)> PullDeviceAsync(RemoteDeviceState device, List<string> names, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        (HeadDocument? best, string? bestName) = await _objects.ReadNewestHeadAsync(names, device.Head, cancellationToken).ConfigureAwait(false);
        if (best is null || bestName is null || !IsNewer(device, names, best, bestName))
        {
            return (0, 0);
        }

        if (State.Removed.TryGetValue(_sync.PrefixOf(best.DeviceId), out RemovedDevice? removed) && best.Seq > removed.Seq)
        {
            // A removed device that wrote again (it was offline when it was removed, or its home was restored): what it
            // wrote since is not applied, so a device everyone gave up on cannot slip changes back in. Read once.
            device.Leftovers.UnionWith(names.Where(n => n != device.Head));
            _sync.Problem(GhostieErrorCode.DeviceRemoved, $"device '{best.DeviceId}'",
                $"Device '{best.DeviceId}' was removed from the repository by '{removed.RemovedBy}' at {removed.RemovedAt:u}, but has written again since (head '{bestName}', sequence {best.Seq}, after {removed.Seq}). Nothing it wrote after its removal was applied here. " +
                "That device must be given a new device id (ghostie sync rename-device) to sync again; its unpushed changes are kept there and come back under the new id.");
            return (0, 0);
        }

        device.DeviceId = best.DeviceId;
        device.DeviceName = best.DeviceName;
        (int applied, int newConflicts) = await ApplyPacksAsync(device, best, progress, cancellationToken).ConfigureAwait(false);
        RecordHead(device, best, bestName);
        SyncLog.Pulled(_sync.Logger, applied, best.DeviceId, best.Seq);
        return (applied, newConflicts);
    }

    /// <summary>Whether the newest head read is newer than the one applied; an older one is a leftover (remembered) or
    /// a rollback (an error).</summary>
    private static bool IsNewer(RemoteDeviceState device, List<string> names, HeadDocument best, string bestName)
    {
        if (best.Seq < device.Seq && device.Head is not null && names.Contains(device.Head))
        {
            // An older head the device has not deleted yet (it crashed, or a synced folder lags): not a rollback.
            // Remembered, so it is not downloaded again.
            device.Leftovers.UnionWith(names.Where(n => n != device.Head));
            return false;
        }

        if (best.Seq < device.Seq)
        {
            throw new GhostieSyncException(GhostieErrorCode.Rollback,
                $"its head '{bestName}' has sequence {best.Seq}, older than sequence {device.Seq} already seen: the storage served an older state (rollback). Nothing from it was applied; check the storage and restore the newer head.");
        }

        return !(best.Seq == device.Seq && device.Head is not null); // the same head under another name: nothing new
    }

    private async Task<(int Applied, int NewConflicts)> ApplyPacksAsync(RemoteDeviceState device, HeadDocument head, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        int applied = 0, newConflicts = 0;
        long total = head.Packs.Where(p => !device.Ingested.Contains(p.Name)).Sum(p => (long)p.Entries);
        long done = 0;
        foreach (PackRef pack in head.Packs)
        {
            if (device.Ingested.Contains(pack.Name))
            {
                continue;
            }

            await foreach (PackEntry entry in _objects.ReadPackAsync(pack, cancellationToken).ConfigureAwait(false))
            {
                if (entry.Origin.Length == 0)
                {
                    continue;
                }

                newConflicts += _applier.Apply(entry, local: false, writeFiles: true);
                applied++;
                if (++done % 500 == 0)
                {
                    progress?.Report(new SyncProgress("download", done, total));
                }
            }

            device.Ingested.Add(pack.Name);
        }

        progress?.Report(new SyncProgress("download", done, total));
        return (applied, newConflicts);
    }

    private void RecordHead(RemoteDeviceState device, HeadDocument head, string name)
    {
        device.Ingested.IntersectWith(head.Packs.Select(p => p.Name));
        device.Leftovers.Clear();
        device.Head = name;
        device.Seq = head.Seq;
        device.AcksOfUs = head.Acks.GetValueOrDefault(_sync.Prefix);
        device.Acks = new Dictionary<string, long>(head.Acks, StringComparer.Ordinal);
        device.AwaitsAckOf = head.Retired.Count > 0 ? head.Retired.Max(r => r.RetiredAtSeq) : 0;
        device.LastSeen = head.WrittenAt;
        foreach (RemovedDevice removal in head.Removed)
        {
            State.Removed.TryAdd(removal.Prefix, removal); // grow-only: the first record of a removal is kept
        }
        _sync.Clock = Hlc.Observe(_sync.Clock, new Hlc(head.HlcWallMs, head.HlcCounter));
    }
}
