using Ghostie.Sync.Crypto;

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

    /// <summary>
    /// Revokes a lost or stolen device: it is removed (as <see cref="RemoveDeviceAsync"/> does, marked revoked), then the
    /// repository is re-keyed (<see cref="RepositoryKeys.RekeyAsync"/>): a new master key under
    /// <paramref name="newPassphrase"/>, which becomes the repository's only passphrase (every other one, recovery keys
    /// included, is deleted), and a new key epoch that the revoked device cannot derive from the master key it cached or
    /// from any old passphrase. This device's cached key is replaced; every other remaining device needs the new
    /// passphrase once (opening with a passphrase falls back to it when the cached key is stale). Then live data moves to
    /// the new epoch: this device's packs are rewritten (the old ones retired and deleted once acknowledged; each other
    /// remaining device rewrites its own at its next push), and handoff packages, claims and vector objects are
    /// re-encrypted in place. Nothing written after the revocation opens with the revoked device's cached key or an old
    /// passphrase; what it downloaded before stays readable to it (docs/security.md, "Revoking a device").
    /// </summary>
    /// <remarks>Resumable: after a crash or cancellation, run it again with the same arguments (on a manager opened
    /// with the new passphrase, once the old key no longer opens the repository); steps already done are skipped.</remarks>
    /// <param name="deviceId">The lost device's id (case-sensitive; not this device's).</param>
    /// <param name="newPassphrase">The repository's new passphrase. Never logged or stored in the clear.</param>
    /// <param name="progress">Receives each stage: the sync, "rekey-key-file", "rekey-key-ring", "rekey-cleanup", the
    /// push that rewrites the packs, and "reencrypt" per object.</param>
    /// <param name="cancellationToken">Cancels between steps and objects.</param>
    /// <returns>What was done.</returns>
    /// <exception cref="GhostieSyncException">As for <see cref="RemoveDeviceAsync"/>.</exception>
    public Task<DeviceRevocation> RevokeDeviceAsync(string deviceId, string newPassphrase, IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Engine.RevokeDeviceAsync(deviceId, newPassphrase, progress, cancellationToken);

    /// <summary>Test hook: this device's live packs, as its last head lists them.</summary>
    internal int LivePackCount => _sync.State.OwnPacks.Count;
}

/// <summary>The outcome of <see cref="MemorySyncManager.RevokeDeviceAsync"/>.</summary>
/// <param name="Device">The revoked device.</param>
/// <param name="Epoch">The key epoch made by the re-key: everything written from now on is sealed under it or a later one.</param>
/// <param name="Rekeyed">Whether this run re-keyed (false when a run cut short earlier had done it already).</param>
/// <param name="Uploaded">Local versions uploaded by the push that rewrote this device's packs.</param>
/// <param name="Reencrypted">Handoff, claim and vector objects re-encrypted into the new epoch by this run.</param>
public sealed record DeviceRevocation(DeviceInfo Device, uint Epoch, bool Rekeyed, int Uploaded, int Reencrypted);
