namespace Ghostie.Sync;

public sealed partial class MemorySyncManager
{
    /// <summary>
    /// Lists every device that has written to the repository, this one first: id, name, when its newest head was
    /// written, whether its head is in storage, and whether it was removed or revoked. Costs one listing of the heads,
    /// plus a read of each head this device has not applied yet (nothing is applied, committed or written).
    /// </summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The devices; one whose head cannot be read yet is listed by its prefix, with an empty id.</returns>
    /// <exception cref="GhostieSyncException">The listing failed (for example <see cref="GhostieErrorCode.BackendUnavailable"/>).</exception>
    public Task<IReadOnlyList<DeviceInfo>> ListDevicesAsync(CancellationToken cancellationToken = default) =>
        Engine.ListDevicesAsync(cancellationToken);

    /// <summary>
    /// Removes a device from the repository (a device retired, reinstalled under another id, or dead): it no longer
    /// holds back the deletion of retired packs (compaction keeps a retired pack until every known device has
    /// acknowledged it), its missing head is no longer reported, and heads it writes after its removal are not applied
    /// by any device. The removal is recorded in this device's head, which a sync writes now, and every device repeats
    /// it in its own. Its history up to its removal stays in the repository and on every device. The removed device,
    /// once it syncs, stops with <see cref="GhostieErrorCode.DeviceRemoved"/> (its memory files untouched) until it is
    /// given a new id. Removing does not change any key: a lost or stolen device is revoked instead (docs/security.md).
    /// Removing a device already removed changes nothing.
    /// </summary>
    /// <param name="deviceId">The device's id, as <see cref="ListDevicesAsync"/> shows it (case-sensitive).</param>
    /// <param name="progress">Receives progress of the sync that publishes the removal.</param>
    /// <param name="cancellationToken">Cancels the work; a removal not yet pushed is published by the next push.</param>
    /// <returns>The removed device.</returns>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.InvalidArgument"/> for this device's own id;
    /// <see cref="GhostieErrorCode.NotFound"/> when no device of that id has written to the repository (nothing changed);
    /// <see cref="GhostieErrorCode.DeviceRemoved"/> when this device was removed itself.</exception>
    public Task<DeviceInfo> RemoveDeviceAsync(string deviceId, IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Engine.RemoveDeviceAsync(deviceId, revoked: false, progress, cancellationToken);

    /// <summary>Test hook: this device's live packs, as its last head lists them.</summary>
    internal int LivePackCount => _sync.State.OwnPacks.Count;
}
