using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

public sealed partial class MemorySyncManager
{
    /// <summary>
    /// Tells whether a push or pull has anything to do, without doing it: no lock is taken, nothing is committed,
    /// written or downloaded (except the heads that <see cref="SyncCheckScope.Estimate"/> reads). A scheduler calls it
    /// at every interval, so an idle repository costs one listing request and no write (see docs/background-sync.md).
    /// </summary>
    /// <param name="scope">How far to look: local files only, one listing of the repository's heads, or that listing
    /// plus the changed heads, to estimate how many bytes a pull would download.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>What a sync would find; counts of local changes follow <see cref="SyncStatus.PendingPush"/>.</returns>
    /// <exception cref="GhostieSyncException">The listing failed (for example <see cref="GhostieErrorCode.BackendUnavailable"/>).</exception>
    public async Task<SyncCheck> CheckAsync(SyncCheckScope scope = SyncCheckScope.Listing, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ReloadStateIfChanged();
            _reads = 0;

            // Local: outbox versions not pushed, plus memory files changed since sync last saw them (as status counts).
            List<OutboxLine> outbox = ReadOutbox(_state.OutboxPushed);
            var pending = outbox.Select(l => l.Entry.Id).ToHashSet(StringComparer.Ordinal);
            long uploadBytes = outbox.Sum(l => (long)(l.EntryJson?.Length ?? l.Entry.ToJson().Length));
            foreach (string id in UncommittedChanges())
            {
                if (pending.Add(id))
                {
                    var file = new FileInfo(_home.MemoryPath(id));
                    uploadBytes += file.Exists ? file.Length : 0;
                }
            }

            if (scope == SyncCheckScope.Local)
            {
                return new SyncCheck { PendingChanges = pending.Count, UploadBytes = uploadBytes };
            }

            Dictionary<string, List<string>> heads = await ListHeadsAsync(HeadPrefix, cancellationToken).ConfigureAwait(false);
            List<string> own = heads.GetValueOrDefault(_prefix) ?? [];

            // This device's own head gone (a push writes it again) or a head of its own it has not adopted (a push
            // that crashed after its head landed, or a restored state): a sync is needed even with nothing new.
            bool ownChanged = _state.OwnHead is null ? own.Count > 0 : !own.Contains(_state.OwnHead);
            int changed = 0;
            long downloadBytes = 0;
            foreach ((string prefix, List<string> names) in heads)
            {
                if (prefix == _prefix)
                {
                    continue;
                }

                RemoteDeviceState? device = _state.Devices.GetValueOrDefault(prefix);
                if (device?.Head is not null && names.Contains(device.Head) && names.All(n => n == device.Head || device.Leftovers.Contains(n)))
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
                ObjectsRead = _reads,
            };
        }
        finally
        {
            _gate.Release();
        }
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
                HeadDocument? head = await ReadHeadAsync(name, cancellationToken).ConfigureAwait(false);
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
