namespace Ghostie.Sync.Internal;

/// <summary>
/// The devices of the repository (docs/sync-protocol.md, "Removing a device"): listing them from one listing of the
/// heads and the state, and removing one. A removal is recorded in the remover's head and repeated by every device
/// that applies it (a grow-only set), so every device honours it: a removed device no longer holds back the deletion
/// of retired packs, its missing head is not reported, and heads it writes after its removal are not applied; the
/// removed device itself, once it reads the removal, refuses to push or pull under its id.
/// </summary>
internal sealed class DeviceRegistry
{
    private readonly SyncContext _sync;
    private readonly RepositoryObjects _objects;

    public DeviceRegistry(SyncContext sync, RepositoryObjects objects) => (_sync, _objects) = (sync, objects);

    private SyncStateDocument State => _sync.State;

    public static bool IsThisDeviceRemoved(SyncContext sync) => sync.State.Removed.ContainsKey(sync.Prefix);

    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.DeviceRemoved"/> when this device was removed.</exception>
    public static void ThrowIfThisDeviceRemoved(SyncContext sync)
    {
        if (sync.State.Removed.TryGetValue(sync.Prefix, out RemovedDevice? removal))
        {
            string how = removal.Revoked ? "revoked (as lost or stolen)" : "removed from the repository";
            throw new GhostieSyncException(GhostieErrorCode.DeviceRemoved,
                $"This device ('{sync.DeviceId}') was {how} by device '{removal.RemovedBy}' at {removal.RemovedAt:u}, so it can no longer push or pull as '{sync.DeviceId}': other devices ignore what it writes. " +
                "Its memory files are untouched. To sync this home again, give it a new device id (RenameDeviceAsync; the CLI: 'ghostie sync rename-device <new-id>'): its unpushed changes are kept and pushed under the new id." +
                (removal.Revoked ? " After a revocation it also needs the repository's new passphrase ('ghostie sync forget', then unlock again)." : ""));
        }
    }

    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.InvalidArgument"/> for this device's own id.</exception>
    public void RefuseThisDevice(string deviceId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        if (deviceId == _sync.DeviceId)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"'{deviceId}' is this device: a device cannot remove itself. Remove it from another device, or stop syncing here by forgetting this device's key and credentials ('ghostie sync forget').");
        }
    }

    /// <summary>Every device that has written to the repository, this one first, then by id.</summary>
    public async Task<IReadOnlyList<DeviceInfo>> ListAsync(CancellationToken cancellationToken)
    {
        Dictionary<string, List<string>> heads = await _objects.ListHeadsAsync(RepositoryLayout.HeadPrefix, cancellationToken).ConfigureAwait(false);
        var prefixes = new SortedSet<string>(heads.Keys.Concat(State.Devices.Where(d => d.Value.DeviceId.Length > 0).Select(d => d.Key)).Concat(State.Removed.Keys), StringComparer.Ordinal);
        prefixes.Remove(_sync.Prefix);
        var read = new Dictionary<string, HeadDocument>(StringComparer.Ordinal);
        foreach (string prefix in prefixes)
        {
            if (await ReadUnappliedAsync(prefix, heads.GetValueOrDefault(prefix), cancellationToken).ConfigureAwait(false) is { } head)
            {
                read[prefix] = head;
                foreach (RemovedDevice removal in head.Removed)
                {
                    _listed.TryAdd(removal.Prefix, removal); // shown, not recorded: a pull records it
                }
            }
        }

        var devices = new List<DeviceInfo>
        {
            new(_sync.DeviceId, _sync.DeviceName, true, State.LastPush)
            {
                Prefix = _sync.Prefix,
                Sequence = State.OwnSeq,
                HasHead = heads.ContainsKey(_sync.Prefix),
                Status = StatusOf(_sync.Prefix),
            },
        };

        var others = prefixes.Select(p => Describe(p, heads.ContainsKey(p), read.GetValueOrDefault(p))).ToList();

        devices.AddRange(others.OrderBy(d => d.DeviceId.Length == 0).ThenBy(d => d.DeviceId, StringComparer.Ordinal).ThenBy(d => d.Prefix, StringComparer.Ordinal));
        return devices;
    }

    /// <summary>Records the removal of <paramref name="deviceId"/> in the state (the push that follows publishes it).</summary>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.NotFound"/> when no device of that id has
    /// written to the repository.</exception>
    public DeviceInfo MarkRemoved(string deviceId, bool revoked)
    {
        RefuseThisDevice(deviceId);
        string prefix = _sync.PrefixOf(deviceId);
        State.Devices.TryGetValue(prefix, out RemoteDeviceState? known);
        bool inVectors = State.Records.Values.Any(r => r.Versions.Any(v => v.VersionVector.ContainsKey(deviceId)));
        if (known is not { DeviceId.Length: > 0 } && !inVectors && !State.Removed.ContainsKey(prefix))
        {
            string ids = string.Join(", ", State.Devices.Values.Where(d => d.DeviceId.Length > 0).Select(d => $"'{d.DeviceId}'").Order(StringComparer.Ordinal));
            throw new GhostieSyncException(GhostieErrorCode.NotFound,
                $"No device '{deviceId}' has written to this repository (known devices: {(ids.Length > 0 ? ids : "none but this one")}). Device ids are case-sensitive; 'ghostie device list' shows them. Nothing was changed.");
        }

        if (!State.Removed.TryGetValue(prefix, out RemovedDevice? removal) || (revoked && !removal.Revoked))
        {
            removal = new RemovedDevice
            {
                Prefix = prefix,
                DeviceId = deviceId,
                DeviceName = known?.DeviceName ?? "",
                Seq = known?.Seq ?? 0,
                RemovedAt = _sync.Now,
                RemovedBy = _sync.DeviceId,
                Revoked = revoked,
            };
            State.Removed[prefix] = removal;
            State.PushedRemoved.Remove(prefix);
        }

        return new DeviceInfo(deviceId, known?.DeviceName is { Length: > 0 } name ? name : deviceId, false, known?.LastSeen)
        {
            Prefix = prefix,
            Sequence = known?.Seq ?? 0,
            HasHead = known?.Head is not null,
            Status = StatusOf(prefix),
            RemovedBy = removal.RemovedBy,
            RemovedAt = removal.RemovedAt,
        };
    }

    /// <summary>A head not applied here yet (a new device, or a newer head), read (never applied) for its id, name,
    /// time and the removals it carries; null when the applied one is current, or it cannot be read (still syncing,
    /// tampered: listed by prefix, and a pull reports why).</summary>
    private async Task<HeadDocument?> ReadUnappliedAsync(string prefix, List<string>? names, CancellationToken cancellationToken)
    {
        State.Devices.TryGetValue(prefix, out RemoteDeviceState? known);
        if (names is null || (known?.Head is not null && PullApply.NothingNew(known, names)))
        {
            return null;
        }

        try
        {
            (HeadDocument? head, _) = await _objects.ReadNewestHeadAsync(names, null, cancellationToken).ConfigureAwait(false);
            return head is not null && head.Seq >= (known?.Seq ?? 0) ? head : null;
        }
        catch (GhostieSyncException)
        {
            return null;
        }
    }

    private DeviceInfo Describe(string prefix, bool hasHead, HeadDocument? head)
    {
        State.Devices.TryGetValue(prefix, out RemoteDeviceState? known);
        RemovedDevice? removal = RemovalOf(prefix);
        string id = head?.DeviceId ?? (known?.DeviceId is { Length: > 0 } k ? k : removal?.DeviceId ?? "");
        string name = head?.DeviceName ?? (known?.DeviceName is { Length: > 0 } n ? n : removal?.DeviceName ?? "");
        return new DeviceInfo(id, name.Length > 0 ? name : id, false, head?.WrittenAt ?? known?.LastSeen)
        {
            Prefix = prefix,
            Sequence = head?.Seq ?? known?.Seq ?? 0,
            HasHead = hasHead,
            Status = StatusOf(prefix),
            RemovedBy = removal?.RemovedBy,
            RemovedAt = removal?.RemovedAt,
        };
    }

    private readonly Dictionary<string, RemovedDevice> _listed = new(StringComparer.Ordinal);

    private RemovedDevice? RemovalOf(string prefix) => State.Removed.GetValueOrDefault(prefix) ?? _listed.GetValueOrDefault(prefix);

    private DeviceStatus StatusOf(string prefix) =>
        RemovalOf(prefix) is { } removal ? removal.Revoked ? DeviceStatus.Revoked : DeviceStatus.Removed : DeviceStatus.Active;
}
