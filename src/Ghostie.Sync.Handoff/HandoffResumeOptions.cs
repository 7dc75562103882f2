namespace Ghostie.Sync.Handoff;

/// <summary>How the receiving device rebuilds a conversation.</summary>
public sealed class HandoffResumeOptions
{
    /// <summary>Where the project lives on this device; null (a phone) rewrites project paths to project-relative ones.</summary>
    public string? WorkspaceRoot { get; set; }

    /// <summary>This device's home folder, for paths under the sender's home (default: this user's).</summary>
    public string? HomeDirectory { get; set; } = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    /// <summary>Explicit rewrites, sender's prefix to this device's, applied first (longest prefix first).</summary>
    public IDictionary<string, string> PathMappings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>"posix" or "windows": how this device writes paths (default: this operating system's).</summary>
    public string? PathStyle { get; set; }

    /// <summary>Counts tokens against the profile's context window (default <see cref="TiktokenTokenCounter.O200kBase"/>: real o200k_base tokens).</summary>
    public ITokenCounter TokenCounter { get; set; } = TiktokenTokenCounter.O200kBase;

    /// <summary>Keep the package in the repository after resuming (default false: it is consumed).</summary>
    public bool KeepPackage { get; set; }
}
