using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Internal;

/// <summary>
/// The work behind <see cref="MemorySyncManager"/>'s public methods: one operation at a time (the gate), with the
/// home's lock for every change, the state reloaded when another process changed it, and discarded after a failure
/// part-way. A sync run is: list heads once, adopt this device's own newer head (<see cref="OwnHistory"/>), commit
/// local changes (<see cref="LocalChanges"/>), pull (<see cref="PullApply"/>), push (<see cref="PushCommit"/>).
/// </summary>
internal sealed class SyncEngine : IDisposable
{
    private readonly SyncContext _sync;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RepositoryObjects _objects;
    private readonly VersionApplier _applier;
    private readonly LocalChanges _changes;
    private readonly OwnHistory _ownHistory;
    private readonly PullApply _pull;
    private readonly PushCommit _push;
    private readonly ConflictResolver _conflicts;
    private readonly SyncChecker _checker;
    private bool _succeeded;

    public SyncEngine(SyncContext sync)
    {
        _sync = sync;
        _objects = new RepositoryObjects(sync);
        _applier = new VersionApplier(sync);
        _changes = new LocalChanges(sync, _applier);
        _ownHistory = new OwnHistory(sync, _objects, _applier);
        _pull = new PullApply(sync, _objects, _applier);
        _push = new PushCommit(sync, _objects);
        _conflicts = new ConflictResolver(sync, _applier, _changes);
        _checker = new SyncChecker(sync, _objects, _changes);
        Directory.CreateDirectory(sync.Home.ConflictsPath); // never memories/: a missing memories folder must stay missing (see LocalChanges)
        using (SyncProfile.Time("load-state"))
        {
            sync.State = LoadState();
        }
    }

    public SyncContext Context => _sync;

    public Task<SyncResult> RunAsync(bool push, bool pull, IProgress<SyncProgress>? progress, CancellationToken cancellationToken) =>
        ExclusiveAsync(push && !pull ? "push" : pull && !push ? "pull" : "sync", () => RunCoreAsync(push, pull, progress, cancellationToken), cancellationToken);

    public Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        SharedAsync(() =>
        {
            using SyncProfile.Phase _ = SyncProfile.Time("status");
            return Task.FromResult(_checker.Status());
        }, cancellationToken); // also after a failed run, whose state in memory was discarded

    public Task<SyncCheck> CheckAsync(SyncCheckScope scope, CancellationToken cancellationToken) =>
        SharedAsync(() => _checker.CheckAsync(scope, cancellationToken), cancellationToken);

    public IReadOnlyList<ConflictInfo> ListConflicts() => Shared(_conflicts.List);

    public ConflictInfo? GetConflict(string id) => Shared(() => _conflicts.Get(id));

    public Task<IReadOnlyList<string>> ResolveConflictAsync(string id, ConflictChoice choice, MemoryRecord? merged, CancellationToken cancellationToken) =>
        ExclusiveAsync("resolution", async () =>
        {
            Dictionary<string, List<string>> heads = await _objects.ListHeadsAsync(_sync.OwnHeadPrefix, cancellationToken).ConfigureAwait(false);
            await _ownHistory.CheckAsync(heads.GetValueOrDefault(_sync.Prefix) ?? [], cancellationToken).ConfigureAwait(false);
            _changes.Commit(null); // an unpushed local edit becomes a version first, never lost
            return _conflicts.Resolve(id, choice, merged);
        }, cancellationToken);

