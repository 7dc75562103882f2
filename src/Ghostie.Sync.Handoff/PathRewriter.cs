namespace Ghostie.Sync.Handoff;

/// <summary>
/// Rewrites the sending device's paths for the receiving one, in this order: explicit mappings (longest prefix
/// first); the project root to <see cref="HandoffResumeOptions.WorkspaceRoot"/>, or to a project-relative path when
/// this device has no workspace (a phone); the sender's home folder to this device's; a relative path joined to the
/// workspace. Windows and POSIX paths convert both ways; Windows prefixes compare case-insensitively.
/// </summary>
internal sealed class PathRewriter
{
    private readonly List<(string From, string To)> _mappings = [];
    private readonly string? _projectRoot;
    private readonly string? _workspace;
    private readonly string? _sourceHome;
    private readonly string? _targetHome;
    private readonly bool _sourceWindows;
    private readonly char _separator;

    /// <summary>Creates the rewriter for packages from <paramref name="source"/>.</summary>
    /// <param name="source">The sending device.</param>
    /// <param name="options">This device's folders and mappings.</param>
    public PathRewriter(HandoffSource source, HandoffResumeOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        _sourceWindows = source.PathStyle == "windows";
        _separator = (options.PathStyle ?? (OperatingSystem.IsWindows() ? "windows" : "posix")) == "windows" ? '\\' : '/';
        foreach (KeyValuePair<string, string> mapping in options.PathMappings.OrderByDescending(m => m.Key.Length))
        {
            _mappings.Add((Normalize(mapping.Key), mapping.Value));
        }

        _projectRoot = string.IsNullOrEmpty(source.ProjectRoot) ? null : Normalize(source.ProjectRoot);
        _workspace = string.IsNullOrEmpty(options.WorkspaceRoot) ? null : options.WorkspaceRoot;
        _sourceHome = string.IsNullOrEmpty(source.HomeDirectory) ? null : Normalize(source.HomeDirectory);
        _targetHome = string.IsNullOrEmpty(options.HomeDirectory) ? null : options.HomeDirectory;
    }

    /// <summary>Rewrites one path.</summary>
    /// <param name="path">A path as written on the sending device.</param>
    /// <returns>The path for this device, and whether a rule applied.</returns>
    public (string Path, bool Mapped) Rewrite(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string normalized = Normalize(path);
        if (Escapes(normalized))
        {
            // The sender controls these paths: "../../.ssh/id_rsa" or "<root>/../other" must never be joined onto a
            // folder of this device as if it were inside it. Left as written, and reported as not mapped.
            return (path, false);
        }

        foreach ((string from, string to) in _mappings)
        {
            if (TryStrip(normalized, from, out string rest))
            {
                return (Join(to, rest), true);
            }
        }

        if (_projectRoot is not null && TryStrip(normalized, _projectRoot, out string relative))
        {
            return (_workspace is null ? Convert(relative) : Join(_workspace, relative), true);
        }

        // After the project root: a project usually lives under the home folder.
        if (_sourceHome is not null && _targetHome is not null && TryStrip(normalized, _sourceHome, out string underHome))
        {
            return (Join(_targetHome, underHome), true);
        }

        if (!IsRooted(normalized))
        {
            string trimmed = normalized.StartsWith("./", StringComparison.Ordinal) ? normalized[2..] : normalized;
            return _workspace is null ? (Convert(trimmed), false) : (Join(_workspace, trimmed), true);
        }

        return (path, false);
    }

    /// <summary>Whether the path has a ".." segment: such a path is never rewritten, since joined onto a folder of this
    /// device it could point outside it (rare in transcripts; the path is kept as written).</summary>
    private static bool Escapes(string path) => path.Split('/').Contains("..", StringComparer.Ordinal);

    private string Normalize(string path) => _sourceWindows || path.Contains('\\', StringComparison.Ordinal) ? path.Replace('\\', '/') : path;

    private bool TryStrip(string path, string prefix, out string rest)
    {
        prefix = prefix.TrimEnd('/');
        StringComparison comparison = _sourceWindows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (prefix.Length > 0 && path.StartsWith(prefix, comparison) && (path.Length == prefix.Length || path[prefix.Length] == '/'))
        {
            rest = path[prefix.Length..].TrimStart('/');
            return true;
        }

        rest = "";
        return false;
    }

    private static bool IsRooted(string path) =>
        path.StartsWith('/') || path.StartsWith('~') || (path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':');

    private string Convert(string relative) => relative.Replace('/', _separator);

    private string Join(string root, string relative)
    {
        if (relative.Length == 0)
        {
            return root;
        }

        return root.TrimEnd('/', '\\') + _separator + Convert(relative);
    }
}
