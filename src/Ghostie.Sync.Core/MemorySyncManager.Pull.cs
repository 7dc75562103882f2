using System.Text;
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

            if (device.Head is not null && names.Contains(device.Head) && names.All(n => n == device.Head || device.Leftovers.Contains(n)))
            {
                // Nothing new from this device (leftover older heads were read once): no download at all. Without the
                // head applied last in the listing, the leftovers are read again: the storage went back (a rollback).
                continue;
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

        ReportMissingHistories(heads);
        return (applied, newConflicts);
    }

    /// <summary>
    /// A device's head never disappears legitimately: a push replaces it (the new one is written before the old one is
    /// deleted), compaction retires packs, never heads, and no operation removes a device. So a device that this one
    /// has applied a head of, that another device's head acknowledges, or whose edits a version vector includes, must
    /// have a head in the listing; if it has none, its history (every memory only it holds) can no longer reach any
    /// device that lacks it. Reported on every pull until the head is back, naming the device; nothing is deleted or
    /// forgotten because of it (the device stays known, so packs it has not acknowledged are not deleted either).
    /// </summary>
    private void ReportMissingHistories(Dictionary<string, List<string>> heads)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new SortedDictionary<string, (long SeenHere, List<(string Witness, long Seq)> Witnesses, int Memories)>(StringComparer.Ordinal);
        bool IsMissing(string prefix) => prefix != _prefix && !heads.ContainsKey(prefix);
        void Note(string prefix, long seenHere = 0, (string, long)? witness = null, int memories = 0)
        {
            if (!missing.TryGetValue(prefix, out var entry))
            {
                entry = (0, [], 0);
            }

            if (witness is { } w)
            {
                entry.Witnesses.Add(w);
            }

            missing[prefix] = (Math.Max(entry.SeenHere, seenHere), entry.Witnesses, entry.Memories + memories);
        }

        foreach ((string prefix, RemoteDeviceState device) in _state.Devices)
        {
            if (device.DeviceId.Length > 0)
            {
                ids[prefix] = device.DeviceId;
            }

            if (device.Head is not null && IsMissing(prefix))
            {
                Note(prefix, seenHere: Math.Max(device.Seq, 1));
            }
        }

        foreach (RemoteDeviceState device in _state.Devices.Values.Where(d => d.DeviceId.Length > 0).OrderBy(d => d.DeviceId, StringComparer.Ordinal))
        {
            foreach ((string acked, long seq) in device.Acks)
            {
                if (seq > 0 && IsMissing(acked))
                {
                    Note(acked, witness: (device.DeviceId, seq));
                }
            }
        }

        // Per device id in any surviving version vector: how many memories hold a version including its edits.
        var included = new Dictionary<string, (int Count, string Last)>(StringComparer.Ordinal);
        foreach ((string id, RecordState record) in _state.Records)
        {
            foreach (VersionInfo version in record.Versions)
            {
                foreach (string device in version.VersionVector.Keys)
                {
                    included.TryGetValue(device, out var seen);
                    if (!ReferenceEquals(seen.Last, id))
                    {
                        included[device] = (seen.Count + 1, id);
                    }
                }
            }
        }

        foreach ((string device, (int count, _)) in included)
        {
            if (device == DeviceId)
            {
                continue;
            }

            string prefix = PrefixOf(device);
            if (IsMissing(prefix))
            {
                ids[prefix] = device;
                Note(prefix, memories: count);
            }
        }

        foreach ((string prefix, (long seenHere, List<(string Witness, long Seq)> witnesses, int memories)) in missing)
        {
            string? id = ids.GetValueOrDefault(prefix);
            string who = id is not null ? $"device '{id}'" : $"a device whose id is not known here (device prefix {prefix})";
            var evidence = new List<string>();
            if (seenHere > 0)
            {
                evidence.Add($"this device applied its head (sequence {seenHere})");
            }

            evidence.AddRange(witnesses.Select(w => $"device '{w.Witness}' applied its history up to sequence {w.Seq}"));
            if (memories > 0)
            {
                evidence.Add(memories == 1 ? "1 memory here holds a version that includes its edits" : $"{memories} memories here hold versions that include its edits");
            }

            string message = $"{char.ToUpperInvariant(who[0])}{who[1..]} has no head in storage (h/{prefix}/), although {string.Join(", and ", evidence)}: "
                + (seenHere > 0
                    ? "its head was deleted or the storage lost it, so its history can no longer reach other devices. "
                    : "its history is missing, so the memories only it holds are not on this device. ")
                + $"Nothing was deleted here. If a file-sync tool is still copying the repository, wait for it and sync again; otherwise restore h/{prefix}/ "
                + $"and p/{prefix}/ from a backup, or sync {(id is not null ? who : "that device")} once: it writes its head again.";
            Problem(seenHere > 0 ? GhostieErrorCode.Rollback : GhostieErrorCode.NotFound, id ?? "device prefix " + prefix, message);
        }
    }

    /// <summary>The device prefix of a device id (a keyed hash; cached, since vectors name the same few devices).</summary>
    private string PrefixOf(string deviceId)
    {
        if (!_prefixes.TryGetValue(deviceId, out string? prefix))
        {
            prefix = _keys.DeriveObjectName("", "device-prefix", Encoding.UTF8.GetBytes(deviceId));
            _prefixes[deviceId] = prefix;
        }

        return prefix;
    }

    private readonly Dictionary<string, string> _prefixes = new(StringComparer.Ordinal);

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
        device.Acks = new Dictionary<string, long>(best.Acks, StringComparer.Ordinal);
        device.AwaitsAckOf = best.Retired.Count > 0 ? best.Retired.Max(r => r.RetiredAtSeq) : 0;
        device.LastSeen = best.WrittenAt;
        Clock = Hlc.Observe(Clock, new Hlc(best.HlcWallMs, best.HlcCounter));
        SyncLog.Pulled(_logger, applied, best.DeviceId, best.Seq);
        return (applied, newConflicts);
    }
}
