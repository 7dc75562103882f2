using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Internal;

/// <summary>Background sync events. Ids are stable; parameters are codes, counts, delays and the library's own
/// messages (which never hold secrets or memory content), never another exception's message.</summary>
internal static partial class BackgroundSyncLog
{
    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Background sync started; checking every {Interval}")]
    public static partial void Started(ILogger logger, TimeSpan interval);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Debug, Message = "Checked (repository too: {Full}): remote changed {RemoteChanged} ({Devices} device(s)), {Pending} local change(s)")]
    public static partial void Checked(ILogger logger, bool full, bool remoteChanged, int devices, int pending);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Background {Operation}: {Uploaded} version(s) uploaded, {Downloaded} applied, {Problems} problem(s)")]
    public static partial void Ran(ILogger logger, string operation, int uploaded, int downloaded, int problems);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Background sync failed ({Code}, {Failures} failure(s) in a row); next try in {Delay}: {Message}")]
    public static partial void Failed(ILogger logger, GhostieErrorCode code, int failures, TimeSpan delay, string message);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Debug, Message = "Another process is syncing this home; trying again in {Delay}")]
    public static partial void Busy(ILogger logger, TimeSpan delay);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Information, Message = "Deferred a large transfer ({Reason}): download {DownloadBytes} bytes, upload {UploadBytes} bytes (limit {Limit})")]
    public static partial void Deferred(ILogger logger, string reason, long downloadBytes, long uploadBytes, long limit);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Warning, Message = "Could not watch {Path} ({Error}); local changes are pushed at the next interval")]
    public static partial void WatchFailed(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Information, Message = "Background sync stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Warning, Message = "The host's sync hints threw {Error}; treated as no constraint")]
    public static partial void HintsFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Warning, Message = "A BackgroundSync.StatusChanged handler threw {Error}; ignored")]
    public static partial void HandlerFailed(ILogger logger, string error);
}
