using Microsoft.Extensions.DependencyInjection;

namespace Ghostie.Sync.Handoff;

/// <summary>Registers opt-in anonymization of memories before they are pushed.</summary>
public static class MemoryScrubbingServiceCollectionExtensions
{
    /// <summary>
    /// Sets <see cref="GhostieSyncOptions.PushScrubber"/> to <see cref="SecretScrubber.Default"/> (unless a scrubber is
    /// already set): every memory pushed has the secrets of its content and context replaced by
    /// <c>[REDACTED:&lt;rule&gt;]</c>, the same rules as handoff. The memory files on this device keep the original
    /// text; the repository and the other devices receive the scrubbed one. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Ghostie builder (from <c>AddGhostieSync</c>).</param>
    public static IGhostieSyncBuilder AddMemoryScrubbing(this IGhostieSyncBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.PostConfigure<GhostieSyncOptions>(o => o.PushScrubber ??= SecretScrubber.Default);
        return builder;
    }
}
