using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.AzureBlob.Internal;

/// <summary>Log events of the Azure backend (ids 4201-4299). Never a key, a SAS, a URL query or object content.</summary>
internal static partial class AzureBlobLog
{
    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Created Azure container {Container} at {Endpoint}")]
    public static partial void ContainerCreated(ILogger logger, string container, string endpoint);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Debug, Message = "Azure {Operation} failed: HTTP {Status} {ServiceCode}")]
    public static partial void RequestFailed(ILogger logger, string operation, int status, string? serviceCode);

    [LoggerMessage(EventId = 4203, Level = LogLevel.Information, Message = "Azure upload of '{Name}' starts again: {Reason}")]
    public static partial void UploadRestarted(ILogger logger, string name, string reason);
}
