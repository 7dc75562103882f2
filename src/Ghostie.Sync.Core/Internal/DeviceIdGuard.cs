using System.Text.Json;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Internal;

/// <summary>
/// Device ids: their validation, and the check that no other installation (another Ghostie home) writes to the
/// repository under an id a home is about to use (docs/sync-protocol.md, "Lost state, interrupted pulls, shared ids").
/// </summary>
internal static class DeviceIdGuard
{
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.InvalidArgument"/> for an invalid id.</exception>
    public static void Validate(string deviceId)
    {
        if (string.IsNullOrWhiteSpace(deviceId) || deviceId.Length > 128 || deviceId.Any(char.IsControl))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The device id must be 1 to 128 printable characters.");
        }
    }

    /// <summary>Whether the repository holds heads or packs under the device prefix <paramref name="prefix"/>.</summary>
    public static async Task<bool> AnyObjectUnderAsync(IStorageBackend backend, string prefix, CancellationToken cancellationToken) =>
        await AnyObjectAsync(backend, RepositoryLayout.HeadPrefix + prefix + "/", cancellationToken).ConfigureAwait(false)
        || await AnyObjectAsync(backend, RepositoryLayout.PackPrefix + prefix + "/", cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Refuses to set <paramref name="home"/> up as <paramref name="deviceId"/> when another installation writes under
    /// that id: a head of the id whose installation is not the home's own (from its state), or packs with no head at
    /// all in a home that has pushed nothing. Joining anyway would lock one of the two homes out at its next sync.
    /// </summary>
    public static async Task EnsureFreeAsync(IStorageBackend backend, RepositoryKeys keys, GhostieHome home, string deviceId, CancellationToken cancellationToken)
    {
        string prefix = SyncContext.PrefixOf(keys, deviceId);
        string? own = SyncStateStore.InstallationOf(home, prefix);
        HeadDocument? newest = null;
        bool foreign = false, anyHead = false;
        await foreach (string name in backend.ListAsync(RepositoryLayout.HeadPrefix + prefix + "/", cancellationToken).ConfigureAwait(false))
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
            foreign = await AnyObjectAsync(backend, RepositoryLayout.PackPrefix + prefix + "/", cancellationToken).ConfigureAwait(false); // a first push under way
        }

        if (foreign)
        {
            string seen = newest is null ? "" : $" (its newest head, sequence {newest.Seq}, was written {newest.WrittenAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z as '{newest.DeviceName}')";
            throw new GhostieSyncException(GhostieErrorCode.DeviceIdInUse,
                $"Device id '{deviceId}' is already used in {backend.DisplayName} by another installation{seen}. Two Ghostie homes must not share a device id: one of them could no longer push or pull. " +
                "Set this home up with another device id (the CLI: --device <other-id>). Only if that id is this same device's, whose old home is gone for good, take it over (takeOverDeviceId; the CLI: --take-over-device). Nothing was created.");
        }
    }

    private static async Task<bool> AnyObjectAsync(IStorageBackend backend, string prefix, CancellationToken cancellationToken)
    {
        await foreach (string _ in backend.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
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
