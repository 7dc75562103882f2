using System.Text;

namespace Ghostie.Sync.Handoff.Importers;

/// <summary>
/// Finds the project instructions a coding agent loaded for a session: the CLAUDE.md files Claude Code reads, the
/// user's (<c>~/.claude/CLAUDE.md</c>) first, then from the filesystem root down to the session's working directory
/// <c>CLAUDE.md</c>, <c>.claude/CLAUDE.md</c> and <c>CLAUDE.local.md</c> of each folder. Only files that exist and can be
/// read are taken, each capped at <see cref="MaxBytes"/> and all together at <see cref="MaxTotalBytes"/>; like the rest of
/// the conversation they are scrubbed of secrets before the package leaves the device.
/// </summary>
public static class ProjectInstructions
{
    /// <summary>The most bytes of one file that are carried (16 kB); the rest is cut and the file marked truncated.</summary>
    public const int MaxBytes = 16_384;

    /// <summary>The most bytes of all files together (64 kB); files past it are left out.</summary>
    public const int MaxTotalBytes = 65_536;

    private static readonly string[] FileNames = ["CLAUDE.md", Path.Combine(".claude", "CLAUDE.md"), "CLAUDE.local.md"];

    /// <summary>The instruction files for a session that ran in <paramref name="workingDirectory"/>.</summary>
    /// <param name="workingDirectory">The session's working directory (its cwd); nothing is found when null or not a folder here.</param>
    /// <param name="homeDirectory">The user's home, for <c>~/.claude/CLAUDE.md</c>; null leaves the user's file out.</param>
    public static List<ProjectInstructionFile> Find(string? workingDirectory, string? homeDirectory)
    {
        var files = new List<ProjectInstructionFile>();
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(homeDirectory))
        {
            candidates.Add(Path.Combine(homeDirectory, ".claude", "CLAUDE.md"));
        }

        if (!string.IsNullOrEmpty(workingDirectory) && Path.IsPathFullyQualified(workingDirectory) && Directory.Exists(workingDirectory))
        {
            var folders = new List<string>();
            for (DirectoryInfo? folder = new(workingDirectory); folder is not null; folder = folder.Parent)
            {
                folders.Add(folder.FullName);
            }

            folders.Reverse();
            candidates.AddRange(folders.SelectMany(f => FileNames.Select(n => Path.Combine(f, n))));
        }

        int total = 0;
        foreach (string path in candidates.Distinct(StringComparer.Ordinal))
        {
            if (total >= MaxTotalBytes)
            {
                break;
            }

            if (Read(path, Math.Min(MaxBytes, MaxTotalBytes - total)) is { } file)
            {
                files.Add(file);
                total += Encoding.UTF8.GetByteCount(file.Text);
            }
        }

        return files;
    }

    private static ProjectInstructionFile? Read(string path, int cap)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            using FileStream stream = File.OpenRead(path);
            byte[] buffer = new byte[cap + 1];
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            bool truncated = read > cap;
            int length = Math.Min(read, cap);
            if (truncated)
            {
                while (length > 0 && (buffer[length] & 0xC0) == 0x80)
                {
                    length--; // do not split a UTF-8 sequence
                }
            }

            string text = Encoding.UTF8.GetString(buffer, 0, length);
            return text.Trim().Length == 0 ? null : new ProjectInstructionFile { Path = path, Text = text, Truncated = truncated };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // unreadable: not carried
        }
    }
}
