using System.Text;
using System.Text.Json;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

public sealed partial class MemorySyncManager
{
    /// <summary>
    /// Gives this home a new device id, keeping its memories and every change not yet in the repository: for a home
    /// that finds another installation writing under its id (<see cref="GhostieErrorCode.DeviceIdInUse"/>), or to
    /// rename a device. Local changes are committed first; the versions this home committed but never pushed are made
    /// again under the new id (on top of what the repository holds, so they supersede it as they did before), and the
    /// next push uploads them under the new id's prefix. What this home pushed under the old id stays in the
    /// repository, where the installation now using that id carries it on. Sync settings (<c>sync/config.json</c>,
    /// <c>sync/device_id</c>) are updated. No request writes to the repository.
    /// </summary>
    /// <param name="newDeviceId">The new id (1 to 128 printable characters), not used in the repository yet.</param>
    /// <param name="newDeviceName">The new display name; the new id when null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.DeviceIdInUse"/> when the repository already
    /// holds heads or packs of <paramref name="newDeviceId"/> (nothing is changed); <see cref="GhostieErrorCode.InvalidArgument"/>
    /// for an invalid id or the current one.</exception>
    public async Task RenameDeviceAsync(string newDeviceId, string? newDeviceName = null, CancellationToken cancellationToken = default)
    {
        ValidateDeviceId(newDeviceId);
        if (newDeviceId == DeviceId)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"This home already syncs as device '{newDeviceId}'. Give a different id.");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using LocalLock _ = LocalLock.Acquire(_home);
            ReloadStateIfChanged();
            _problems = [];
            string newPrefix = PrefixOf(_keys, newDeviceId);
            if (await AnyObjectAsync(_backend, HeadPrefix + newPrefix + "/", cancellationToken).ConfigureAwait(false)
                || await AnyObjectAsync(_backend, PackPrefix + newPrefix + "/", cancellationToken).ConfigureAwait(false))
            {
                throw new GhostieSyncException(GhostieErrorCode.DeviceIdInUse,
                    $"Device id '{newDeviceId}' is already used in {_backend.DisplayName} by another installation. Choose another one; nothing was changed.");
            }

            int ignored = 0;
            CommitLocalChanges(null, ref ignored, save: false); // every local change is an outbox version first

            // Per memory, the newest version committed here and never pushed, and what it was made on top of among
            // the versions the repository holds (the unpushed versions under the old id are dropped: never seen elsewhere).
            var remint = new List<(PackEntry Newest, VersionVector Baseline)>();
            var newest = new Dictionary<string, PackEntry>(StringComparer.Ordinal);
            foreach (OutboxLine line in ReadOutbox(_state.OutboxPushed))
            {
                newest[line.Entry.Id] = line.Entry;
            }

            foreach ((string id, PackEntry entry) in newest)
            {
                RecordState record = _state.Records[id];
                List<VersionInfo> confirmed = record.Confirmed ?? record.Versions.Where(v => v.Origin != DeviceId).ToList();
                VersionVector baseline = confirmed.Where(v => Vectors.Includes(entry.VersionVector, v.VersionVector))
                    .Aggregate(VersionVector.Empty, (vv, v) => vv.Merge(v.Vector));
                (record.Versions, record.Confirmed) = (confirmed, null);
                remint.Add((entry, baseline));
            }

            DeviceId = newDeviceId;
            DeviceName = newDeviceName ?? newDeviceId;
            _prefix = newPrefix;
            _state.DeviceId = newDeviceId;
            _state.DevicePrefix = newPrefix;
            _state.Installation = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
            (_state.OwnSeq, _state.OwnHead, _state.OwnPacks, _state.Retired, _state.PushedAcks) = (0, null, [], [], new(StringComparer.Ordinal));
            // The new prefix holds nothing (checked above). Checked, so that a head appearing under this home's prefix
            // from another installation stops it, whichever id it runs under: also after a crash before the
            // configuration below is rewritten (the home, opened as the old id, is then refused, not merged into
            // the old id's history, and the rename is run again).
            _state.OwnLogChecked = true;

            var entries = new List<PackEntry>();
            foreach ((PackEntry entry, VersionVector baseline) in remint)
            {
                entries.Add(NewLocalEntry(entry.Id, baseline, entry.Deleted, entry.Hash, entry.Record));
                var file = new FileInfo(_home.MemoryPath(entry.Id));
                _pendingStamps[entry.Id] = file.Exists ? (file.LastWriteTimeUtc.Ticks, file.Length) : (0, -1); // the file shows it already
            }

            RewriteOutbox([]);
            if (entries.Count > 0)
            {
                AppendOutbox(entries);
                foreach (PackEntry entry in entries)
                {
                    ApplyVersion(entry, local: true, writeFiles: true);
                }
            }

