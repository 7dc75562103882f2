using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Handoff.Internal;

/// <summary>Handoff log events. Ids are stable (5001-5099); no secret, key, title or conversation text is ever a parameter.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Handoff package {PackageId} stored: {StoredBytes} bytes, {SecretsRemoved} secret(s) scrubbed")]
    public static partial void Stored(ILogger logger, string packageId, long storedBytes, int secretsRemoved);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Handoff package {PackageId} resumed with profile {Profile}: {Agents} agent(s) active, {Deferred} deferred")]
    public static partial void Resumed(ILogger logger, string packageId, string profile, int agents, int deferred);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Handoff object {ObjectName} deleted ({Reason})")]
    public static partial void Deleted(ILogger logger, string objectName, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Handoff object {ObjectName} skipped while listing: {Reason}")]
    public static partial void Skipped(ILogger logger, string objectName, string reason);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Abstractive compression failed ({ErrorType}); the extractive result is used")]
    public static partial void AbstractiveFailed(ILogger logger, string errorType);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Offline work merged: {Items} item(s) became memories")]
    public static partial void OfflineMerged(ILogger logger, int items);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "Handoff package {PackageId} queued offline")]
    public static partial void PackageQueued(ILogger logger, string packageId);
}
