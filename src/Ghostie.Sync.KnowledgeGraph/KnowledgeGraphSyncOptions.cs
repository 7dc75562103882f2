namespace Ghostie.Sync.KnowledgeGraph;

/// <summary>Options of <see cref="KnowledgeGraphSync"/>.</summary>
public sealed class KnowledgeGraphSyncOptions
{
    /// <summary>The memory server's graph file (its <c>MEMORY_FILE_PATH</c>). Required; its folder must exist.</summary>
    public string FilePath { get; set; } = "";

    /// <summary>
    /// How many times one sync reads, merges and tries to write the file when the file keeps changing under it (the
    /// server writing meanwhile). Default 5; at least 1. When all are used up, the sync fails with
    /// <see cref="GhostieErrorCode.Busy"/>, having lost nothing.
    /// </summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// How long after writing the file the sync waits before checking that the file still holds what it wrote (a
    /// server that read the file just before the write would write its own version within this time). Default 200 ms.
    /// </summary>
    public TimeSpan SettleDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long to wait, at most, for the server to finish a write it has begun (its temporary file
    /// <c>&lt;file&gt;.&lt;32 hex&gt;.tmp</c> beside the graph file) before failing with <see cref="GhostieErrorCode.Busy"/>.
    /// Default 10 s.
    /// </summary>
    public TimeSpan WriterTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A server temporary file older than this is taken for the leftover of a killed server, not a write in progress
    /// (reported, never deleted). Default 30 s.
    /// </summary>
    public TimeSpan StaleTemporaryFileAge { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock for waits and the age of temporary files. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(FilePath))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "No graph file was given: set FilePath to the memory server's MEMORY_FILE_PATH.");
        }

        if (MaxAttempts < 1)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"MaxAttempts is {MaxAttempts}; it must be at least 1.");
        }

        if (SettleDelay < TimeSpan.Zero || WriterTimeout < TimeSpan.Zero || StaleTemporaryFileAge <= TimeSpan.Zero)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "SettleDelay and WriterTimeout must not be negative, and StaleTemporaryFileAge must be positive.");
        }
    }
}
