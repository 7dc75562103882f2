namespace Ghostie.Sync.Internal;

/// <summary>
/// A push, in the order that keeps the repository readable at every step (docs/sync-protocol.md, "Push"):
/// 1. delete this device's packs no head references (left by a push that crashed before its head);
/// 2. upload the outbox as new immutable packs, compacting the live packs when there are too many;
/// 3. write the new head naming every live pack (written last: before it lands, the new packs are merely
///    unreferenced);
/// 4. record the head in the state and trim the outbox (after it lands, a crash makes the next run find its own
///    newer head and adopt it, see <see cref="OwnHistory"/>);
/// 5. delete the heads it replaces and the retired packs every device has acknowledged.
/// </summary>
internal sealed class PushCommit
{
    private readonly SyncContext _sync;
    private readonly RepositoryObjects _objects;

    public PushCommit(SyncContext sync, RepositoryObjects objects) => (_sync, _objects) = (sync, objects);

    private SyncStateDocument State => _sync.State;

    /// <summary>Pushes the outbox. <paramref name="own"/>: this device's heads in the run's listing.</summary>
    /// <returns>How many versions were uploaded, and whether the state was saved.</returns>
    public async Task<(int Uploaded, bool Saved)> PushAsync(List<string> own, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        List<OutboxLine> outbox = _sync.Outbox.Read(State.OutboxPushed);
        uint rekeyEpoch = _sync.Keys.RekeyEpoch;
        if (rekeyEpoch != 0 && State.RepackedFor != rekeyEpoch && State.OwnPacks.Count == 0)
        {
            State.RepackedFor = rekeyEpoch; // nothing of ours was written under the old master key
        }

        Dictionary<string, long> acks = State.Devices.Where(d => d.Value.Seq > 0).ToDictionary(d => d.Key, d => d.Value.Seq, StringComparer.Ordinal);
        if (!HasSomethingToSay(outbox, own, acks))
        {
            return (0, false);
        }

        // Phase 1.
        var referenced = new HashSet<string>(State.OwnPacks.Select(p => p.Name).Concat(State.Retired.Select(r => r.Name)), StringComparer.Ordinal);
        await _objects.DeleteUnreferencedPacksAsync(referenced, cancellationToken).ConfigureAwait(false);

        // Phase 2.
        long seq = State.OwnSeq + 1;
        SyncProfile.Phase uploading = SyncProfile.Time("push-build-seal-write-packs");
        (List<PackRef> packs, List<RetiredPack> retired) = await UploadOutboxAsync(outbox, seq, progress, cancellationToken).ConfigureAwait(false);
        uploading.Dispose();

        // Retired packs every known device has acknowledged can go; the head below stops listing them.
        var deletable = retired.Where(IsAcknowledgedByAll).ToList();
        retired.RemoveAll(deletable.Contains);

        // Phase 3.
        long through = outbox.Count > 0 ? outbox[^1].Seq : State.OutboxPushed;
        SyncProfile.Phase heading = SyncProfile.Time("push-head");
        string headName = await _objects.UploadHeadAsync(NewHead(seq, packs, retired, acks, through), cancellationToken).ConfigureAwait(false);
        heading.Dispose();

        // Phase 4: the new head is durable: record it before anything else can fail.
        string? previous = State.OwnHead;
        RecordPushed(seq, headName, packs, retired, acks, through);

        // Phase 5.
        await DeleteReplacedAsync(own.Append(previous).OfType<string>().Distinct().Where(n => n != headName), deletable, cancellationToken).ConfigureAwait(false);
        SyncLog.Pushed(_sync.Logger, outbox.Count, packs.Count, seq);
        return (outbox.Count, true);
    }

    /// <summary>Whether a push writes anything; reports a missing own head (which is written again).</summary>
    private bool HasSomethingToSay(List<OutboxLine> outbox, List<string> own, Dictionary<string, long> acks)
    {
        // Acknowledgements matter only to a device waiting to delete retired packs; writing a head for every change of
        // acknowledgements would make devices answer each other's heads forever.
        bool acksAwaited = State.Devices.Any(d => d.Value.AwaitsAckOf > 0 && !State.Removed.ContainsKey(d.Key) && State.PushedAcks.GetValueOrDefault(d.Key) < d.Value.AwaitsAckOf);
        bool retirable = State.Retired.Any(IsAcknowledgedByAll);
        bool repack = MustRepack;
        // A removal this device made (or learnt) and has not published yet: every device must honour it.
        bool removalUnpublished = State.Removed.Keys.Any(p => !State.PushedRemoved.Contains(p));
        // A head that is gone takes this device's history away from every other device: written again even when
        // there is nothing new (its packs are still listed in the state).
        bool headMissing = State.OwnHead is not null && !own.Contains(State.OwnHead);
        if (outbox.Count == 0 && !acksAwaited && !retirable && !headMissing && !removalUnpublished && !repack && State.OwnSeq > 0)
        {
            return false; // nothing to say: no write at all
        }

        if (outbox.Count == 0 && State.OwnSeq == 0 && acks.Count == 0 && !removalUnpublished)
        {
            return false; // a device with nothing to push and nothing seen announces itself with its first change
        }

        if (headMissing)
        {
            _sync.Problem(GhostieErrorCode.Rollback, "this device",
                $"This device's head '{State.OwnHead}' (sequence {State.OwnSeq}) is missing from storage: it was deleted or rolled back. A new head is written now.");
        }

        return true;
    }

