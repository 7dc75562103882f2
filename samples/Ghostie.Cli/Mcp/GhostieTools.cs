using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Ghostie.Cli.Commands;
using Ghostie.Cli.Output;
using Ghostie.Sync;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff;
using Ghostie.Sync.Handoff.Importers;
using ModelContextProtocol.Protocol;

namespace Ghostie.Cli.Mcp;

/// <summary>What a tool returns: its document (the structured content, and as JSON text the text content).</summary>
internal sealed record ToolOutput(JsonElement Structured, string Text)
{
    public static ToolOutput Of<T>(T document, JsonTypeInfo<T> typeInfo) =>
        new(JsonSerializer.SerializeToElement(document, typeInfo), JsonSerializer.Serialize(document, typeInfo));
}

/// <summary>One tool: how it is listed, the arguments it takes, and what it does.</summary>
internal sealed record GhostieTool(Tool Definition, IReadOnlyList<string> Arguments, Func<CliContext, ToolArguments, CancellationToken, Task<ToolOutput>> Run);

/// <summary>
/// The tools of <c>ghostie mcp</c>. Each runs the same library path as its CLI command (memory add/list/show/rm/search,
/// sync, handoff create/list/resume); docs/mcp.md lists them with their arguments and results.
/// </summary>
internal static class GhostieTools
{
    /// <summary>The longest short text argument (a query, a title, a path).</summary>
    internal const int MaxShortText = 4096;

    /// <summary>The longest category.</summary>
    internal const int MaxCategory = 128;

    /// <summary>The largest <c>context</c> object of a memory, as JSON.</summary>
    internal const int MaxContextBytes = 64 * 1024;

    /// <summary>The most messages, and the largest transcript as JSON, that create_handoff takes inline.</summary>
    internal const int MaxMessages = 100_000;

    internal const int MaxMessagesBytes = 64 * 1024 * 1024;

    /// <summary>The longest wait for another process syncing the home (sync_now's wait_seconds).</summary>
    internal const int MaxWaitSeconds = 300;

    private const int DefaultListLimit = 100;
    private const int DefaultWaitSeconds = 30;
    private static readonly string[] Directions = ["both", "push", "pull"];
    private static readonly string[] Profiles = ["ios", "android", "web", "desktop"];
    private static readonly string[] Formats = ["auto", "claude-code", "chat"];

    /// <summary>All tools, by name.</summary>
    public static IReadOnlyDictionary<string, GhostieTool> All { get; } = Build().ToDictionary(t => t.Definition.Name, StringComparer.Ordinal);

