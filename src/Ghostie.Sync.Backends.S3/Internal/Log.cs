using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.S3.Internal;

/// <summary>The S3 backend's log lines (never a key, a secret or an object's content).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "{Backend}: conditional writes {Outcome}")]
    public static partial void ConditionalWritesProbed(ILogger logger, string backend, string outcome);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "{Backend}: could not abort the multipart upload of '{Name}'; its parts stay billed until a lifecycle rule (AbortIncompleteMultipartUpload) removes them")]
    public static partial void AbortFailed(ILogger logger, string backend, string name, Exception exception);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Debug, Message = "{Backend}: uploaded '{Name}' in {Parts} parts")]
    public static partial void MultipartCompleted(ILogger logger, string backend, string name, int parts);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "{Backend}: starting the multipart upload of '{Name}' again: {Reason}")]
    public static partial void MultipartRestarted(ILogger logger, string backend, string name, string reason);
}
