namespace Ghostie.Sync;

/// <summary>
/// Removes secrets from texts before they leave the device. Core calls it on every memory it pushes when
/// <c>GhostieSyncOptions.PushScrubber</c> is set (opt-in anonymization); Ghostie.Sync.Handoff's <c>SecretScrubber</c>
/// implements it (register it with <c>AddMemoryScrubbing()</c>).
/// </summary>
public interface ITextScrubber
{
    /// <summary>Returns <paramref name="texts"/> with every secret replaced, in the same order. The texts belong
    /// together (one memory's content and context): a secret found in one is removed from all of them.</summary>
    /// <param name="texts">The texts.</param>
    /// <returns>The scrubbed texts, as many as given.</returns>
    IReadOnlyList<string> Scrub(IReadOnlyList<string> texts);
}
