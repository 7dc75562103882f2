using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.Postgres.Internal;

/// <summary>The PostgreSQL backend's log lines (never a connection string, a password or an object's content).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "{Backend}: migrated the Ghostie schema '{Schema}' from version {From} to {To}")]
    public static partial void SchemaMigrated(ILogger logger, string backend, string schema, int from, int to);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "{Backend}: deleted {Count} chunk(s) of uploads that never completed")]
    public static partial void AbandonedChunksDeleted(ILogger logger, string backend, int count);

    [LoggerMessage(EventId = 4303, Level = LogLevel.Information, Message = "{Backend}: retention deleted {Count} handoff object(s) last written before {Cutoff}")]
    public static partial void HandoffsSwept(ILogger logger, string backend, int count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 4304, Level = LogLevel.Warning, Message = "{Backend}: housekeeping ({Task}) failed; it is tried again on the next start")]
    public static partial void HousekeepingFailed(ILogger logger, string backend, string task, Exception exception);

    [LoggerMessage(EventId = 4305, Level = LogLevel.Warning, Message = "{Backend}: could not remove the chunks of the failed upload of '{Name}'; they are deleted once older than the abandoned-upload age")]
    public static partial void StagedCleanupFailed(ILogger logger, string backend, string name, Exception exception);
}
