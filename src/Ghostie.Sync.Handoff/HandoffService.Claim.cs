using System.Text.Json;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff.Internal;

namespace Ghostie.Sync.Handoff;

public sealed partial class HandoffService
{
    /// <summary>The storage prefix of resume claims: <c>xc/&lt;package id&gt;</c>.</summary>
    internal const string ClaimPrefix = "xc/";

    /// <summary>
    /// Fetches, verifies and rebuilds a package, claiming it first on a backend with conditional writes so that of
    /// two devices resuming the same package at the same moment exactly one gets it. Complete the returned resumption
    /// once the rebuilt conversation is safely in use (that deletes the package), or dispose it to give the package
    /// back. <see cref="ResumeAsync"/> does both in one call.
    /// </summary>
    /// <param name="packageId">The package id.</param>
    /// <param name="profile">The receiving device's budgets.</param>
    /// <param name="options">Path rewriting and token counting; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the work; the claim is released.</param>
    /// <exception cref="GhostieSyncException">No such package for this device (<see cref="GhostieErrorCode.NotFound"/>); another device is
    /// resuming it right now (<see cref="GhostieErrorCode.Busy"/>); or see <see cref="FetchAsync"/>.</exception>
    public Task<HandoffResumption> BeginResumeAsync(string packageId, DeviceProfile profile, HandoffResumeOptions? options = null, CancellationToken cancellationToken = default) =>
        HandoffTelemetry.RunAsync("resume", () => BeginResumeCoreAsync(packageId, profile, options, cancellationToken), static (activity, resumption) =>
        {
            activity.SetTag("ghostie.handoff.active_agents", resumption.Conversation.ActiveAgents.Count);
            activity.SetTag("ghostie.handoff.deferred_agents", resumption.Conversation.DeferredAgents.Count);
        });

