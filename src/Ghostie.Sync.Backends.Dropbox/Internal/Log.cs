using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.Dropbox.Internal;

/// <summary>The backend's log lines (never a token or content).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Dropbox throttled {Operation} ({Reason}); retrying after {Seconds} s (0: backoff)")]
    public static partial void Throttled(ILogger logger, string operation, string reason, double seconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Dropbox access token for {Storage} refreshed after a 401")]
    public static partial void TokenRefreshed(ILogger logger, string storage);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Removing a damaged upload of {Name} from {Storage} failed ({Error}); it is left with a wrong content hash")]
    public static partial void CleanupFailed(ILogger logger, string name, string storage, string error);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Dropbox download of {Name} resumed at byte {Offset}")]
    public static partial void Resumed(ILogger logger, string name, long offset);
}
