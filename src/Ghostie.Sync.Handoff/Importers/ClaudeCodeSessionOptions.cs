namespace Ghostie.Sync.Handoff.Importers;

/// <summary>Where and how a package becomes a Claude Code session.</summary>
public sealed class ClaudeCodeSessionOptions
{
    /// <summary>The new session's id (default: a new random UUID).</summary>
    public string SessionId { get; set; } = Guid.NewGuid().ToString();

    /// <summary>The working directory the session runs in on this device (its <c>cwd</c>; default: the sender's project root).</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>The clock for the lines' timestamps (default system).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
