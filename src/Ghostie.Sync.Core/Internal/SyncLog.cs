using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Internal;

/// <summary>Sync log events. Ids are stable; parameters are ids, names and counts, never memory content or secrets.</summary>
internal static partial class SyncLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Committed {Count} local change(s)")]
    public static partial void Committed(ILogger logger, int count);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Pushed {Entries} version(s) in {Packs} pack(s); head seq {Seq}")]
    public static partial void Pushed(ILogger logger, int entries, int packs, long seq);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Pulled {Entries} version(s) from device {DeviceId} (head seq {Seq})")]
    public static partial void Pulled(ILogger logger, int entries, string deviceId, long seq);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Problem with {Subject}: {Message}")]
    public static partial void Problem(ILogger logger, string subject, string message);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Conflict on memory {MemoryId}: {Count} concurrent version(s)")]
    public static partial void Conflict(ILogger logger, string memoryId, int count);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "Compacted {Packs} pack(s) into {Entries} live version(s)")]
    public static partial void Compacted(ILogger logger, int packs, int entries);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "Deleted {Count} retired pack(s) acknowledged by every known device")]
    public static partial void RetiredDeleted(ILogger logger, int count);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "Recovered own head seq {Seq} written by an interrupted push")]
    public static partial void RecoveredOwnHead(ILogger logger, long seq);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Information, Message = "Removed {Count} temporary file(s) left in the home by an interrupted process")]
    public static partial void LeftoversRemoved(ILogger logger, int count);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Warning, Message = "Device renamed; {Count} unpushed version(s) made again under the new id")]
    public static partial void Renamed(ILogger logger, int count);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Information, Message = "Key epoch {Epoch:x8} started by the scheduled rotation (the previous one was {AgeDays} days old)")]
    public static partial void EpochRotated(ILogger logger, uint epoch, long ageDays);
}
