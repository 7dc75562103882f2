using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.KnowledgeGraph.Internal;

/// <summary>Graph sync log events. Ids are stable; parameters are counts, line numbers and memory ids, never graph content.</summary>
internal static partial class GraphLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Wrote the merged graph ({Entities} entities, {Observations} observations, {Relations} relations) in attempt {Attempt}")]
    public static partial void Written(ILogger logger, int entities, int observations, int relations, int attempt);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "The graph file changed during attempt {Attempt} ({Outcome}); merging again")]
    public static partial void Retrying(ILogger logger, int attempt, string outcome);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Line {LineNumber} of the graph file was kept as it is and not synced: {Problem}")]
    public static partial void LineKept(ILogger logger, int lineNumber, string problem);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "Kept the addition of graph element {MemoryId} that another device deleted concurrently")]
    public static partial void AdditionKept(ILogger logger, string memoryId);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Information, Message = "Waiting for the memory server to finish writing the graph file")]
    public static partial void WaitingForServer(ILogger logger);
}