    /// <summary>The live packs after uploading the outbox (and compacting, past <see cref="GhostieSyncOptions.CompactAfterPacks"/>),
    /// and the retired packs.</summary>
    private async Task<(List<PackRef> Packs, List<RetiredPack> Retired)> UploadOutboxAsync(List<OutboxLine> outbox, long seq, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        var packs = new List<PackRef>(State.OwnPacks);
        var retired = new List<RetiredPack>(State.Retired);
        long done = 0;
        void Uploaded()
        {
            if (++done % 500 == 0)
            {
                progress?.Report(new SyncProgress("upload", done, outbox.Count));
            }
        }

        // Opt-in anonymization (GhostieSyncOptions.PushScrubber): the pack gets the scrubbed entry, the outbox keeps the original.
        (PackEntry Entry, byte[]? Json) Pushed(OutboxLine line)
        {
            PackEntry pushed = PushScrubbing.ScrubForPush(_sync.Options, line.Entry);
            return (pushed, ReferenceEquals(pushed, line.Entry) ? line.EntryJson : pushed.ToJson());
        }

        packs.AddRange(await _objects.UploadPacksAsync(outbox.Select(Pushed), Uploaded, cancellationToken).ConfigureAwait(false));
        progress?.Report(new SyncProgress("upload", done, outbox.Count));
        // After a re-key (a device revoked), every live pack is rewritten once under the new epoch, which the revoked
        // device cannot open; the old packs are retired and deleted once every remaining device has acknowledged.
        if (packs.Count > _sync.Options.CompactAfterPacks || (MustRepack && packs.Count > 0))
        {
            (packs, List<RetiredPack> newlyRetired) = await CompactAsync(packs, seq, cancellationToken).ConfigureAwait(false);
            retired.AddRange(newlyRetired);
        }

        return (packs, retired);
    }

    private HeadDocument NewHead(long seq, List<PackRef> packs, List<RetiredPack> retired, Dictionary<string, long> acks, long through)
    {
        Hlc clock = _sync.NextClock();
        return new HeadDocument
        {
            DeviceId = _sync.DeviceId,
            DeviceName = _sync.DeviceName,
            Seq = seq,
            Packs = packs,
            Retired = retired,
            Acks = acks,
            OutboxThrough = through,
            Installation = State.Installation,
            HlcWallMs = clock.WallMs,
            HlcCounter = clock.Counter,
            WrittenAt = _sync.Now,
            Removed = State.Removed.Values.OrderBy(r => r.Prefix, StringComparer.Ordinal).ToList(),
        };
    }

    private void RecordPushed(long seq, string headName, List<PackRef> packs, List<RetiredPack> retired, Dictionary<string, long> acks, long through)
    {
        (State.OwnSeq, State.OwnHead, State.OwnPacks, State.Retired, State.OutboxPushed) = (seq, headName, packs, retired, through);
        State.LastPush = _sync.Now;
        State.PushedAcks = acks;
        State.PushedRemoved = new HashSet<string>(State.Removed.Keys, StringComparer.Ordinal);
        State.RepackedFor = _sync.Keys.RekeyEpoch;
        foreach (RecordState record in State.Records.Values)
        {
            record.Confirmed = null; // every local version is in the repository now
        }

        using (SyncProfile.Time("push-save-state"))
        {
            _sync.SaveState();
        }

        using SyncProfile.Phase _ = SyncProfile.Time("push-trim-outbox");
        _sync.Outbox.Trim(through);
    }

    private async Task DeleteReplacedAsync(IEnumerable<string> oldHeads, List<RetiredPack> deletable, CancellationToken cancellationToken)
    {
        foreach (string old in oldHeads)
        {
            await _objects.DeleteAsync(old, cancellationToken).ConfigureAwait(false);
        }

        foreach (RetiredPack pack in deletable)
        {
            await _objects.DeleteAsync(pack.Name, cancellationToken).ConfigureAwait(false);
        }

        if (deletable.Count > 0)
        {
            SyncLog.RetiredDeleted(_sync.Logger, deletable.Count);
        }
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
            await foreach (PackEntry entry in _objects.ReadPackAsync(pack, cancellationToken).ConfigureAwait(false))
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

        List<PackRef> compacted = await _objects.UploadPacksAsync(newest.Values.SelectMany(v => v).Select(e => (e, (byte[]?)null)), null, cancellationToken).ConfigureAwait(false);
        SyncLog.Compacted(_sync.Logger, packs.Count, newest.Values.Sum(v => v.Count));
        return (compacted, packs.Select(p => new RetiredPack { Name = p.Name, RetiredAtSeq = seq }).ToList());
    }

    /// <summary>Whether this device's live packs predate the repository's latest re-key.</summary>
    private bool MustRepack => _sync.Keys.RekeyEpoch != 0 && State.RepackedFor != _sync.Keys.RekeyEpoch;

    /// <summary>Whether every known device that is not removed has acknowledged the head that retired the pack: a
    /// removed device never reads again, so it holds nothing back (docs/sync-protocol.md, "Removing a device").</summary>
    private bool IsAcknowledgedByAll(RetiredPack pack) =>
        State.Devices.Where(d => d.Value.DeviceId.Length > 0 && !State.Removed.ContainsKey(d.Key)).All(d => d.Value.AcksOfUs >= pack.RetiredAtSeq);
}
