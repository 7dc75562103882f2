namespace Ghostie.Sync.Internal;

/// <summary>
/// Compares this device's own heads in storage with what the state knows, before anything is committed. A newer own
/// head means the state is behind its own history: a push that crashed after writing its head, a state that was lost
/// or restored from a backup, or a reinstall under the same device id. The device's own packs are then applied first
/// (files written where missing, never over a local file), so its counters and outbox continue from the real history;
/// outbox lines the head already covers are dropped. A newer head written by another installation while this one was
/// active means two devices share one id: an error, never a merge of two histories.
/// </summary>
internal sealed class OwnHistory
{
    private readonly SyncContext _sync;
    private readonly RepositoryObjects _objects;
    private readonly VersionApplier _applier;

    public OwnHistory(SyncContext sync, RepositoryObjects objects, VersionApplier applier) => (_sync, _objects, _applier) = (sync, objects, applier);

    private SyncStateDocument State => _sync.State;

    /// <param name="names">This device's heads in the listing.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.DeviceIdInUse"/>: another installation writes under this id.</exception>
    public async Task CheckAsync(List<string> names, CancellationToken cancellationToken)
    {
        (HeadDocument? best, string? bestName) = await _objects.ReadNewestHeadAsync(names, State.OwnHead, cancellationToken).ConfigureAwait(false);
        if (best is not null && best.Seq > State.OwnSeq)
        {
            if (best.Installation != State.Installation && State.OwnLogChecked)
            {
                string id = _sync.DeviceId;
                throw new GhostieSyncException(GhostieErrorCode.DeviceIdInUse,
                    $"Another installation (another Ghostie home) is writing to the repository as device '{id}' (its head '{bestName}' has sequence {best.Seq}, newer than this home's {State.OwnSeq}), so this home can no longer push or pull as '{id}'. " +
                    "Give this home a new device id with RenameDeviceAsync (the CLI: 'ghostie sync rename-device <new-id>'): its memories and the changes it has not pushed are kept, and the next push uploads them under the new id. Nothing was changed.");
            }

            HashSet<string> pushed = await ApplyOwnPacksAsync(best, cancellationToken).ConfigureAwait(false);
            (State.OwnSeq, State.OwnHead, State.OwnPacks, State.Retired) = (best.Seq, bestName, best.Packs, best.Retired);
            DropPushedFromOutbox(pushed);
            SyncLog.RecoveredOwnHead(_sync.Logger, best.Seq);
        }

        State.OwnLogChecked = true;
    }

    /// <summary>Applies the packs of this device's own head; returns the versions they hold (see <see cref="VersionKey"/>).</summary>
    private async Task<HashSet<string>> ApplyOwnPacksAsync(HeadDocument head, CancellationToken cancellationToken)
    {
        var pushed = new HashSet<string>(StringComparer.Ordinal);
        _sync.Recovering = true; // local files that differ are this device's own edits: kept, and not reported
        try
        {
            foreach (PackRef pack in head.Packs)
            {
                await foreach (PackEntry entry in _objects.ReadPackAsync(pack, cancellationToken).ConfigureAwait(false))
                {
                    _applier.Apply(entry, local: false, writeFiles: true);
                    pushed.Add(VersionKey(entry));
                }
            }
        }
        finally
        {
            _sync.Recovering = false;
        }

        return pushed;
    }

    private void DropPushedFromOutbox(HashSet<string> pushed)
    {
        List<OutboxLine> pending = _sync.Outbox.Read(State.OutboxPushed);
        if (!pending.Any(l => pushed.Contains(VersionKey(l.Entry))))
        {
            return;
        }

        pending = pending.Where(l => !pushed.Contains(VersionKey(l.Entry))).ToList();
        _sync.Outbox.Rewrite(pending);
        var unpushed = pending.Select(l => l.Entry.Id).ToHashSet(StringComparer.Ordinal);
        foreach ((string id, RecordState record) in State.Records)
        {
            if (!unpushed.Contains(id))
            {
                record.Confirmed = null; // its local versions were in the repository after all
            }
        }
    }

    private static string VersionKey(PackEntry entry) =>
        entry.Id + "|" + string.Join(",", entry.VersionVector.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + ":" + v.Value));
}
