using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>Key management log events. Ids are stable; no secret, key or plaintext is ever a parameter. Epoch ids print as 8 hex digits, as in their object names.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Repository {RepositoryId} initialized with key file {KeyFileId}")]
    public static partial void RepositoryInitialized(ILogger logger, string repositoryId, string keyFileId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Repository {RepositoryId} unlocked with key file {KeyFileId}; {EpochCount} key epoch(s), current {CurrentEpoch:x8}")]
    public static partial void Unlocked(ILogger logger, string repositoryId, string keyFileId, int epochCount, uint currentEpoch);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Unlock failed: the passphrase opens none of {KeyFileCount} key file(s)")]
    public static partial void WrongPassphrase(ILogger logger, int keyFileCount);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Key file {KeyFileId} added")]
    public static partial void KeyFileAdded(ILogger logger, string keyFileId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Key file {KeyFileId} removed")]
    public static partial void KeyFileRemoved(ILogger logger, string keyFileId);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Key epoch {Epoch:x8} created; new objects are sealed under it")]
    public static partial void EpochRotated(ILogger logger, uint epoch);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "Object {ObjectName} re-encrypted from epoch {FromEpoch:x8} to {ToEpoch:x8}")]
    public static partial void Reencrypted(ILogger logger, string objectName, uint fromEpoch, uint toEpoch);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Key file {KeyFileId} skipped: it cannot be read as a key file ({Reason})")]
    public static partial void KeyFileSkipped(ILogger logger, string keyFileId, string reason);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Information, Message = "Repository {RepositoryId} opened from the device key cache")]
    public static partial void OpenedFromCache(ILogger logger, string repositoryId);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Repository {RepositoryId} re-keyed: key file {KeyFileId} wraps a new master key, key epoch {Epoch:x8} is current; every other key file was deleted")]
    public static partial void Rekeyed(ILogger logger, string repositoryId, string keyFileId, uint epoch);
}
