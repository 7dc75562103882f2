using System.Numerics.Tensors;
using System.Text.Json;
using Ghostie.Sync.Handoff.Importers;

namespace Ghostie.Sync.Handoff;

public sealed partial class HandoffService
{
    /// <summary>
    /// Builds a package without storing it: scrubs the transcript and agents of secrets, compresses the context,
    /// keeps the relevant embeddings, and writes the reconstruction instructions.
    /// </summary>
    /// <param name="request">What to hand off.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The request is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public Task<HandoffPackage> BuildAsync(HandoffRequest request, CancellationToken cancellationToken = default) =>
        BuildPackageAsync(request, _deviceId, _deviceName, _options, _compressor, _scrubber, cancellationToken);

    /// <summary>
    /// Builds a package with no repository at hand (no keys are needed until it is stored): for a device offline, which
    /// queues it (<see cref="OfflineStore.QueuePackage"/>) and stores it on reconnection with <see cref="StoreAsync"/>.
    /// </summary>
    /// <param name="request">What to hand off.</param>
    /// <param name="deviceId">This device's id.</param>
    /// <param name="deviceName">This device's display name; the id when null.</param>
    /// <param name="options">Options; defaults when null. Validated here.</param>
    /// <param name="compressor">The context compressor; <see cref="ExtractiveCompressor"/> when null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The request is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static Task<HandoffPackage> BuildOfflineAsync(HandoffRequest request, string deviceId, string? deviceName = null, HandoffOptions? options = null,
        IContextCompressor? compressor = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(deviceId) || deviceId.Length > 128 || deviceId.Any(char.IsControl))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The device id must be 1 to 128 printable characters.");
        }

        options ??= new HandoffOptions();
        options.Validate();
        return BuildPackageAsync(request, deviceId, deviceName ?? deviceId, options, compressor ?? ExtractiveCompressor.Instance, SecretScrubber.Default, cancellationToken);
    }

    private static async Task<HandoffPackage> BuildPackageAsync(HandoffRequest request, string deviceId, string deviceName, HandoffOptions options,
        IContextCompressor compressor, SecretScrubber scrubber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ConversationTranscript transcript = request.Transcript ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The handoff request has no transcript.");
        if (request.TargetDeviceId is { } target && (target.Length is 0 or > 128 || target.Any(char.IsControl)))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The target device id must be 1 to 128 printable characters.");
        }

        // Secrets go first, before anything else reads the text.
        cancellationToken.ThrowIfCancellationRequested();
        request.Progress?.Report(HandoffStage.Scrubbing);
        ScrubReport report = scrubber.Scrub(transcript);
        IReadOnlyList<AgentState> agents = (request.Agents ?? DeriveAgents(transcript)).Select(a => scrubber.Scrub(a, report)).ToArray();
        string? title = request.Title is null ? null : scrubber.Scrub(request.Title, report);

        cancellationToken.ThrowIfCancellationRequested();
        request.Progress?.Report(HandoffStage.Compressing);
        CompressedContext context = await compressor.CompressAsync(transcript, options.Compression, cancellationToken).ConfigureAwait(false);
        context = context with
        {
            AgentMemories = agents.SelectMany(a => a.MemorySnapshot).OrderByDescending(m => m.Importance).ThenBy(m => m.AgentId, StringComparer.Ordinal).Take(20).ToArray(),
        };

        cancellationToken.ThrowIfCancellationRequested();
        request.Progress?.Report(HandoffStage.SelectingEmbeddings);
        EmbeddingSet? embeddings = SelectEmbeddings(request.Embeddings, report, options, scrubber);
        DateTimeOffset now = options.TimeProvider.GetUtcNow();
        TimeSpan? ttl = request.TimeToLive ?? options.TimeToLive;
        // The person's own last instruction: never a teammate's report, a tool result or a message the host injected.
        TranscriptMessage? lastUser = transcript.LastInstruction;
        TranscriptMessage? last = transcript.Messages.LastOrDefault();
        return new HandoffPackage
        {
            PackageId = NewPackageId(),
            CreatedAt = now,
            ExpiresAt = ttl is { } t ? now + t : null,
            Source = new HandoffSource
            {
                DeviceId = deviceId,
                DeviceName = deviceName,
                Platform = options.Platform,
                ProjectRoot = transcript.ProjectRoot,
                HomeDirectory = request.HomeDirectory ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
                PathStyle = LooksWindows(transcript.ProjectRoot) ? "windows" : "posix",
            },
            TargetDeviceId = request.TargetDeviceId,
            Conversation = new ConversationMetadata
            {
                Id = transcript.Id,
                Title = title ?? transcript.Title ?? ExtractiveCompressor.Truncate(ExtractiveCompressor.OneLine(lastUser?.Text ?? transcript.Id), 80),
                CreatedAt = transcript.StartedAt,
                LastActivity = transcript.LastActivity,
                MessageCount = transcript.Messages.Count,
                TokenCount = context.Compression.OriginalTokens,
                SourceFormat = transcript.SourceFormat,
                Model = transcript.Model,
                GitBranch = transcript.GitBranch,
            },
            Context = context,
            Agents = agents,
            Embeddings = embeddings,
            Reconstruction = new ReconstructionInstructions
            {
                ContextPriorities = ContextSections.Default,
                AgentActivationOrder = agents.OrderBy(a => a.Priority).ThenBy(a => a.IsActive ? 0 : 1).ThenBy(a => a.Id, StringComparer.Ordinal).Select(a => a.Id).ToArray(),
                MemoryLoadingStrategy = "priority-then-lazy",
                ResumptionPoint = new ResumptionPoint
                {
                    Turn = last?.Index ?? 0,
                    Role = last is null ? "" : ExtractiveCompressor.RoleName(last),
                    LastUserMessage = lastUser?.Text ?? "",
                    LastUserTurn = lastUser?.Index,
                    Summary = ResumptionSummary(transcript),
                },
            },
            Scrubbing = report.ToSummary(),
        };
    }

    private static EmbeddingSet? SelectEmbeddings(EmbeddingCandidates? candidates, ScrubReport report, HandoffOptions options, SecretScrubber scrubber)
    {
        if (candidates is null)
        {
            return null;
        }

        int dimensions = candidates.Reference.Length;
        if (dimensions == 0 || string.IsNullOrWhiteSpace(candidates.Model))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "Embedding candidates need a model name and a non-empty reference vector.");
        }

        var kept = new List<EmbeddingEntry>();
        foreach (EmbeddingEntry candidate in candidates.Candidates)
        {
            if (candidate.Vector.Length != dimensions)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"Embedding '{candidate.Id}' has {candidate.Vector.Length} dimensions; the reference has {dimensions}. Vectors of one model all have the same size.");
            }

            double similarity = TensorPrimitives.CosineSimilarity(candidate.Vector, candidates.Reference);
            if (similarity >= options.SimilarityThreshold)
            {
                // An embedding's text is a piece of the conversation: it leaves the device only scrubbed, like the rest.
                kept.Add(candidate with
                {
                    Similarity = Math.Round(similarity, 6),
                    Text = candidate.Text is null ? null : scrubber.Scrub(candidate.Text, report),
                    Source = scrubber.Scrub(candidate.Source, report),
                });
            }
        }

        return new EmbeddingSet
        {
            Model = candidates.Model,
            Dimensions = dimensions,
            SimilarityThreshold = options.SimilarityThreshold,
            Reference = candidates.ReferenceName,
            Entries = kept.OrderByDescending(e => e.Similarity).ThenBy(e => e.Id, StringComparer.Ordinal).Take(options.MaxEmbeddings).ToArray(),
        };
    }

    /// <summary>
    /// The agents a transcript implies, with the state a host needs to restore them: the main assistant (model, system
    /// prompt, project instructions, todo list, permission mode, working directory), each sub-agent a Task call started
    /// (running until its result arrives, then completed or failed, with its prompt and result), and each teammate of an
    /// agent team heard from (idle, terminated or active, with its last message).
    /// </summary>
    internal static IReadOnlyList<AgentState> DeriveAgents(ConversationTranscript transcript)
    {
        TranscriptAgentState host = transcript.AgentState;
        var agents = new List<AgentState>
        {
            new()
            {
                Id = "main",
                Name = transcript.SourceFormat == ClaudeCodeTranscriptImporter.FormatName ? "Claude Code" : "assistant",
                Role = "The conversation's assistant.",
                Kind = "main",
                Status = "active",
                Priority = 0,
                IsActive = true,
                Model = transcript.Model,
                SystemPrompt = host.SystemPrompt ?? "",
                PermissionMode = host.PermissionMode,
                WorkingDirectory = host.WorkingDirectory ?? transcript.ProjectRoot,
                Todos = host.Todos.ToArray(),
                ProjectInstructions = host.ProjectInstructions.ToArray(),
                ContextWindow = new AgentContextWindow { MaxTokens = 200_000 },
            },
        };
        var results = transcript.Messages.Where(m => m.Role == TranscriptRole.Tool && m.ToolUseId is not null)
            .GroupBy(m => m.ToolUseId!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        int n = 0;
        foreach ((TranscriptMessage message, ToolCall call) in transcript.Messages.SelectMany(m => m.ToolCalls.Where(c => c.Name is "Task" or "Agent").Select(c => (m, c))))
        {
            n++;
            string type = "general-purpose", prompt = "", description = call.Summary;
            string? model = null;
            try
            {
                using JsonDocument input = JsonDocument.Parse(call.Input.Length > 0 ? call.Input : "{}");
                type = TranscriptImporter.ReadString(input.RootElement, "subagent_type") ?? type;
                prompt = TranscriptImporter.ReadString(input.RootElement, "prompt") ?? "";
                description = TranscriptImporter.ReadString(input.RootElement, "description") ?? description;
                model = TranscriptImporter.ReadString(input.RootElement, "model");
            }
            catch (JsonException)
            {
                // a chat transcript's arguments need not be JSON: keep the defaults
            }

            var window = new List<AgentMessage>();
            if (prompt.Length > 0)
            {
                window.Add(new AgentMessage { Role = "user", Text = prompt });
            }

            TranscriptMessage? result = call.Id.Length > 0 && results.TryGetValue(call.Id, out TranscriptMessage? r) ? r : null;
            if (result is { Text.Length: > 0 })
            {
                window.Add(new AgentMessage { Role = "assistant", Text = ExtractiveCompressor.Truncate(result.Text, 4_000) });
            }

            string status = result is null ? "running" : result.IsError ? "failed" : "completed";
            agents.Add(new AgentState
            {
                Id = $"task-{n}",
                Name = type,
                Role = description,
                Kind = "sub-agent",
                Status = status,
                Priority = n,
                IsActive = status == "running",
                Model = model,
                ContextWindow = new AgentContextWindow { MaxTokens = 200_000, Messages = window },
                Variables = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["started_at_turn"] = message.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["tool_use_id"] = call.Id,
                },
            });
        }

        foreach (IGrouping<string, TranscriptMessage> teammate in transcript.Messages
            .Where(m => m.Kind == MessageKind.Teammate && m.Sender is { Length: > 0 }).GroupBy(m => m.Sender!, StringComparer.Ordinal))
        {
            n++;
            TranscriptMessage last = teammate.Last();
            string status = TeammateStatus(last.Text);
            agents.Add(new AgentState
            {
                Id = "teammate-" + teammate.Key,
                Name = teammate.Key,
                Role = "A teammate of the agent team.",
                Kind = "teammate",
                Status = status,
                Priority = n,
                IsActive = status != "terminated",
                ContextWindow = new AgentContextWindow
                {
                    MaxTokens = 200_000,
                    Messages = [new AgentMessage { Role = "assistant", Text = ExtractiveCompressor.Truncate(last.Text, 4_000) }],
                },
                Variables = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["last_turn"] = last.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["messages"] = teammate.Count().ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
            });
        }

        return agents;
    }

    /// <summary>A teammate's state from its last message: Claude Code's lifecycle notes are JSON ({"type":"idle_notification"}, ...).</summary>
    private static string TeammateStatus(string text)
    {
        string trimmed = text.Trim();
        if (trimmed.StartsWith('{'))
        {
            try
            {
                using JsonDocument note = JsonDocument.Parse(trimmed);
                return TranscriptImporter.ReadString(note.RootElement, "type") switch
                {
                    "idle_notification" => "idle",
                    "teammate_terminated" or "shutdown_approved" => "terminated",
                    _ => "active",
                };
            }
            catch (JsonException)
            {
                // prose that starts with a brace
            }
        }

        return "active";
    }

    private static string ResumptionSummary(ConversationTranscript transcript)
    {
        TranscriptMessage? last = transcript.Messages.LastOrDefault(m => !m.IsSidechain);
        if (last is null)
        {
            return "";
        }

        if (last.Role == TranscriptRole.Assistant && last.ToolCalls.Count > 0)
        {
            ToolCall pending = last.ToolCalls[^1];
            return $"Waiting on the result of {pending.Name} {pending.Summary}".TrimEnd();
        }

        if (last.Kind == MessageKind.Teammate)
        {
            return $"A teammate{(last.Sender is { Length: > 0 } who ? " (" + who + ")" : "")} reported last: " + ExtractiveCompressor.Truncate(ExtractiveCompressor.OneLine(last.Text), 300);
        }

        if (last.Role == TranscriptRole.Tool)
        {
            return "The last tool result had not been answered yet" + (last.IsError ? " (it reported an error)." : ".");
        }

        TranscriptMessage? assistant = transcript.Messages.LastOrDefault(m => m.Role == TranscriptRole.Assistant && !m.IsSidechain && m.Text.Length > 0);
        return assistant is null ? "" : ExtractiveCompressor.Truncate(ExtractiveCompressor.OneLine(assistant.Text), 400);
    }

    private static bool LooksWindows(string? path) => path is { Length: >= 3 } p && char.IsAsciiLetter(p[0]) && p[1] == ':' && p[2] is '\\' or '/';
}