            _pendingStamps.Clear();
            SaveState();
            if (_home.IsConfigured)
            {
                SyncConfiguration configuration = _home.ReadConfiguration();
                (configuration.DeviceId, configuration.DeviceName) = (DeviceId, DeviceName);
                _home.WriteConfiguration(configuration);
            }

            SyncLog.Renamed(_logger, entries.Count);
            _succeeded = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw LocalFailure("rename", ex);
        }
        finally
        {
            DiscardStateUnlessSucceeded();
            _gate.Release();
        }
    }

    private static void ValidateDeviceId(string deviceId)
    {
        if (string.IsNullOrWhiteSpace(deviceId) || deviceId.Length > 128 || deviceId.Any(char.IsControl))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The device id must be 1 to 128 printable characters.");
        }
    }

    private static string PrefixOf(RepositoryKeys keys, string deviceId) => keys.DeriveObjectName("", "device-prefix", Encoding.UTF8.GetBytes(deviceId));

    private static async Task<bool> AnyObjectAsync(IStorageBackend backend, string prefix, CancellationToken cancellationToken)
    {
        await foreach (string _ in backend.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }

    /// <summary>
    /// Refuses to set <paramref name="home"/> up as <paramref name="deviceId"/> when another installation writes under
    /// that id: a head of the id whose installation is not the home's own (from its state), or packs with no head at
    /// all in a home that has pushed nothing. Joining anyway would lock one of the two homes out at its next sync.
    /// </summary>
    private static async Task EnsureDeviceIdFreeAsync(IStorageBackend backend, RepositoryKeys keys, GhostieHome home, string deviceId, CancellationToken cancellationToken)
    {
        string prefix = PrefixOf(keys, deviceId);
        string? own = OwnInstallation(home, prefix);
        HeadDocument? newest = null;
        bool foreign = false, anyHead = false;
        await foreach (string name in backend.ListAsync(HeadPrefix + prefix + "/", cancellationToken).ConfigureAwait(false))
        {
            anyHead = true;
            HeadDocument? head = await TryReadHeadAsync(backend, keys, name, cancellationToken).ConfigureAwait(false);
            if (head is null || head.Installation != own)
            {
                foreign = true; // an unreadable head under this id was written by someone too
                if (head is not null && (newest is null || head.Seq > newest.Seq))
                {
                    newest = head;
                }
            }
        }

        if (!foreign && !anyHead && own is null)
        {
            foreign = await AnyObjectAsync(backend, PackPrefix + prefix + "/", cancellationToken).ConfigureAwait(false); // a first push under way
        }

        if (foreign)
        {
            string seen = newest is null ? "" : $" (its newest head, sequence {newest.Seq}, was written {newest.WrittenAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z as '{newest.DeviceName}')";
            throw new GhostieSyncException(GhostieErrorCode.DeviceIdInUse,
                $"Device id '{deviceId}' is already used in {backend.DisplayName} by another installation{seen}. Two Ghostie homes must not share a device id: one of them could no longer push or pull. " +
                "Set this home up with another device id (the CLI: --device <other-id>). Only if that id is this same device's, whose old home is gone for good, take it over (takeOverDeviceId; the CLI: --take-over-device). Nothing was created.");
        }
    }

    /// <summary>The installation id of the home's state, when the state is for <paramref name="prefix"/>; else null.</summary>
    private static string? OwnInstallation(GhostieHome home, string prefix)
    {
        try
        {
            if (!File.Exists(home.StatePath))
            {
                return null;
            }

            SyncStateDocument? state = JsonSerializer.Deserialize(File.ReadAllBytes(home.StatePath), CoreJson.Default.SyncStateDocument);
            return state is { Installation.Length: > 0 } && state.DevicePrefix == prefix ? state.Installation : null;
        }
        catch (JsonException)
        {
            return null; // an unreadable state proves nothing: treat the home as new
        }
    }

    private static async Task<HeadDocument?> TryReadHeadAsync(IStorageBackend backend, RepositoryKeys keys, string name, CancellationToken cancellationToken)
    {
        Stream? stream = await backend.GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return null;
        }

        try
        {
            using var buffer = new MemoryStream();
            await using (stream.ConfigureAwait(false))
            {
                await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            byte[] sealedHead = buffer.ToArray();
            if (!keys.Epochs.Contains(ObjectCipher.ReadInfo(sealedHead, name).Epoch))
            {
                await keys.RefreshAsync(cancellationToken).ConfigureAwait(false);
            }

            return JsonSerializer.Deserialize(keys.Cipher.Open(sealedHead, ObjectKind.Head, name), CoreJson.Default.HeadDocument);
        }
        catch (Exception ex) when (ex is GhostieSyncException or JsonException or IOException)
        {
            return null;
        }
    }
}
