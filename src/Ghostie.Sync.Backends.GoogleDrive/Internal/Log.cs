using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.GoogleDrive.Internal;

/// <summary>Google Drive backend log events. Ids are stable; tokens, contents and session URIs are never parameters.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4601, Level = LogLevel.Warning, Message = "Google Drive request {Operation} failed with HTTP {Status} {Reason}")]
    public static partial void RequestFailed(ILogger logger, string operation, int status, string? reason);

    [LoggerMessage(EventId = 4602, Level = LogLevel.Information, Message = "Google Drive refused the access token; asking the token provider for a new one")]
    public static partial void RefreshingToken(ILogger logger);

    [LoggerMessage(EventId = 4603, Level = LogLevel.Information, Message = "Resuming the upload of {Name} at byte {Offset} after a failed chunk")]
    public static partial void ResumingUpload(ILogger logger, string name, long offset);

    [LoggerMessage(EventId = 4604, Level = LogLevel.Information, Message = "Cleanup removed {Files} duplicate file(s) from {Store}")]
    public static partial void CleanedUp(ILogger logger, int files, string store);
}
