using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ghostie.Sync;
using Ghostie.Sync.KnowledgeGraph;

namespace Ghostie.Cli.Commands;

/// <summary>
/// <c>ghostie graph sync | status --file PATH</c>: the knowledge graph of the reference MCP memory server
/// (<c>MEMORY_FILE_PATH</c>) kept in step across devices through this home's repository (docs/knowledge-graph.md).
/// </summary>
internal static class GraphCommands
{
    public const string FileVariable = "MEMORY_FILE_PATH";

    public static Command Create(CliApplication app)
    {
        var graph = new Command("graph", "Sync the knowledge graph file of the MCP memory server (@modelcontextprotocol/server-memory) across your devices, merged per entity, observation and relation.");
        graph.Subcommands.Add(Sync(app));
        graph.Subcommands.Add(Status(app));
        return graph;
    }

    private static Option<string> FileOption() => new("--file")
    {
        Description = $"The memory server's graph file (its {FileVariable}). Default: ${FileVariable}.",
        HelpName = "path",
    };

    private static string RequireFile(string? file) =>
        !string.IsNullOrWhiteSpace(file) ? file
        : Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
        : throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"No graph file: give --file PATH (the memory server's {FileVariable}), or set {FileVariable}.");

    private static Command Sync(CliApplication app)
    {
        Option<string> file = FileOption();
        Option<double?> wait = BusyWait.CreateOption();
        var command = new Command("sync",
            "Record the graph file's changes since the last graph sync, sync this home with the repository, and write the merged graph to the file (atomically, only while the server is not writing it).")
        {
            file, wait,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string path = RequireFile(parse.GetValue(file));
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            var sync = new KnowledgeGraphSync(manager, new KnowledgeGraphSyncOptions { FilePath = path });
            GraphSyncResult result = await BusyWait.RunAsync(context, parse.GetValue(wait), () => sync.SyncAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.Document(new GraphSyncDocument(result.FilePath, result.LocalAdditions, result.LocalDeletions, result.MemorySync.Uploaded, result.MemorySync.Downloaded,
                    result.FileWritten, result.Attempts, result.Graph.Entities.Count, result.Graph.ObservationCount, result.Graph.Relations.Count,
                    Conflicts(result.Conflicts), Kept(result.KeptLines), Hidden(result.HiddenObservations),
                    result.Problems.Select(p => new GraphProblemDocument(p.Code.ToString(), p.Subject, p.Message)).ToArray(), result.Success), GraphJson.Output.GraphSyncDocument);
            }
            else
            {
                context.Line($"Graph {result.FilePath}: {SyncCommands.Count(result.Graph.Entities.Count, "entity")}, {SyncCommands.Count(result.Graph.ObservationCount, "observation")}, {SyncCommands.Count(result.Graph.Relations.Count, "relation")}.");
                context.Line($"Recorded {SyncCommands.Count(result.LocalAdditions, "addition")} and {SyncCommands.Count(result.LocalDeletions, "deletion")} from the file; pushed {SyncCommands.Count(result.MemorySync.Uploaded, "change")}, pulled {SyncCommands.Count(result.MemorySync.Downloaded, "change")}.");
                context.Line(result.FileWritten ? "Wrote the merged graph to the file." : "The file already held the merged graph.");
                foreach (HiddenObservations hidden in result.HiddenObservations)
                {
                    context.Line($"{SyncCommands.Count(hidden.Count, "observation")} of the deleted entity '{hidden.EntityName}' kept in the repository; they return when the entity is created again.");
                }
            }

            foreach (SyncProblem problem in result.Problems)
            {
                context.Warn($"problem ({problem.Code}): {problem.Message}");
            }

            WarnConflicts(context, result.Conflicts);
            return result.Success ? ExitCodes.Success : ExitCodes.CompletedWithProblems;
        });
        return command;
    }

    private static Command Status(CliApplication app)
    {
        Option<string> file = FileOption();
        var command = new Command("status", "Show the graph file's changes not yet synced, entity conflicts and kept lines, from local state (no network request).") { file };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string path = RequireFile(parse.GetValue(file));
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            GraphStatus status = await new KnowledgeGraphSync(manager, new KnowledgeGraphSyncOptions { FilePath = path }).GetStatusAsync(cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.Document(new GraphStatusDocument(status.FilePath, status.FileExists, status.SyncedBefore, status.Graph.Entities.Count, status.Graph.ObservationCount,
                    status.Graph.Relations.Count, status.PendingAdditions, status.PendingDeletions, Conflicts(status.Conflicts), Kept(status.KeptLines),
                    Hidden(status.HiddenObservations)), GraphJson.Output.GraphStatusDocument);
            }
            else
            {
                context.Line($"Graph file:      {status.FilePath}{(status.FileExists ? "" : " (missing)")}");
                context.Line($"Synced before:   {(status.SyncedBefore ? "yes" : "no")}");
                context.Line($"In the file:     {SyncCommands.Count(status.Graph.Entities.Count, "entity")}, {SyncCommands.Count(status.Graph.ObservationCount, "observation")}, {SyncCommands.Count(status.Graph.Relations.Count, "relation")}");
                context.Line($"Not yet synced:  {SyncCommands.Count(status.PendingAdditions, "addition")}, {SyncCommands.Count(status.PendingDeletions, "deletion")}");
                context.Line($"Conflicts:       {status.Conflicts.Count}");
                context.Line($"Kept lines:      {status.KeptLines.Count}");
                foreach (HiddenObservations hidden in status.HiddenObservations)
                {
                    context.Line($"Waiting:         {SyncCommands.Count(hidden.Count, "observation")} of the deleted entity '{hidden.EntityName}'");
                }
            }

            foreach (GraphFileLine line in status.KeptLines)
            {
                context.Warn($"line {line.LineNumber} of {status.FilePath} is kept as it is and not synced: {line.Problem}. Fix or remove it.");
            }

            WarnConflicts(context, status.Conflicts);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WarnConflicts(CliContext context, IReadOnlyList<GraphEntityConflict> conflicts)
    {
        foreach (GraphEntityConflict conflict in conflicts)
        {
            string versions = string.Join(", ", conflict.Versions.Select(v => $"'{v.EntityType ?? "(deleted)"}' from {v.DeviceId}"));
            context.Warn($"entity '{conflict.EntityName}' has concurrent types: {versions}; the file shows the first. Resolve with 'ghostie sync conflict resolve {conflict.MemoryId} --keep mine|theirs', then run 'ghostie graph sync'.");
        }
    }

    private static GraphConflictDocument[] Conflicts(IReadOnlyList<GraphEntityConflict> conflicts) =>
        conflicts.Select(c => new GraphConflictDocument(c.EntityName, c.MemoryId, c.Versions.Select(v => new GraphConflictVersionDocument(v.DeviceId, v.EntityType)).ToArray())).ToArray();

    private static GraphKeptLineDocument[] Kept(IReadOnlyList<GraphFileLine> lines) => lines.Select(l => new GraphKeptLineDocument(l.LineNumber, l.Problem)).ToArray();

    private static GraphHiddenDocument[] Hidden(IReadOnlyList<HiddenObservations> hidden) => hidden.Select(h => new GraphHiddenDocument(h.EntityName, h.Count)).ToArray();
}