    private async Task<HandoffResumption> BeginResumeCoreAsync(string packageId, DeviceProfile profile, HandoffResumeOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        options ??= new HandoffResumeOptions();
        packageId = NormalizePackageId(packageId);
        string name = await FindForThisDeviceAsync(packageId, cancellationToken).ConfigureAwait(false);
        bool consume = _options.DeleteOnResume && !options.KeepPackage;
        string? claim = consume && _backend is IConditionalStorageBackend conditional
            ? await ClaimAsync(conditional, name, packageId, cancellationToken).ConfigureAwait(false)
            : null;
        try
        {
            HandoffPackage package = await ReadPackageAsync(name, packageId, cancellationToken).ConfigureAwait(false);
            RebuiltConversation rebuilt = HandoffRebuilder.Rebuild(package, profile, options);
            Log.Resumed(_logger, packageId, profile.Name, rebuilt.ActiveAgents.Count, rebuilt.DeferredAgents.Count);
            return new HandoffResumption(this, name, package, rebuilt, consume, claim);
        }
        catch
        {
            if (claim is not null)
            {
                await ReleaseClaimAsync(packageId, claim).ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Takes the claim on a package: a create-only write, so exactly one device wins; a stale claim (older than
    /// <see cref="HandoffOptions.ClaimTimeout"/>, or this device's own from an interrupted run) is taken over with a
    /// compare-and-swap. Returns the claim's version.</summary>
    private async Task<string> ClaimAsync(IConditionalStorageBackend backend, string packageName, string packageId, CancellationToken cancellationToken)
    {
        string claimName = ClaimPrefix + packageId;
        DateTimeOffset now = _options.TimeProvider.GetUtcNow();
        byte[] content = _keys.Cipher.Seal(
            JsonSerializer.SerializeToUtf8Bytes(new ResumeClaim { PackageId = packageId, DeviceId = _deviceId, ClaimedAt = now }, HandoffJson.Stored.ResumeClaim),
            ObjectKind.Handoff, claimName);
        bool won;
        using (var stream = new MemoryStream(content, writable: false))
        {
            won = await backend.TryCreateAsync(claimName, stream, cancellationToken).ConfigureAwait(false);
        }

        if (!won)
        {
            string? version = await backend.GetVersionAsync(claimName, cancellationToken).ConfigureAwait(false);
            ResumeClaim? holder = version is null ? null : await TryReadClaimAsync(claimName, cancellationToken).ConfigureAwait(false);
            bool stale = holder is null || holder.DeviceId == _deviceId || holder.PackageId != packageId || holder.ClaimedAt + _options.ClaimTimeout <= now;
            if (!stale)
            {
                DateTimeOffset until = holder!.ClaimedAt + _options.ClaimTimeout;
                throw new GhostieSyncException(GhostieErrorCode.Busy,
                    $"Handoff package {packageId} is being resumed by device '{holder.DeviceId}' right now. If that device finishes, the package is gone; " +
                    $"if it was interrupted, the package can be resumed here again after {until:yyyy-MM-dd HH:mm:ss}Z.");
            }

            using var stream = new MemoryStream(content, writable: false);
            won = version is null
                ? await backend.TryCreateAsync(claimName, stream, cancellationToken).ConfigureAwait(false)
                : await backend.TryReplaceAsync(claimName, stream, version, cancellationToken).ConfigureAwait(false);
            if (!won)
            {
                throw new GhostieSyncException(GhostieErrorCode.Busy, $"Handoff package {packageId} was claimed by another device at the same moment; it is being resumed there.");
            }
        }

        string mine = await backend.GetVersionAsync(claimName, cancellationToken).ConfigureAwait(false)
            ?? throw new GhostieSyncException(GhostieErrorCode.Busy, $"Handoff package {packageId}: the claim vanished as it was made; another device is resuming it.");

        // A device that finished resuming deletes the package before its claim: if the package is gone now, it was consumed
        // between this device finding it and claiming it.
        if (await backend.GetVersionAsync(packageName, cancellationToken).ConfigureAwait(false) is null)
        {
            await ReleaseClaimAsync(packageId, mine).ConfigureAwait(false);
            throw new GhostieSyncException(GhostieErrorCode.NotFound, $"Handoff package {packageId} was resumed by another device a moment ago.");
        }

        return mine;
    }

    private async Task<ResumeClaim?> TryReadClaimAsync(string claimName, CancellationToken cancellationToken)
    {
        try
        {
            Stream? stream = await _backend.GetAsync(claimName, cancellationToken).ConfigureAwait(false);
            if (stream is null)
            {
                return null;
            }

            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (buffer.Length > 64 * 1024)
                {
                    return null;
                }

                byte[] plaintext = _keys.Cipher.Open(buffer.ToArray(), ObjectKind.Handoff, claimName);
                return JsonSerializer.Deserialize(plaintext, HandoffJson.Stored.ResumeClaim);
            }
        }
        catch (Exception ex) when (ex is GhostieSyncException { Code: GhostieErrorCode.IntegrityFailure or GhostieErrorCode.UnsupportedFormat } or JsonException)
        {
            return null; // unreadable: treated as stale, replaced with a compare-and-swap
        }
    }

    /// <summary>Deletes a consumed package (after checking the claim is still this device's), then its claim.</summary>
    internal async Task ConsumeAsync(string objectName, string packageId, string? claimVersion, CancellationToken cancellationToken)
    {
        if (claimVersion is not null && _backend is IConditionalStorageBackend conditional)
        {
            string? current = await conditional.GetVersionAsync(ClaimPrefix + packageId, cancellationToken).ConfigureAwait(false);
            if (current != claimVersion)
            {
                throw new GhostieSyncException(GhostieErrorCode.Busy,
                    $"Handoff package {packageId} was taken over by another device (this device held it longer than HandoffOptions.ClaimTimeout); it was not deleted here.");
            }
        }

        await DeleteObjectAsync(objectName, "consumed", cancellationToken).ConfigureAwait(false);
        if (claimVersion is not null)
        {
            await DeleteObjectAsync(ClaimPrefix + packageId, "claim released", CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes this device's claim if it is still the one it made (best effort: a claim left behind only delays others by <see cref="HandoffOptions.ClaimTimeout"/>).</summary>
    internal async Task ReleaseClaimAsync(string packageId, string claimVersion)
    {
        try
        {
            if (_backend is IConditionalStorageBackend conditional &&
                await conditional.GetVersionAsync(ClaimPrefix + packageId, CancellationToken.None).ConfigureAwait(false) == claimVersion)
            {
                await DeleteObjectAsync(ClaimPrefix + packageId, "claim released", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (GhostieSyncException)
        {
            // best effort: the claim expires
        }
    }

    /// <summary>Accepts an id as typed (surrounding spaces, upper-case hex) and returns it in the canonical form.</summary>
    private static string NormalizePackageId(string packageId)
    {
        ArgumentNullException.ThrowIfNull(packageId);
        string trimmed = packageId.Trim();
        string lower = trimmed.ToLowerInvariant();
        return IsPackageId(lower) ? lower : packageId;
    }
}