    public async Task RenameDeviceAsync(string newDeviceId, string? newDeviceName, CancellationToken cancellationToken)
    {
        DeviceIdGuard.Validate(newDeviceId);
        if (newDeviceId == _sync.DeviceId)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"This home already syncs as device '{newDeviceId}'. Give a different id.");
        }

        await ExclusiveAsync("rename", async () =>
        {
            await new DeviceRename(_sync, _applier, _changes).RenameAsync(newDeviceId, newDeviceName, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _sync.Journal.Close(stateSaved: false);
        _gate.Dispose();
    }

    public Task<IReadOnlyList<DeviceInfo>> ListDevicesAsync(CancellationToken cancellationToken) =>
        SharedAsync(() => new DeviceRegistry(_sync, _objects).ListAsync(cancellationToken), cancellationToken);

    public Task<DeviceInfo> RemoveDeviceAsync(string deviceId, bool revoked, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        var registry = new DeviceRegistry(_sync, _objects);
        registry.RefuseThisDevice(deviceId);
        return ExclusiveAsync("device removal", async () =>
        {
            DeviceInfo? removed = null;
            // After the pull (so its last head is applied and its history stays valid up to there), before the push
            // (which publishes the removal in this device's head and deletes what no remaining device needs).
            await RunCoreAsync(push: true, pull: true, progress, cancellationToken, beforePush: () => removed = registry.MarkRemoved(deviceId, revoked)).ConfigureAwait(false);
            return removed!;
        }, cancellationToken);
    }

    public Task<DeviceRevocation> RevokeDeviceAsync(string deviceId, string newPassphrase, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        var registry = new DeviceRegistry(_sync, _objects);
        registry.RefuseThisDevice(deviceId);
        ArgumentException.ThrowIfNullOrEmpty(newPassphrase);
        return ExclusiveAsync("revocation", async () =>
        {
            // 1. The revocation is published (under the old key: the lost device may read that it was revoked, nothing else).
            DeviceInfo? revoked = null;
            await RunCoreAsync(push: true, pull: true, progress, cancellationToken, beforePush: () => revoked = registry.MarkRemoved(deviceId, revoked: true)).ConfigureAwait(false);

            // 2. A new master key and epoch (resumable: RepositoryKeys records each step in the repository). Recorded
            // here once done, so a revocation run again after a crash goes on from step 3.
            string prefix = revoked!.Prefix;
            RekeyResult? rekey = null;
            if (!_sync.State.Revocations.TryGetValue(prefix, out uint epoch) || epoch != _sync.Keys.RekeyEpoch || epoch == 0)
            {
                rekey = await _sync.Keys.RekeyAsync(newPassphrase, "primary", progress is null ? null : new ReportAs<string>(step => progress.Report(new SyncProgress("rekey-" + step, 1, 1))), cancellationToken).ConfigureAwait(false);
                _sync.State.Revocations[prefix] = rekey.Epoch;
                var cache = DeviceKeyCache.ForHome(_sync.Home.Root);
                if (cache.Exists)
                {
                    cache.Save(_sync.Keys); // the old master key in the cache would no longer open the repository
                }

                _sync.SaveState();
            }

            // 3. This device's packs rewritten under the new epoch (the push compacts them: see PushCommit), and its
            // head; the other remaining devices do the same at their first push with the new key.
            SyncResult repacked = await RunCoreAsync(push: true, pull: false, progress, cancellationToken).ConfigureAwait(false);

            // 4. The objects no head pins by hash (handoff packages and claims, vector data) re-encrypted in place.
            // Objects already under the current epoch are skipped, so a run cut short goes on where it stopped.
            var names = new List<string>();
            foreach (string layoutPrefix in new[] { "x/", "xc/", "v/" })
            {
                await foreach (string name in _sync.Backend.ListAsync(layoutPrefix, cancellationToken).ConfigureAwait(false))
                {
                    names.Add(name);
                }
            }

            ReencryptionResult reencrypted = await _sync.Keys.ReencryptAsync(names,
                progress is null ? null : new ReportAs<ReencryptionProgress>(p => progress.Report(new SyncProgress("reencrypt", p.Processed, p.Total))),
                cancellationToken).ConfigureAwait(false);
            return new DeviceRevocation(revoked with { Status = DeviceStatus.Revoked }, _sync.State.Revocations[prefix], rekey is not null, repacked.Uploaded, reencrypted.Reencrypted);
        }, cancellationToken);
    }

    private async Task<SyncResult> RunCoreAsync(bool push, bool pull, IProgress<SyncProgress>? progress, CancellationToken cancellationToken, Action? beforePush = null)
    {
        SyncStateDocument state = _sync.State;
        DeviceRegistry.ThrowIfThisDeviceRemoved(_sync);
        _sync.Reads = _sync.Writes = 0;
        int uploaded = 0, downloaded = 0;
        using (SyncProfile.Time("clean-temporary"))
        {
            CleanTemporaryFiles();
        }

        // One listing serves the whole run: it shows whether this device's own head moved (checked before anything
        // is committed, so counters and outbox numbers continue from the real history) and what others wrote.
        SyncProfile.Phase listing = SyncProfile.Time("list-heads");
        Dictionary<string, List<string>> heads = await _objects.ListHeadsAsync(pull ? RepositoryLayout.HeadPrefix : _sync.OwnHeadPrefix, cancellationToken).ConfigureAwait(false);
        listing.Dispose();
        List<string> ownHeads = heads.GetValueOrDefault(_sync.Prefix) ?? [];
        await _ownHistory.CheckAsync(ownHeads, cancellationToken).ConfigureAwait(false);
        int newConflicts = _changes.Commit(progress, save: false); // the outbox is durable; the state is saved below
        if (pull)
        {
            SyncProfile.Phase pulling = SyncProfile.Time("pull");
            (downloaded, int conflicts) = await _pull.PullAsync(heads, progress, cancellationToken).ConfigureAwait(false);
            pulling.Dispose();
            newConflicts += conflicts;
            state.LastPull = _sync.Now;
            if (DeviceRegistry.IsThisDeviceRemoved(_sync))
            {
                _sync.SaveState(); // remembered: later pushes are refused without reading anything
                DeviceRegistry.ThrowIfThisDeviceRemoved(_sync);
            }
        }

        beforePush?.Invoke();

        state.LastSync = _sync.Now;
        bool saved = false;
        if (push)
        {
            SyncProfile.Phase pushing = SyncProfile.Time("push");
            (uploaded, saved) = await _push.PushAsync(ownHeads, progress, cancellationToken).ConfigureAwait(false);
            pushing.Dispose();
        }
        else if (state.OwnHead is not null && !ownHeads.Contains(state.OwnHead))
        {
            _sync.Problem(GhostieErrorCode.Rollback, "this device",
                $"This device's head '{state.OwnHead}' (sequence {state.OwnSeq}) is missing from storage: it was deleted or rolled back, so other devices cannot receive this device's history. Push to write it again; nothing was deleted here.");
        }

        if (!saved)
        {
            using SyncProfile.Phase _ = SyncProfile.Time("save-state");
            _sync.SaveState();
        }

        foreach (SyncProblem problem in _sync.Problems)
        {
            SyncLog.Problem(_sync.Logger, problem.Subject, problem.Message);
        }

        return new SyncResult
        {
            Uploaded = uploaded,
            Downloaded = downloaded,
            NewConflicts = newConflicts,
            ObjectsRead = _sync.Reads,
            ObjectsWritten = _sync.Writes,
            Problems = _sync.Problems.ToArray(),
        };
    }

    /// <summary>
    /// Runs a change of the home: under the gate and the home's lock, on the state as saved (reloaded if another
    /// process changed it), with no problems yet. After a failure part-way the state in memory is discarded; a failure
    /// of the home's own file system is reported as <see cref="GhostieErrorCode.LocalStorageFailure"/>.
    /// </summary>
    private async Task<T> ExclusiveAsync<T>(string operation, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                using LocalLock _ = LocalLock.Acquire(_sync.Home);
                ReloadStateIfChanged(); // another process may have synced this home since
                _sync.ResetProblems();
                T result = await work().ConfigureAwait(false);
                _succeeded = true;
                return result;
            }
            finally
            {
                DiscardStateUnlessSucceeded();
                _gate.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw LocalFailure(operation, ex);
        }
    }

    /// <summary>Runs a read of the state under the gate (no lock: nothing is written), reloaded if another process changed it.</summary>
    private async Task<T> SharedAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ReloadStateIfChanged();
            return await work().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private T Shared<T>(Func<T> work)
    {
        _gate.Wait();
        try
        {
            ReloadStateIfChanged();
            return work();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A failure of this device's own file system as the typed local error: the backends report theirs as
    /// <see cref="GhostieSyncException"/>s (and object reads that fail part-way are converted where they are read), so a
    /// raw <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> here comes from the Ghostie home.
    /// </summary>
    public GhostieSyncException LocalFailure(string operation, Exception ex)
    {
        const int Enospc = 28, Erofs = 30, Edquot = 122;
        const int WindowsDiskFull = unchecked((int)0x80070070), WindowsHandleDiskFull = unchecked((int)0x80070027);
        string why = ex switch
        {
            UnauthorizedAccessException => "permission denied (this user cannot write there): fix the ownership or permissions of the home",
            IOException { HResult: Enospc or Edquot or WindowsDiskFull or WindowsHandleDiskFull } => "the disk holding it is full (or over quota): free space on that disk",
            IOException { HResult: Erofs } => "it is on a read-only file system: remount it writable",
            _ => "a file system error: check the disk holding it",
        };
        return new GhostieSyncException(GhostieErrorCode.LocalStorageFailure,
            $"The {operation} could not write this device's Ghostie home {_sync.Home.Root}: {why}, then run it again. ({ex.Message}) " +
            "Nothing was lost: local changes stay in the memory files and the outbox, and what was already applied is kept.",
            isTransient: false, innerException: ex);
    }

    /// <summary>The state as saved, with the outbox lines and the written-files journal it does not reflect yet replayed into it.</summary>
    private SyncStateDocument LoadState()
    {
        _sync.Outbox.Forget(); // another process may have written it
        SyncStateDocument state = _sync.StateFile.Read(_sync.Keys.RepositoryId);
        _sync.Strings.Intern(state);
        _sync.StateFile.MarkSeen();
        _sync.Outbox.MarkSeen();
        state.RepositoryId = _sync.Keys.RepositoryId;
        state.DeviceId = _sync.DeviceId;
        state.DevicePrefix = _sync.Prefix;

        // Versions appended to the outbox but not yet reflected in the state (a crash between the two writes).
        foreach (OutboxLine line in _sync.Outbox.Read(state.OutboxApplied))
        {
            _sync.State = state;
            _applier.Apply(line.Entry, local: true, writeFiles: false);
            state.OutboxApplied = line.Seq;
            Hlc clock = Hlc.Observe(new Hlc(state.HlcWallMs, state.HlcCounter), new Hlc(line.Entry.WallMs, line.Entry.Counter));
            (state.HlcWallMs, state.HlcCounter) = (clock.WallMs, clock.Counter);
        }

        // Memory files a pull wrote or deleted after the state was last saved (it was killed before its checkpoint).
        _sync.Journal.Replay(state, _sync.Strings);
        return state;
    }

    /// <summary>Reloads the state only if another process changed it since this one last read or wrote it.</summary>
    private void ReloadStateIfChanged()
    {
        if (_sync.StateFile.ChangedOnDisk || _sync.Outbox.ChangedOnDisk)
        {
            _sync.State = LoadState();
        }
    }

    /// <summary>
    /// After a failure part-way, the state in memory may be ahead of the state file (or behind the outbox): forget it,
    /// so the next operation reloads the file and replays the outbox, which are always consistent.
    /// </summary>
    private void DiscardStateUnlessSucceeded()
    {
        _sync.Journal.Close(stateSaved: false); // kept, if still there, for the replay when the state is loaded again
        if (!_succeeded)
        {
            _sync.StateFile.Invalidate();
            _sync.Outbox.Forget();
            _sync.PendingStamps.Clear();
        }

        _succeeded = false;
    }

    private void CleanTemporaryFiles()
    {
        SyncTempFiles.Clean(_sync.Home);

        // Temporary files of atomic writes (memory files, state, conflicts) that a killed process left behind. Memory
        // files are also written outside this lock (by hosts adding memories), so only old ones are taken.
        GhostieHome home = _sync.Home;
        DateTimeOffset before = _sync.Now - AtomicFile.LeftoverAge;
        int removed = AtomicFile.SweepLeftovers(home.MemoriesPath, before)
            + AtomicFile.SweepLeftovers(home.SyncPath, before)
            + AtomicFile.SweepLeftovers(home.ConflictsPath, before);
        if (removed > 0)
        {
            SyncLog.LeftoversRemoved(_sync.Logger, removed);
        }
    }
}

/// <summary>Reports synchronously, on the reporting thread (unlike <see cref="Progress{T}"/>), so a caller's progress
/// sees each step before the next begins.</summary>
internal sealed class ReportAs<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
