using Ghostie.Sync.KnowledgeGraph.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.KnowledgeGraph;

/// <summary>
/// Keeps the knowledge graph file of the reference MCP memory server (<c>MEMORY_FILE_PATH</c>) in step with the
/// encrypted repository of a Ghostie home, merged per entity, observation and relation (docs/knowledge-graph.md).
/// </summary>
/// <remarks>
/// Each graph element is a memory record of the reserved category <c>knowledge-graph</c>, so the memory sync protocol
/// carries it: additions from every device are kept, deletions are tombstones, and an entity whose type two devices
/// changed differently becomes a conflict record. Local changes are found by comparing the file with the graph the
/// last graph sync left in it (a snapshot under <c>sync/graph/</c>). The file is rewritten atomically (a temporary file
/// beside it, then a rename), only when it still holds what was merged and the server is not in the middle of a write.
/// </remarks>
public sealed partial class KnowledgeGraphSync
{
    private readonly MemorySyncManager _manager;
    private readonly KnowledgeGraphSyncOptions _options;
    private readonly ILogger _logger;
    private readonly string _path;
    private readonly string _snapshotPath;
    private readonly string _lockPath;

    /// <summary>Creates the graph sync of one graph file in the manager's home.</summary>
    /// <param name="manager">The memory sync of the Ghostie home (its repository carries the graph).</param>
    /// <param name="options">The graph file and timings.</param>
    /// <param name="logger">Where events go; never receives graph content.</param>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.InvalidArgument"/> when the options are invalid, the
    /// file's folder does not exist, or the path is a folder.</exception>
    public KnowledgeGraphSync(MemorySyncManager manager, KnowledgeGraphSyncOptions options, ILogger<KnowledgeGraphSync>? logger = null)
    {
        _manager = manager ?? throw new ArgumentNullException(nameof(manager));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        try
        {
            _path = Path.GetFullPath(options.FilePath);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{options.FilePath}' is not a usable file path. Give the memory server's MEMORY_FILE_PATH.", innerException: ex);
        }

        if (Directory.Exists(_path))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{_path} is a folder. Give the memory server's graph file (its MEMORY_FILE_PATH), such as {Path.Combine(_path, "memory.jsonl")}.");
        }