internal sealed record GraphSyncDocument(string File, int LocalAdditions, int LocalDeletions, int Uploaded, int Downloaded, bool FileWritten, int Attempts,
    int Entities, int Observations, int Relations, IReadOnlyList<GraphConflictDocument> Conflicts, IReadOnlyList<GraphKeptLineDocument> KeptLines,
    IReadOnlyList<GraphHiddenDocument> HiddenObservations, IReadOnlyList<GraphProblemDocument> Problems, bool Success);

internal sealed record GraphStatusDocument(string File, bool FileExists, bool SyncedBefore, int Entities, int Observations, int Relations,
    int PendingAdditions, int PendingDeletions, IReadOnlyList<GraphConflictDocument> Conflicts, IReadOnlyList<GraphKeptLineDocument> KeptLines,
    IReadOnlyList<GraphHiddenDocument> HiddenObservations);

internal sealed record GraphConflictDocument(string Entity, string MemoryId, IReadOnlyList<GraphConflictVersionDocument> Versions);

internal sealed record GraphConflictVersionDocument(string DeviceId, string? EntityType);

internal sealed record GraphKeptLineDocument(int Line, string Problem);

internal sealed record GraphHiddenDocument(string Entity, int Observations);

internal sealed record GraphProblemDocument(string Code, string Subject, string Message);

/// <summary>The graph commands' --json documents (snake_case, like the others; docs/cli.md describes them).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(GraphSyncDocument))]
[JsonSerializable(typeof(GraphStatusDocument))]
internal sealed partial class GraphJson : JsonSerializerContext
{
    public static GraphJson Output { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
