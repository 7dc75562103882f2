namespace Ghostie.Cli;

/// <summary>
/// Accepts the seed's spelling of the sync commands (<c>ghostie --sync push</c>, <c>ghostie --sync=status</c>) by
/// rewriting it to the command form (<c>ghostie sync push</c>) before parsing.
/// </summary>
internal static class SeedSpelling
{
    /// <summary>Global options that take a value, so the value is not mistaken for a command word.</summary>
    private static readonly HashSet<string> OptionsWithValue = new(StringComparer.Ordinal) { "--home" };

    /// <summary>
    /// Rewrites <c>--sync</c> when it stands where a command word would (after global options only), so a memory's
    /// content or an option value that happens to be "--sync" is never touched.
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <returns>The rewritten command line (a new array), or <paramref name="args"/> when there is nothing to rewrite.</returns>
    public static string[] Rewrite(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg == "--sync")
            {
                string[] rewritten = (string[])args.Clone();
                rewritten[i] = "sync";
                return rewritten;
            }

            if (arg.StartsWith("--sync=", StringComparison.Ordinal))
            {
                return [.. args[..i], "sync", arg["--sync=".Length..], .. args[(i + 1)..]];
            }

            if (arg == "--" || !arg.StartsWith('-'))
            {
                break; // the first command word or the end of options: anything later is not the seed's spelling
            }

            if (OptionsWithValue.Contains(arg))
            {
                i++; // skip the option's value
            }
        }

        return args;
    }
}