        if (!Directory.Exists(Path.GetDirectoryName(_path)))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"The folder of the graph file {_path} does not exist. Check the path (the memory server's MEMORY_FILE_PATH); graph sync creates the file, not its folder.");
        }

        string folder = Path.Combine(manager.Home.SyncPath, "graph");
        string key = GraphRecords.Hash("graph-file", _path)[..16];
        _snapshotPath = Path.Combine(folder, key + ".jsonl");
        _lockPath = Path.Combine(folder, key + ".lock");
    }

    /// <summary>Called at fixed points of a sync ("merged": before the write; "renamed": right after it), so tests can
    /// play a server writing at the worst moment.</summary>
    internal Action<string>? TestHook { get; set; }

    /// <summary>The graph file's full path.</summary>
    public string FilePath => _path;

    /// <summary>
    /// Syncs the graph: records the file's changes since the last graph sync, syncs the home with the repository, and
    /// writes the merged graph to the file. When the file changes during the sync (the server wrote it), the round is
    /// repeated with the new content, up to <see cref="KnowledgeGraphSyncOptions.MaxAttempts"/> times.
    /// </summary>
    /// <param name="cancellationToken">Cancels between steps; changes already recorded stay recorded.</param>
    /// <returns>What was done, with the problems that need attention.</returns>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.Busy"/> when another graph sync of the file runs
    /// in this home, the server kept writing longer than <see cref="KnowledgeGraphSyncOptions.WriterTimeout"/>, or the
    /// file kept changing for every attempt (nothing is lost: the changes seen are recorded, the file keeps the
    /// server's writes); the memory sync's errors as it throws them.</exception>
    public async Task<GraphSyncResult> SyncAsync(CancellationToken cancellationToken = default)
    {
        using FileStream _ = AcquireLock();
        var problems = new ProblemList();
        GraphFileContent? snapshot = LoadSnapshot(problems);
        int additions = 0, deletions = 0;
        for (int attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            byte[]? baseBytes = await ReadStableAsync(problems, cancellationToken).ConfigureAwait(false);
            GraphFileContent file = MemoryGraphFile.Parse(baseBytes ?? []);
            bool inferDeletions = InferDeletions(file, baseBytes is not null, snapshot, problems);
            (int added, int deleted) = ApplyLocalChanges(Changes(file.Graph, snapshot?.Graph ?? KnowledgeGraph.Empty, inferDeletions), problems);
            additions += added;
            deletions += deleted;

            SyncResult memory = await _manager.SyncAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (await ResolveAdditionConflictsAsync(cancellationToken).ConfigureAwait(false) > 0)
            {
                memory = await _manager.PushAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            (KnowledgeGraph merged, List<HiddenObservations> hidden) = BuildFromRecords(problems);
            byte[] output = MemoryGraphFile.Serialize(merged, file.KeptLines);
            TestHook?.Invoke("merged");
            WriteOutcome outcome = baseBytes is not null && baseBytes.AsSpan().SequenceEqual(output) ? WriteOutcome.Unchanged
                : baseBytes is null && merged.Entities.Count == 0 && merged.Relations.Count == 0 ? WriteOutcome.Unchanged // no file, nothing to write
                : await WriteAsync(output, baseBytes, problems, cancellationToken).ConfigureAwait(false);
            if (outcome is WriteOutcome.Unchanged or WriteOutcome.Written)
            {
                SaveSnapshot(merged);
                if (outcome == WriteOutcome.Written)
                {
                    GraphLog.Written(_logger, merged.Entities.Count, merged.ObservationCount, merged.Relations.Count, attempt);
                }

                foreach (GraphFileLine line in file.KeptLines)
                {
                    GraphLog.LineKept(_logger, line.LineNumber, line.Problem);
                }

                problems.AddRange(memory.Problems);
                return new GraphSyncResult
                {
                    FilePath = _path,
                    LocalAdditions = additions,
                    LocalDeletions = deletions,
                    FileWritten = outcome == WriteOutcome.Written,
                    Attempts = attempt,
                    Graph = merged,
                    MemorySync = memory,
                    Conflicts = Conflicts(),
                    KeptLines = file.KeptLines,
                    HiddenObservations = hidden,
                    Problems = problems.Items,
                };
            }

            // The file changed while this round ran (before the write, or right after it). Every change of the content
            // this round read is recorded, so that content is the new baseline: the next round finds only what the
            // server wrote meanwhile, and whether or not that write saw this round's merge, nothing is taken for a deletion.
            snapshot = file with { KeptLines = [] };
            SaveSnapshot(file.Graph);
            GraphLog.Retrying(_logger, attempt, outcome.ToString());
        }

        throw new GhostieSyncException(GhostieErrorCode.Busy,
            $"The graph file {_path} kept changing while graph sync ran ({_options.MaxAttempts} attempts): the memory server is busy writing it. " +
            "Nothing was lost: every change seen is recorded for the repository and the file keeps the server's writes. Run graph sync again when the server is idle.",
            isTransient: true);
    }

    /// <summary>
    /// The file's state against the last graph sync, from local files only (no network request): changes not yet
    /// synced, conflicts, kept lines and observations waiting for their entity.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait for a server write in progress.</param>
    public async Task<GraphStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var problems = new ProblemList();
        GraphFileContent? snapshot = LoadSnapshot(problems);
        byte[]? bytes = await ReadStableAsync(problems, cancellationToken).ConfigureAwait(false);
        GraphFileContent file = MemoryGraphFile.Parse(bytes ?? []);
        bool inferDeletions = InferDeletions(file, bytes is not null, snapshot, problems);
        (List<GraphElement> additions, List<GraphElement> deletions) = Changes(file.Graph, snapshot?.Graph ?? KnowledgeGraph.Empty, inferDeletions);
        (_, List<HiddenObservations> hidden) = BuildFromRecords(problems);
        return new GraphStatus
        {
            FilePath = _path,
            FileExists = bytes is not null,
            SyncedBefore = snapshot is not null,
            Graph = file.Graph,
            PendingAdditions = additions.Count,
            PendingDeletions = deletions.Count,
            Conflicts = Conflicts(),
            KeptLines = file.KeptLines,
            HiddenObservations = hidden,
        };
    }

    /// <summary>
    /// Whether deletions may be inferred from the file: not when a line could not be read (the element missing from the
    /// graph may be on that line), and not when the file is missing (a wrong path or a removed file is not the deletion
    /// of every element on every device). The server itself writes an empty file for an empty graph.
    /// </summary>
    private bool InferDeletions(GraphFileContent file, bool exists, GraphFileContent? snapshot, ProblemList problems)
    {
        foreach (GraphFileLine line in file.KeptLines)
        {
            problems.Add(GhostieErrorCode.MalformedLocalFile, _path,
                $"Line {line.LineNumber} of {_path} is not an entity or relation ({line.Problem}). It was kept in the file as it is and not synced, and no deletion was taken from the file while it is there; fix or remove the line (the memory server fails on it too).");
        }

        foreach (string note in file.Notes)
        {
            problems.Add(GhostieErrorCode.MalformedLocalFile, _path, $"In {_path}, {note}");
        }

        if (!exists && snapshot is { Graph.Entities.Count: > 0 } or { Graph.Relations.Count: > 0 })
        {
            problems.Add(GhostieErrorCode.NotFound, _path,
                $"The graph file {_path} is missing, though graph sync wrote it before: it was written again from the repository, and nothing was taken for a deletion. To delete entities everywhere, delete them through the memory server.");
        }

        return exists && file.KeptLines.Count == 0;
    }

    private FileStream AcquireLock()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_lockPath)!);
        try
        {
            return new FileStream(_lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.Busy, $"Another graph sync of {_path} is running in this Ghostie home. Wait for it to finish, then run graph sync again.", isTransient: true, innerException: ex);
        }
    }

    private enum WriteOutcome
    {
        Unchanged,
        Written,
        ChangedBeforeWrite,
        OverwrittenAfterWrite,
    }

    /// <summary>Problems of one run, each message once.</summary>
    private sealed class ProblemList
    {
        private readonly List<SyncProblem> _items = [];
        private readonly HashSet<string> _messages = new(StringComparer.Ordinal);

        public IReadOnlyList<SyncProblem> Items => _items;

        public void Add(GhostieErrorCode code, string subject, string message)
        {
            if (_messages.Add(message))
            {
                _items.Add(new SyncProblem(code, subject, message));
            }
        }

        public void AddRange(IEnumerable<SyncProblem> problems)
        {
            foreach (SyncProblem problem in problems)
            {
                Add(problem.Code, problem.Subject, problem.Message);
            }
        }
    }
}
