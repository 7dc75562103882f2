using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

public sealed partial class MemorySyncManager
{
    /// <summary>
    /// Lists the heads of all devices (one listing), downloads only heads whose name changed since last time, and
    /// applies the packs they list that this device has not ingested yet. A device whose head or packs cannot be
    /// read is reported and skipped; the others still sync.
    /// </summary>
    private async Task<(int Applied, int NewConflicts)> PullCoreAsync(Dictionary<string, List<string>> heads, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        int applied = 0, newConflicts = 0;
        foreach ((string prefix, List<string> names) in heads.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            if (prefix == _prefix)
            {
                continue;
            }

            if (!_state.Devices.TryGetValue(prefix, out RemoteDeviceState? device))
            {
                device = new RemoteDeviceState();
                _state.Devices[prefix] = device;
            }

            if (names.All(n => n == device.Head || device.Leftovers.Contains(n)))
            {
                continue; // nothing new from this device (leftover older heads were read once): no download at all
            }

            try
            {
                (int n, int c) = await PullDeviceAsync(device, names, progress, cancellationToken).ConfigureAwait(false);
                applied += n;
                newConflicts += c;
            }
            catch (Exception ex) when (ex is GhostieSyncException or InvalidDataException)
            {
                // One unreadable device (tampered, still syncing, locked by another program) never stops the others.
                // (Not IOException: the repository's read failures arrive as GhostieSyncException; a raw one is this
                // device's own disk, which stops the whole pull as a local error, see LocalFailure.)
                string who = device.DeviceId.Length > 0 ? $"device '{device.DeviceId}'" : $"device prefix {prefix}";
                GhostieErrorCode code = ex is GhostieSyncException g ? g.Code : GhostieErrorCode.IntegrityFailure;
                Problem(code, who, $"Could not pull from {who}: {ex.Message}");
            }
            catch (OperationCanceledException)
            {
                SaveState(); // what was applied is on disk: keep it
                throw;
            }

            // Checkpoint after each device: a crash never repeats finished work. Not after a local write failure: the
            // version that could not be written is in the state in memory only, which the failed run discards, so the
            // next pull applies it again instead of believing its file was written.
            SaveState();
        }

        return (applied, newConflicts);
    }

    private async Task<(int Applied, int NewConflicts)> PullDeviceAsync(RemoteDeviceState device, List<string> names, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        HeadDocument? best = null;
        string? bestName = null;
        foreach (string name in names.Where(n => n != device.Head))
        {
            HeadDocument? head = await ReadHeadAsync(name, cancellationToken).ConfigureAwait(false);
            if (head is not null && (best is null || head.Seq > best.Seq))
            {
                (best, bestName) = (head, name);
            }
        }

        if (best is null || bestName is null)
        {
            return (0, 0);
        }

        if (best.Seq < device.Seq && device.Head is not null && names.Contains(device.Head))
        {
            // An older head the device has not deleted yet (it crashed, or a synced folder lags): not a rollback.
            // Remembered, so it is not downloaded again.
            device.Leftovers.UnionWith(names.Where(n => n != device.Head));
            return (0, 0);
        }

        if (best.Seq < device.Seq)
        {
            throw new GhostieSyncException(GhostieErrorCode.Rollback,
                $"its head '{bestName}' has sequence {best.Seq}, older than sequence {device.Seq} already seen: the storage served an older state (rollback). Nothing from it was applied; check the storage and restore the newer head.");
        }

        if (best.Seq == device.Seq && device.Head is not null)
        {
            return (0, 0); // the same head under another name: nothing new
        }

        device.DeviceId = best.DeviceId;
        device.DeviceName = best.DeviceName;
        int applied = 0, newConflicts = 0;
        long total = best.Packs.Where(p => !device.Ingested.Contains(p.Name)).Sum(p => (long)p.Entries);
        long done = 0;
        foreach (PackRef pack in best.Packs)
        {
            if (device.Ingested.Contains(pack.Name))
            {
                continue;
            }

            await foreach (PackEntry entry in ReadPackAsync(pack, cancellationToken).ConfigureAwait(false))
            {
                if (entry.Origin.Length == 0)
                {
                    continue;
                }

                int conflicts = ApplyVersion(entry, local: false, writeFiles: true);
                newConflicts += conflicts;
                applied++;
                if (++done % 500 == 0)
                {
                    progress?.Report(new SyncProgress("download", done, total));
                }
            }

            device.Ingested.Add(pack.Name);
        }

        progress?.Report(new SyncProgress("download", done, total));
        device.Ingested.IntersectWith(best.Packs.Select(p => p.Name));
        device.Leftovers.Clear();
        device.Head = bestName;
        device.Seq = best.Seq;
        device.AcksOfUs = best.Acks.GetValueOrDefault(_prefix);
        device.AwaitsAckOf = best.Retired.Count > 0 ? best.Retired.Max(r => r.RetiredAtSeq) : 0;
        device.LastSeen = best.WrittenAt;
        Clock = Hlc.Observe(Clock, new Hlc(best.HlcWallMs, best.HlcCounter));
        SyncLog.Pulled(_logger, applied, best.DeviceId, best.Seq);
        return (applied, newConflicts);
    }
}
