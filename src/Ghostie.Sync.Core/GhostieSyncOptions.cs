using System.ComponentModel.DataAnnotations;

namespace Ghostie.Sync;

/// <summary>Options of a sync manager.</summary>
public sealed class GhostieSyncOptions
{
    /// <summary>The Ghostie home folder. Default <see cref="GhostieHome.DefaultRoot"/>.</summary>
    [Required]
    public string Home { get; set; } = GhostieHome.DefaultRoot;

    /// <summary>This device's id, as written in memories' <c>device_id</c>. Default: from <c>sync/device_id</c>, else the machine name.</summary>
    public string? DeviceId { get; set; }

    /// <summary>Pack size: a pack is closed once its uncompressed entries exceed this many bytes. Default 16 MiB.</summary>
    [Range(64 * 1024, 1024 * 1024 * 1024)]
    public int PackTargetBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>When this device's live packs exceed this count, the next push compacts them into one. Default 16.</summary>
    [Range(2, 10_000)]
    public int CompactAfterPacks { get; set; } = 16;

    /// <summary>
    /// Opt-in anonymization: when set, every memory version pushed has its content and the string values of its
    /// context passed through this scrubber first, so the repository and the other devices receive it with secrets
    /// replaced (for example Ghostie.Sync.Handoff's <c>SecretScrubber</c>, registered by <c>AddMemoryScrubbing()</c>).
    /// The memory file on this device keeps the original text. Default null: memories are pushed as they are.
    /// </summary>
    public ITextScrubber? PushScrubber { get; set; }

    /// <summary>
    /// Scheduled key rotation: a push that uploads changes first starts a new key epoch
    /// (<see cref="Crypto.RepositoryKeys.RotateEpochAsync"/>) when the current one is older than this (by
    /// <see cref="TimeProvider"/>), so new data moves to a fresh data key without anyone remembering to rotate. Older
    /// objects stay readable. Default 30 days; <see cref="TimeSpan.Zero"/> turns it off; otherwise at least one hour.
    /// Rotation does not replace the master key: to shut out a lost device, revoke it
    /// (<see cref="MemorySyncManager.RevokeDeviceAsync"/>).
    /// </summary>
    public TimeSpan EpochRotationInterval { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The clock. Default <see cref="TimeProvider.System"/>; tests inject a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
