namespace Ghostie.Sync.Handoff;

/// <summary>A file of the conversation with its path rewritten for the receiving device.</summary>
/// <param name="OriginalPath">The path on the sending device.</param>
/// <param name="Path">The path on this device: under the workspace or home folder, relative to the project, or unchanged.</param>
/// <param name="Status">"created", "edited", "read" or "mentioned".</param>
/// <param name="Mapped">Whether a rule applied (false: the path was outside every mapped folder and is shown unchanged).</param>
public sealed record RewrittenFile(string OriginalPath, string Path, string Status, bool Mapped);
