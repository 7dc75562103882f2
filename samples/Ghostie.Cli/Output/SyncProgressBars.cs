using Ghostie.Sync;
using Spectre.Console;

namespace Ghostie.Cli.Output;

/// <summary>Shows a sync's <see cref="SyncProgress"/> reports as Spectre progress bars, one per stage.</summary>
internal sealed class SyncProgressBars : IProgress<SyncProgress>
{
    private readonly ProgressContext _context;
    private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    private SyncProgressBars(ProgressContext context) => _context = context;

    /// <summary>Runs <paramref name="work"/> under live progress bars on stdout; they are cleared when it ends.</summary>
    /// <param name="work">The sync operation, given the progress sink.</param>
    public static Task<T> RunAsync<T>(Func<IProgress<SyncProgress>, Task<T>> work) =>
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var bars = new SyncProgressBars(context);
                try
                {
                    return await work(bars).ConfigureAwait(false);
                }
                finally
                {
                    bars.CompleteAll();
                }
            });

    /// <inheritdoc />
    public void Report(SyncProgress value)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(value.Stage, out ProgressTask? task))
            {
                task = _context.AddTask(Describe(value.Stage));
                _tasks.Add(value.Stage, task);
            }

            if (value.Total < 0)
            {
                task.IsIndeterminate = true; // scanning: the number of files is not known in advance
            }
            else
            {
                task.IsIndeterminate = false;
                task.MaxValue = Math.Max(1, value.Total);
                task.Value = Math.Min(value.Done, task.MaxValue);
            }
        }
    }

    private void CompleteAll()
    {
        lock (_lock)
        {
            foreach (ProgressTask task in _tasks.Values)
            {
                task.IsIndeterminate = false;
                task.Value = task.MaxValue;
                task.StopTask();
            }
        }
    }

    private static string Describe(string stage) => stage switch
    {
        "scan" => "Scanning memories",
        "upload" => "Uploading",
        "download" => "Downloading",
        "apply" => "Applying",
        _ => Markup.Escape(stage),
    };
}
