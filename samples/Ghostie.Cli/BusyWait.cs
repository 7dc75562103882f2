using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Ghostie.Sync;

namespace Ghostie.Cli;

/// <summary>
/// <c>--wait [SECONDS]</c> for the commands that take the home's lock (push, pull, conflict resolve): when another process
/// holds it, try again until it lets go or the deadline passes, instead of failing at once with exit code 8. The lock is
/// taken before anything is done, so a try that finds it held changed nothing and can simply be repeated.
/// </summary>
internal static class BusyWait
{
    /// <summary>How long <c>--wait</c> without a number waits.</summary>
    public const double DefaultSeconds = 60;

    /// <summary>The longest wait accepted: a day.</summary>
    public const double MaxSeconds = 86_400;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>The <c>--wait</c> option: absent, null; bare, the default (see <see cref="ExpandBareWait"/>).</summary>
    public static Option<double?> CreateOption() => new("--wait")
    {
        Description = $"When another process is syncing this home, wait for it up to this many seconds (default {DefaultSeconds:0}) instead of failing with exit code 8.",
        HelpName = "seconds",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = Parse,
    };

    private static double? Parse(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return DefaultSeconds;
        }

        string token = result.Tokens[0].Value;
        if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || !(seconds >= 0 && seconds <= MaxSeconds))
        {
            result.AddError($"--wait {token}: give 0 to {MaxSeconds:0} seconds, or leave out the number for {DefaultSeconds:0}.");
        }

        return seconds;
    }

    /// <summary>
    /// Gives a bare <c>--wait</c> its default explicitly, so that a word after it that is not a number (the id of
    /// <c>conflict resolve --wait &lt;id&gt;</c>) stays the command's argument: the parser would otherwise take it as the seconds.
    /// Nothing after <c>--</c> is touched (memory content).
    /// </summary>
    /// <param name="args">The command line.</param>
    public static string[] ExpandBareWait(string[] args)
    {
        var result = new List<string>(args.Length + 1);
        bool literal = false;
        for (int i = 0; i < args.Length; i++)
        {
            result.Add(args[i]);
            literal |= args[i] == "--";
            if (!literal && args[i] == "--wait" && (i + 1 == args.Length || !IsSeconds(args[i + 1])))
            {
                result.Add(DefaultSeconds.ToString(CultureInfo.InvariantCulture));
            }
        }

        return [.. result];
    }

    // A number, or a negative one (refused by the parser with its own message rather than taken for an option).
    private static bool IsSeconds(string token) => double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>Runs <paramref name="operation"/>; while it fails because the home's lock is held, tries again until <paramref name="waitSeconds"/> pass.</summary>
    /// <param name="context">Where the one "waiting" hint goes.</param>
    /// <param name="waitSeconds">The value of <c>--wait</c>; null: no retry.</param>
    /// <param name="operation">The locking operation.</param>
    /// <param name="cancellationToken">Cancels the wait (Ctrl+C).</param>
    /// <exception cref="GhostieSyncException">Still busy at the deadline (<see cref="GhostieErrorCode.Busy"/>), or any error of the operation.</exception>
    public static async Task<T> RunAsync<T>(CliContext context, double? waitSeconds, Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        if (waitSeconds is not { } seconds)
        {
            return await operation().ConfigureAwait(false);
        }

        var clock = Stopwatch.StartNew();
        TimeSpan deadline = TimeSpan.FromSeconds(seconds);
        bool told = false;
        while (true)
        {
            try
            {
                return await operation().ConfigureAwait(false);
            }
            catch (GhostieSyncException e) when (IsHomeLock(e))
            {
                TimeSpan left = deadline - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    throw new GhostieSyncException(GhostieErrorCode.Busy,
                        $"{e.Message} It was still busy after waiting {seconds.ToString("0.#", CultureInfo.InvariantCulture)} s (--wait); wait longer, or see which process holds {Path.Combine(context.Home.SyncPath, ".lock")}.",
                        isTransient: true, e);
                }

                if (!told)
                {
                    context.Hint($"another process is syncing {context.Home.Root}; waiting up to {seconds.ToString("0.#", CultureInfo.InvariantCulture)} s for it (--wait)...");
                    told = true;
                }

                await Task.Delay(left < PollInterval ? left : PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // The home's lock (LocalLock in Ghostie.Sync.Core) reports Busy with the IOException of the lock file it could not open;
    // other Busy errors (a handoff package claimed by another device) are not waited for.
    private static bool IsHomeLock(GhostieSyncException e) => e.Code == GhostieErrorCode.Busy && e.InnerException is IOException;
}
