namespace Ghostie.Sync.Internal;

/// <summary>The object names of the sync protocol (docs/format.md, "Storage names").</summary>
internal static class RepositoryLayout
{
    /// <summary>Heads: <c>h/&lt;device prefix&gt;/&lt;random&gt;</c>.</summary>
    public const string HeadPrefix = "h/";

    /// <summary>Packs: <c>p/&lt;device prefix&gt;/&lt;random&gt;</c>.</summary>
    public const string PackPrefix = "p/";
}
