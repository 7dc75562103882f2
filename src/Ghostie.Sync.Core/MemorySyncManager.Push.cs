using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

public sealed partial class MemorySyncManager
{
    /// <summary>
    /// Uploads the outbox as new immutable packs under this device's prefix, then a new head naming every live pack
    /// (written last), then deletes the previous head. A crash at any point leaves the repository readable: before
    /// the head lands, the new packs are merely unreferenced (deleted by the next push); after it, the next run
    /// finds its own newer head and adopts it (<see cref="CheckOwnHeadAsync"/>).
    /// </summary>
    private async Task<(int Uploaded, bool Saved)> PushCoreAsync(List<string> own, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        List<OutboxLine> outbox = ReadOutbox(_state.OutboxPushed);
        Dictionary<string, long> acks = _state.Devices.Where(d => d.Value.Seq > 0).ToDictionary(d => d.Key, d => d.Value.Seq, StringComparer.Ordinal);
        // Acknowledgements matter only to a device waiting to delete retired packs; writing a head for every change of
        // acknowledgements would make devices answer each other's heads forever.
        bool acksAwaited = _state.Devices.Any(d => d.Value.AwaitsAckOf > 0 && _state.PushedAcks.GetValueOrDefault(d.Key) < d.Value.AwaitsAckOf);
        bool retirable = _state.Retired.Any(IsAcknowledgedByAll);
        // A head that is gone takes this device's history away from every other device: written again even when
        // there is nothing new (its packs are still listed in the state).
        bool headMissing = _state.OwnHead is not null && !own.Contains(_state.OwnHead);
        if (outbox.Count == 0 && !acksAwaited && !retirable && !headMissing && _state.OwnSeq > 0)
        {
            return (0, false); // nothing to say: no write at all
        }

        if (outbox.Count == 0 && _state.OwnSeq == 0 && acks.Count == 0)
        {
            return (0, false); // a device with nothing to push and nothing seen announces itself with its first change
        }

        if (headMissing)
        {
            Problem(GhostieErrorCode.Rollback, "this device",
                $"This device's head '{_state.OwnHead}' (sequence {_state.OwnSeq}) is missing from storage: it was deleted or rolled back. A new head is written now.");
        }

        // Packs under our prefix that no head of ours references come from pushes that crashed before their head.
        var referenced = new HashSet<string>(_state.OwnPacks.Select(p => p.Name).Concat(_state.Retired.Select(r => r.Name)), StringComparer.Ordinal);
        _reads++;
        await foreach (string name in _backend.ListAsync(OwnPackPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (!referenced.Contains(name))
            {
                _writes++;
                await _backend.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            }
        }

        long seq = _state.OwnSeq + 1;
        var packs = new List<PackRef>(_state.OwnPacks);
        var retired = new List<RetiredPack>(_state.Retired);
        long done = 0;
        PackBuilder? builder = null;
        try
        {
            foreach (OutboxLine line in outbox)
            {
                builder ??= new PackBuilder(TempFile());
                PackEntry pushed = ScrubForPush(line.Entry); // opt-in anonymization (GhostieSyncOptions.PushScrubber)
                builder.Add(pushed, ReferenceEquals(pushed, line.Entry) ? line.EntryJson : pushed.ToJson());
                if (builder.RawBytes >= _options.PackTargetBytes)
                {
                    packs.Add(await UploadPackAsync(builder, cancellationToken).ConfigureAwait(false));
                    builder = null;
                }

                if (++done % 500 == 0)
                {
                    progress?.Report(new SyncProgress("upload", done, outbox.Count));
                }
            }

            if (builder is not null)
            {
                packs.Add(await UploadPackAsync(builder, cancellationToken).ConfigureAwait(false));
                builder = null;
            }
        }
        finally
        {
            if (builder is not null)
            {
                await builder.DisposeAsync().ConfigureAwait(false);
            }
        }

        progress?.Report(new SyncProgress("upload", done, outbox.Count));
        if (packs.Count > _options.CompactAfterPacks)
        {
            (packs, List<RetiredPack> newlyRetired) = await CompactAsync(packs, seq, cancellationToken).ConfigureAwait(false);
            retired.AddRange(newlyRetired);
        }

        // Retired packs every known device has acknowledged can go; the head below stops listing them.
        var deletable = retired.Where(IsAcknowledgedByAll).ToList();
        retired.RemoveAll(deletable.Contains);

        Hlc clock = NextClock();
        long through = outbox.Count > 0 ? outbox[^1].Seq : _state.OutboxPushed;
        var headDocument = new HeadDocument
        {
            DeviceId = DeviceId,
            DeviceName = DeviceName,
            Seq = seq,
            Packs = packs,
            Retired = retired,
            Acks = acks,
            OutboxThrough = through,
            Installation = _state.Installation,
            HlcWallMs = clock.WallMs,
            HlcCounter = clock.Counter,
            WrittenAt = Now,
        };
        string headName = await UploadHeadAsync(headDocument, cancellationToken).ConfigureAwait(false);

        // The new head is durable: record it before anything else can fail.
        string? previous = _state.OwnHead;
        (_state.OwnSeq, _state.OwnHead, _state.OwnPacks, _state.Retired, _state.OutboxPushed) = (seq, headName, packs, retired, through);
        _state.LastPush = Now;
        _state.PushedAcks = acks;
        foreach (RecordState record in _state.Records.Values)
        {
            record.Confirmed = null; // every local version is in the repository now
        }

        SaveState();
        TrimOutbox(through);

        foreach (string old in own.Append(previous).OfType<string>().Distinct().Where(n => n != headName))
        {
            _writes++;
            await _backend.DeleteAsync(old, cancellationToken).ConfigureAwait(false);
        }

        foreach (RetiredPack pack in deletable)
        {
            _writes++;
            await _backend.DeleteAsync(pack.Name, cancellationToken).ConfigureAwait(false);
        }

        if (deletable.Count > 0)
        {
            SyncLog.RetiredDeleted(_logger, deletable.Count);
        }

        SyncLog.Pushed(_logger, outbox.Count, packs.Count, seq);
        return (outbox.Count, true);
    }

    /// <summary>
    /// Rewrites this device's live packs as one set of packs holding only the newest version of each memory from its
    /// log (a later version of ours always includes the earlier ones), and retires the old packs. They are deleted
    /// only once every known device's head acknowledges a head that no longer needs them.
    /// </summary>
    private async Task<(List<PackRef> Packs, List<RetiredPack> Retired)> CompactAsync(List<PackRef> packs, long seq, CancellationToken cancellationToken)
    {
        // Per memory, every entry of our log that no other entry of our log includes (normally exactly one: a later
        // version of ours includes our earlier ones; keeping all maximal ones is right even if that ever fails).
        var newest = new Dictionary<string, List<PackEntry>>(StringComparer.Ordinal);
        foreach (PackRef pack in packs)
        {
            await foreach (PackEntry entry in ReadPackAsync(pack, cancellationToken).ConfigureAwait(false))
            {
                if (!newest.TryGetValue(entry.Id, out List<PackEntry>? kept))
                {
                    newest[entry.Id] = [entry];
                }
                else if (!kept.Any(k => Vectors.Includes(k.VersionVector, entry.VersionVector)))
                {
                    kept.RemoveAll(k => Vectors.Includes(entry.VersionVector, k.VersionVector));
                    kept.Add(entry);
                }
            }
        }

        var compacted = new List<PackRef>();
        PackBuilder? builder = null;
        try
        {
            foreach (PackEntry entry in newest.Values.SelectMany(v => v))
            {
                builder ??= new PackBuilder(TempFile());
                builder.Add(entry);
                if (builder.RawBytes >= _options.PackTargetBytes)
                {
                    compacted.Add(await UploadPackAsync(builder, cancellationToken).ConfigureAwait(false));
                    builder = null;
                }
            }

            if (builder is not null)
            {
                compacted.Add(await UploadPackAsync(builder, cancellationToken).ConfigureAwait(false));
                builder = null;
            }
        }
        finally
        {
            if (builder is not null)
            {
                await builder.DisposeAsync().ConfigureAwait(false);
            }
        }

        SyncLog.Compacted(_logger, packs.Count, newest.Values.Sum(v => v.Count));
        return (compacted, packs.Select(p => new RetiredPack { Name = p.Name, RetiredAtSeq = seq }).ToList());
    }

    private bool IsAcknowledgedByAll(RetiredPack pack) =>
        _state.Devices.Values.Where(d => d.DeviceId.Length > 0).All(d => d.AcksOfUs >= pack.RetiredAtSeq);
}