    private static IEnumerable<GhostieTool> Build()
    {
        yield return Tool("remember", "Remember",
            "Record a new memory on this device (no passphrase needed). It is encrypted and uploaded to the user's other devices by the next sync. Returns the memory with its id.",
            [
                ("content", InputSchema.String($"The memory's text, kept exactly (at most {MemoryCommands.MaxContentBytes / (1024 * 1024)} MiB of UTF-8).")),
                ("category", InputSchema.String($"A category, for example 'preference' or 'network'. Default: {MemoryCommands.DefaultCategory}.", MaxCategory)),
                ("context", InputSchema.AnyObject("Free-form JSON kept with the memory, for example {\"source\": \"chat\"}.")),
            ],
            ["content"], new ToolAnnotations { ReadOnlyHint = false, DestructiveHint = false, IdempotentHint = false, OpenWorldHint = false },
            (context, args, _) =>
            {
                string content = args.RequiredText("content", MemoryCommands.MaxContentBytes, "the memory's text");
                string category = args.OptionalString("category", MaxCategory) ?? MemoryCommands.DefaultCategory;
                JsonElement? extra = args.OptionalObject("context", MaxContextBytes);
                return Task.FromResult(ToolOutput.Of(MemoryCommands.Remember(context.Home, content, category, extra), CliJson.Output.MemoryRecord));
            });

        yield return Tool("recall", "Recall memories",
            "Find the memories closest to a text (lexical similarity over words and word pieces, computed on this device), best first, with their scores.",
            [
                ("query", InputSchema.String("What to look for.", MaxShortText)),
                ("top", InputSchema.Integer("How many results at most.", 1, MemorySearch.MaxTop, 10)),
                ("category", InputSchema.String("Only memories of this category.", MaxCategory)),
                ("min_score", InputSchema.Number("Leave out results scoring below this cosine similarity. Default: leave out only memories sharing nothing with the query.", -1, 1)),
            ],
            ["query"], ReadOnly,
            async (context, args, cancellationToken) =>
            {
                string query = args.RequiredString("query", MaxShortText, "the text to look for");
                if (!query.Any(char.IsLetterOrDigit))
                {
                    throw ToolArguments.Invalid("'query' needs at least one letter or digit.");
                }

                int top = args.OptionalInteger("top", 1, MemorySearch.MaxTop) ?? 10;
                string? category = args.OptionalString("category", MaxCategory);
                float? minScore = args.OptionalNumber("min_score", -1, 1) is { } score ? (float)score : null;
                MemorySearchDocument found = await MemorySearch.SearchAsync(context.Home, query, top, category, minScore, context.Warn, cancellationToken).ConfigureAwait(false);
                return ToolOutput.Of(found, CliJson.Output.MemorySearchDocument);
            });

        yield return Tool("list_memories", "List memories",
            $"List the memories of this device (its own and those synced from the user's other devices), oldest first. With more than 'limit', the newest are returned and 'omitted' tells how many older ones were left out.",
            [
                ("category", InputSchema.String("Only memories of this category.", MaxCategory)),
                ("limit", InputSchema.Integer("How many memories at most.", 1, 1000, DefaultListLimit)),
            ],
            [], ReadOnly,
            (context, args, _) =>
            {
                string? category = args.OptionalString("category", MaxCategory);
                int limit = args.OptionalInteger("limit", 1, 1000) ?? DefaultListLimit;
                (List<MemoryRecord> memories, List<MalformedFileDocument> problems) = MemoryCommands.Scan(context.Home, category);
                int omitted = Math.Max(0, memories.Count - limit);
                foreach (MalformedFileDocument problem in problems)
                {
                    context.Warn($"problem ({nameof(GhostieErrorCode.MalformedLocalFile)}): {problem.Path} is not a valid memory ({problem.Problem}); it was skipped.");
                }

                return Task.FromResult(ToolOutput.Of(new MemoryPageDocument(memories.Count, omitted, memories.GetRange(omitted, memories.Count - omitted), problems),
                    McpJson.Output.MemoryPageDocument));
            });

        yield return Tool("show_memory", "Show a memory",
            "Show one memory by id, with its category, device, time, context and sync state. The content is exact.",
            [("id", InputSchema.String("The memory id (as remember, list_memories or recall returned it).", 128))],
            ["id"], ReadOnly,
            (context, args, _) =>
            {
                string id = MemoryCommands.ValidId(args.RequiredString("id", 128, "the memory id"));
                return Task.FromResult(ToolOutput.Of(MemoryCommands.Get(context.Home, id), CliJson.Output.MemoryRecord));
            });

        yield return Tool("forget", "Forget a memory",
            "Delete a memory on this device; the next sync deletes it on the user's other devices too.",
            [("id", InputSchema.String("The memory id.", 128))],
            ["id"], new ToolAnnotations { ReadOnlyHint = false, DestructiveHint = true, IdempotentHint = false, OpenWorldHint = false },
            (context, args, _) =>
            {
                string id = MemoryCommands.ValidId(args.RequiredString("id", 128, "the id of the memory to delete"));
                MemoryCommands.Remove(context.Home, id);
                return Task.FromResult(ToolOutput.Of(new MemoryRemovedDocument(id, true), CliJson.Output.MemoryRemovedDocument));
            });

        yield return Tool("sync_now", "Sync now",
            "Sync this device with the user's encrypted repository now: pull other devices' changes, then push this device's (or only one direction). Needs sync set up with 'ghostie sync setup'.",
            [
                ("direction", InputSchema.Choice("both: pull, then push; push: upload only; pull: download only.", Directions, "both")),
                ("wait_seconds", InputSchema.Integer("When another process is syncing this device, wait up to this many seconds for it.", 0, MaxWaitSeconds, DefaultWaitSeconds)),
            ],
            [], new ToolAnnotations { ReadOnlyHint = false, DestructiveHint = false, IdempotentHint = true, OpenWorldHint = true },
            async (context, args, cancellationToken) =>
            {
                string direction = args.OptionalChoice("direction", Directions) ?? "both";
                int wait = args.OptionalInteger("wait_seconds", 0, MaxWaitSeconds) ?? DefaultWaitSeconds;
                using MemorySyncManager manager = await OpenRepositoryAsync(context, cancellationToken).ConfigureAwait(false);
                SyncResult result = await BusyWait.RunAsync(context, wait, () => direction switch
                {
                    "push" => manager.PushAsync(null, cancellationToken),
                    "pull" => manager.PullAsync(null, cancellationToken),
                    _ => manager.SyncAsync(null, cancellationToken),
                }, cancellationToken).ConfigureAwait(false);
                foreach (SyncProblem problem in result.Problems)
                {
                    context.Warn($"problem ({problem.Code}): {problem.Message}");
                }

                return ToolOutput.Of(new TransferDocument(direction == "both" ? "sync" : direction, result.Uploaded, result.Downloaded, result.NewConflicts,
                    manager.ListConflicts().Count, result.ObjectsWritten, result.ObjectsRead, result.Success, result.Problems.Select(ProblemDocument.From).ToArray()),
                    CliJson.Output.TransferDocument);
            });

        yield return Tool("create_handoff", "Create a handoff",
            "Hand a conversation to another of the user's devices: the transcript is scrubbed of secrets, compressed and encrypted into the repository, to be resumed there with resume_handoff. Give the messages inline, or the path of a transcript file on this device.",
            [
                ("messages", InputSchema.Array("The conversation, oldest first.", InputSchema.Message(), MaxMessages)),
                ("transcript_path", InputSchema.String("Instead of messages: a transcript file on this device (a Claude Code session .jsonl, or a chat JSON array).", MaxShortText)),
                ("format", InputSchema.Choice("The transcript file's format (with transcript_path).", Formats, "auto")),
                ("to", InputSchema.String("The device id to hand it to. Default: any device of the repository (the first to resume it consumes it).", 64)),
                ("title", InputSchema.String("A title. Default: the transcript's summary, else its last request.", MaxShortText)),
                ("ttl_hours", InputSchema.Number("Hours until the package expires and is deleted. Default: 168 (7 days).", 0, HandoffCommands.MaxTtlHours, minimumExclusive: true)),
            ],
            [], new ToolAnnotations { ReadOnlyHint = false, DestructiveHint = false, IdempotentHint = false, OpenWorldHint = true },
            async (context, args, cancellationToken) =>
            {
                JsonElement? messages = args.OptionalArray("messages", MaxMessages, MaxMessagesBytes);
                string? path = args.OptionalString("transcript_path", MaxShortText);
                string? format = args.OptionalChoice("format", Formats);
                string? to = args.OptionalString("to", 64);
                string? title = args.OptionalString("title", MaxShortText);
                double? ttl = args.OptionalNumber("ttl_hours", 0, HandoffCommands.MaxTtlHours, minExclusive: true);
                if ((messages is null) == (path is null))
                {
                    throw ToolArguments.Invalid("Give the conversation one way: 'messages' or 'transcript_path' (exactly one of them).");
                }

                if (format is not null && path is null)
                {
                    throw ToolArguments.Invalid("'format' applies to 'transcript_path' only; inline 'messages' are always chat messages.");
                }

                HandoffCommands.ValidateCreate(to, ttl);
                ConversationTranscript transcript;
                if (path is not null)
                {
                    transcript = await TranscriptImporter.ImportFileAsync(Path.GetFullPath(path), HandoffCommands.FormatFromName(format ?? "auto"), cancellationToken)
                        .ConfigureAwait(false);
                }
                else
                {
                    using var stream = new MemoryStream(Encoding.UTF8.GetBytes(messages!.Value.GetRawText()));
                    transcript = await ChatTranscriptImporter.ImportAsync(stream, "the 'messages' argument", "mcp-" + Guid.NewGuid().ToString("N")[..12], cancellationToken)
                        .ConfigureAwait(false);
                }

                foreach (string warning in transcript.Warnings)
                {
                    context.Warn(warning);
                }

                RequireUnlock(context.Home);
                HandoffCreateResult result = await HandoffCommands.PackAsync(context, transcript, to, title, ttl, progress: null, cancellationToken).ConfigureAwait(false);
                return ToolOutput.Of(HandoffCreatedDocument.From(result), HandoffCliJson.Output.HandoffCreatedDocument);
            });

        yield return Tool("list_handoffs", "List handoffs",
            "List the handoff packages waiting for this device, oldest first (expired ones are deleted on the way).",
            [], [], new ToolAnnotations { ReadOnlyHint = false, DestructiveHint = false, IdempotentHint = true, OpenWorldHint = true },
            async (context, _, cancellationToken) =>
            {
                RequireUnlock(context.Home);
                HandoffListing listing = await HandoffCommands.ListPendingAsync(context, cancellationToken).ConfigureAwait(false);
                return ToolOutput.Of(HandoffListDocument.From(listing), HandoffCliJson.Output.HandoffListDocument);
            });

        yield return Tool("resume_handoff", "Resume a handoff",
            "Fetch, verify and decrypt a handoff package, rebuild the conversation within a device budget, and return its context to continue from. The package is then deleted from the repository unless 'keep' is true.",
            [
                ("id", InputSchema.String("The package id, as list_handoffs shows it.", 64)),
                ("profile", InputSchema.Choice("The budget to rebuild within: ios (4,000 tokens), android (6,000), web (2,000) or desktop (32,000).", Profiles, "desktop")),
                ("workspace", InputSchema.String("Where the project lives on this device; project file paths are rewritten under it.", MaxShortText)),
                ("keep", InputSchema.Boolean("Keep the package in the repository.", false)),
            ],
            ["id"], new ToolAnnotations { ReadOnlyHint = false, DestructiveHint = true, IdempotentHint = false, OpenWorldHint = true },
            async (context, args, cancellationToken) =>
            {
                string id = args.RequiredString("id", 64, "the handoff package id");
                DeviceProfile profile = DeviceProfile.FromName(args.OptionalChoice("profile", Profiles) ?? "desktop");
                string? workspace = args.OptionalString("workspace", MaxShortText);
                bool keep = args.OptionalBoolean("keep") ?? false;
                RequireUnlock(context.Home);
                (MemorySyncManager manager, IStorageBackend backend) = await Backends.OpenWithBackendAsync(context, cancellationToken).ConfigureAwait(false);
                using HandoffService service = HandoffService.For(manager, backend, ownsManager: true);
                var options = new HandoffResumeOptions { WorkspaceRoot = workspace is null ? null : Path.GetFullPath(workspace), KeepPackage = keep };
                HandoffResumption resumption = await service.BeginResumeAsync(id, profile, options, cancellationToken).ConfigureAwait(false);
                await using (resumption.ConfigureAwait(false))
                {
                    // As 'handoff resume': the package goes only once the context is in hand; if deleting it fails, the
                    // context is still returned (it is not lost) and the package stays pending.
                    bool consumed = resumption.Consumes;
                    try
                    {
                        await resumption.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (GhostieSyncException e)
                    {
                        consumed = false;
                        context.Warn($"package {resumption.Conversation.PackageId} could not be deleted from the repository ({CliApplication.OneLine(e.Message)}); it stays pending until resumed or deleted again, or it expires.");
                    }

                    return ToolOutput.Of(HandoffResumeDocument.From(resumption.Conversation, profile, consumed, offlinePath: null), HandoffCliJson.Output.HandoffResumeDocument);
                }
            });
    }

    private static ToolAnnotations ReadOnly => new() { ReadOnlyHint = true, DestructiveHint = false, IdempotentHint = true, OpenWorldHint = false };

    /// <summary>
    /// Refuses, before the repository is opened, when it could only be unlocked at a prompt: the server's stdin is the
    /// MCP channel, so there is no prompt. The passphrase comes from <c>GHOSTIE_PASSPHRASE</c> in the server's
    /// environment or the key cached on this device, never from a tool argument.
    /// </summary>
    /// <exception cref="GhostieSyncException">Neither is there (<see cref="GhostieErrorCode.NotConfigured"/>).</exception>
    internal static void RequireUnlock(GhostieHome home)
    {
        if (home.IsConfigured && !DeviceKeyCache.ForHome(home.Root).Exists && Passphrase.FromEnvironment() is null)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured, UnlockHelp(home));
        }
    }

    /// <summary>What to do when no key is cached and no passphrase is in the environment.</summary>
    internal static string UnlockHelp(GhostieHome home) =>
        $"The repository cannot be unlocked: no key is cached on this device ({DeviceKeyCache.ForHome(home.Root).FilePath}) and {Passphrase.EnvironmentVariable} is not set in the environment of 'ghostie mcp'. "
        + $"Run 'ghostie sync setup' or 'ghostie sync pull' once on a terminal (the unlocked key is then cached), or set {Passphrase.EnvironmentVariable} where the MCP host starts 'ghostie mcp'. A tool argument never carries the passphrase.";

    private static async Task<MemorySyncManager> OpenRepositoryAsync(CliContext context, CancellationToken cancellationToken)
    {
        RequireUnlock(context.Home);
        return await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
    }

    private static GhostieTool Tool(string name, string title, string description, IReadOnlyList<(string Name, JsonObject Schema)> arguments, string[] required,
        ToolAnnotations annotations, Func<CliContext, ToolArguments, CancellationToken, Task<ToolOutput>> run)
    {
        annotations.Title = title;
        var definition = new Tool
        {
            Name = name,
            Title = title,
            Description = description,
            InputSchema = InputSchema.Object(arguments, required),
            Annotations = annotations,
        };
        return new GhostieTool(definition, arguments.Select(a => a.Name).ToArray(), run);
    }
}
