namespace Ghostie.Sync.Handoff;

/// <summary>Compresses a transcript into the context a package carries.</summary>
public interface IContextCompressor
{
    /// <summary>Compresses <paramref name="transcript"/> (already scrubbed of secrets).</summary>
    /// <param name="transcript">The conversation.</param>
    /// <param name="options">Budgets and the token counter.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    Task<CompressedContext> CompressAsync(ConversationTranscript transcript, CompressionOptions options, CancellationToken cancellationToken = default);
}
