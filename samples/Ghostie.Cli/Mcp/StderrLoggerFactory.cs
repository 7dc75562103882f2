using Microsoft.Extensions.Logging;

namespace Ghostie.Cli.Mcp;

/// <summary>
/// The MCP SDK's log, one line per entry on stderr (never stdout, which carries the JSON-RPC messages), from
/// <paramref name="minimum"/> up. The SDK logs protocol events, not tool arguments or results.
/// </summary>
internal sealed class StderrLoggerFactory(TextWriter error, LogLevel minimum) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(error, minimum, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
        // Only stderr.
    }

    public void Dispose()
    {
    }

    private sealed class Logger(TextWriter error, LogLevel minimum, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string line = $"ghostie mcp: {logLevel.ToString().ToLowerInvariant()} ({category}): {CliApplication.OneLine(formatter(state, exception))}"
                + (exception is null ? "" : $" ({exception.GetType().Name}: {CliApplication.OneLine(exception.Message)})");
            lock (error)
            {
                error.WriteLine(Output.TerminalText.Escape(line));
                error.Flush();
            }
        }
    }
}
