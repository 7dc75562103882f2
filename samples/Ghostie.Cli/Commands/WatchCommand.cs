using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using Ghostie.Cli.Output;
using Ghostie.Sync;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie sync watch</c>: runs <see cref="BackgroundSync"/> on this home until SIGINT or SIGTERM.</summary>
internal static class WatchCommand
{
    public static Command Create(CliApplication app)
    {
        Option<double> interval = Seconds("--interval", 300, 0.1, 86_400,
            "How often to check the repository for other devices' changes (one listing; a pull only when something changed).");
        Option<double> debounce = Seconds("--debounce", 5, 0, 3_600,
            "Push local changes once no further change came for this long (at most 60 s, or this, after the first).");
        var metered = new Option<bool>("--metered") { Description = "The network is metered: defer pulls and pushes larger than --large-bytes; smaller ones still go." };
        var saver = new Option<bool>("--battery-saver") { Description = "The battery saver is on: defer large transfers as --metered does." };
        var large = new Option<long>("--large-bytes")
        {
            Description = "With --metered or --battery-saver, the estimated size above which a transfer waits.",
            HelpName = "bytes",
            DefaultValueFactory = _ => 1024 * 1024,
        };
        large.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long>() < 0)
            {
                r.AddError("--large-bytes must be 0 or more.");
            }
        });
        var command = new Command("watch",
            "Keep this home in sync until stopped (Ctrl+C or SIGTERM, exit code 0): check the repository every --interval, pull what changed, push local changes after --debounce, retry failures with backoff.")
        {
            interval, debounce, metered, saver, large,
        };
        app.SetAction(command, (context, parse, cancellationToken) => RunAsync(context, new BackgroundSyncOptions
        {
            Interval = TimeSpan.FromSeconds(parse.GetValue(interval)),
            DebounceDelay = TimeSpan.FromSeconds(parse.GetValue(debounce)),
            MaxDebounceDelay = TimeSpan.FromSeconds(Math.Max(60, parse.GetValue(debounce))),
            LargeTransferBytes = parse.GetValue(large),
        }, parse.GetValue(metered), parse.GetValue(saver), cancellationToken));
        return command;
    }

    internal static Option<double> Seconds(string name, double defaultValue, double min, double max, string description)
    {
        var option = new Option<double>(name)
        {
            Description = description,
            HelpName = "seconds",
            DefaultValueFactory = _ => defaultValue,
        };
        option.Validators.Add(r =>
        {
            double value = r.GetValueOrDefault<double>();
            if (!(value >= min && value <= max))
            {
                r.AddError($"{name} {value.ToString(CultureInfo.InvariantCulture)}: give {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)} seconds.");
            }
        });
        return option;
    }

    private static async Task<int> RunAsync(CliContext context, BackgroundSyncOptions options, bool metered, bool saver, CancellationToken cancellationToken)
    {
        // Opened before watching: a home that is not set up, a wrong passphrase or a missing repository fails at once
        // with its exit code; failures after this point are reported and retried.
        using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
        using var sync = new BackgroundSync(manager, options, metered || saver ? new FixedBackgroundSyncHints(metered, saver) : null);
        var reporter = new Reporter(context, manager);
        sync.StatusChanged += (_, status) => reporter.OnStatus(status);
        reporter.Started(options);
        await sync.RunAsync(cancellationToken).ConfigureAwait(false); // returns when Ctrl+C or SIGTERM cancels it
        reporter.Stopped();
        return ExitCodes.Success;
    }

    /// <summary>Turns status changes into lines (or JSON Lines), each reported once, when the loop next waits.</summary>
    private sealed class Reporter(CliContext context, MemorySyncManager manager)
    {
        private BackgroundSyncStatus _reported = new();

        public void Started(BackgroundSyncOptions options)
        {
            Emit(new WatchEventDocument("started", Now)
            {
                Home = context.Home.Root,
                DeviceId = manager.DeviceId,
                IntervalSeconds = options.Interval.TotalSeconds,
                DebounceSeconds = options.DebounceDelay.TotalSeconds,
            }, $"Watching {context.Home.Root} as device '{manager.DeviceId}': checking every {Format(options.Interval)}, pushing local changes {Format(options.DebounceDelay)} after they stop. Stop with Ctrl+C.");
        }

        public void Stopped() => Emit(new WatchEventDocument("stopped", Now), "Stopped. A local change not yet pushed stays on this device and goes with the next push.");

        public void OnStatus(BackgroundSyncStatus status)
        {
            if (status.State != BackgroundSyncState.Waiting)
            {
                return;
            }

            BackgroundSyncStatus before = _reported;
            _reported = status;
            if (status.LastSync != before.LastSync && status.LastResult is { } result)
            {
                Synced(result);
            }

            if (status.ConsecutiveFailures > before.ConsecutiveFailures && status.LastError is { } error)
            {
                Emit(new WatchEventDocument("failed", Now) { Code = error.Code.ToString(), Message = error.Message, Failures = status.ConsecutiveFailures, NextRun = status.NextRun },
                    null);
                if (!context.Json)
                {
                    context.Warn($"sync failed ({error.Code}): {error.Message} Trying again at {SyncCommands.Time(status.NextRun)}.");
                }
            }

            if (status.Deferred is { } deferred && deferred != before.Deferred)
            {
                string what = string.Join(" and ", new[]
                {
                    deferred.DownloadBytes is { } down ? $"a pull of about {down} bytes" : null,
                    deferred.UploadBytes is { } up ? $"a push of about {up} bytes" : null,
                }.OfType<string>());
                Emit(new WatchEventDocument("deferred", Now) { Reason = deferred.Reason, DownloadBytes = deferred.DownloadBytes, UploadBytes = deferred.UploadBytes },
                    $"Deferred {what} ({deferred.Reason}); it goes when that clears.");
            }
        }

        private void Synced(SyncResult result)
        {
            var parts = new List<string>();
            if (result.Downloaded > 0)
            {
                parts.Add($"pulled {SyncCommands.Count(result.Downloaded, "change")}");
            }

            if (result.Uploaded > 0)
            {
                parts.Add($"pushed {SyncCommands.Count(result.Uploaded, "change")}");
            }

            Emit(new WatchEventDocument("synced", Now)
            {
                Uploaded = result.Uploaded,
                Downloaded = result.Downloaded,
                NewConflicts = result.NewConflicts,
                Success = result.Success,
                Problems = result.Problems.Select(ProblemDocument.From).ToArray(),
            }, parts.Count > 0 ? $"{SyncCommands.Time(Now)}  {char.ToUpperInvariant(parts[0][0])}{string.Join(", ", parts)[1..]}." : null);
            if (context.Json)
            {
                return;
            }

            foreach (SyncProblem problem in result.Problems)
            {
                context.Warn($"problem ({problem.Code}): {problem.Message}");
            }

            if (result.NewConflicts > 0)
            {
                context.Warn($"{SyncCommands.Count(result.NewConflicts, "new conflict")}. See 'ghostie sync conflict list'.");
            }
        }

        private void Emit(WatchEventDocument document, string? line)
        {
            if (context.Json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(document, CliJsonLines.Output.WatchEventDocument));
                context.Out.Flush();
            }
            else if (line is not null)
            {
                context.Line(line);
                context.Out.Flush();
            }
        }

        private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

        private static string Format(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
    }
}
