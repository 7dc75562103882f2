using Microsoft.Extensions.Logging;

namespace Ghostie.Cli.Output;

/// <summary>
/// <c>--verbose</c>: the library's log events, one line each on stderr (stdout keeps only the result, so <c>--json</c>
/// stays one document): <c>ghostie: info: Pushed 1 version(s) in 1 pack(s); head seq 1 [Ghostie.Sync.MemorySyncManager 2002]</c>.
/// From Debug up. The library never puts a secret, key, passphrase, token or memory content in an event (docs/observability.md);
/// values from the repository are shown escaped (<see cref="TerminalText"/>).
/// </summary>
internal sealed class VerboseLog(TextWriter error) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(error, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
        // Only stderr.
    }

    public void Dispose()
    {
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };

    private sealed class Logger(TextWriter error, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Debug and < LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string line = $"ghostie: {Level(logLevel)}: {CliApplication.OneLine(formatter(state, exception))} [{category} {eventId.Id}]"
                + (exception is null ? "" : $" ({exception.GetType().Name})");
            lock (error)
            {
                error.WriteLine(TerminalText.Escape(line));
            }
        }
    }
}
