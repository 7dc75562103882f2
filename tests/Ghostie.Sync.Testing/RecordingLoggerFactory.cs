using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Testing;

/// <summary>One log event a <see cref="RecordingLoggerFactory"/> saw: its logger's category, event id and formatted message.</summary>
public sealed record RecordedLog(string Category, int EventId, LogLevel Level, string Message);

/// <summary>An <see cref="ILoggerFactory"/> that records every event of every logger it made (to check that a factory gives
/// its backend the host's loggers, and that no secret is in a log line).</summary>
public sealed class RecordingLoggerFactory : ILoggerFactory
{
    /// <summary>Every category a logger was made for, in order.</summary>
    public ConcurrentQueue<string> Categories { get; } = new();

    /// <summary>Every event logged, in order.</summary>
    public ConcurrentQueue<RecordedLog> Events { get; } = new();

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName)
    {
        Categories.Enqueue(categoryName);
        return new Logger(this, categoryName);
    }

    /// <inheritdoc/>
    public void AddProvider(ILoggerProvider provider)
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Events.Enqueue(new RecordedLog(category, eventId.Id, logLevel, formatter(state, exception)));
    }
}
