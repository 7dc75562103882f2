using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ghostie.Cli.Output;
using Ghostie.Sync;
using Ghostie.Sync.Handoff;
using Ghostie.Sync.Handoff.Importers;
using Microsoft.Extensions.Logging;

namespace Ghostie.Cli.Commands;

/// <summary>
/// <c>ghostie handoff create | list | resume | delete</c>: carry a conversation (a Claude Code session or a chat transcript) to
/// another device through the encrypted repository, and rebuild it there within the device's budget.
/// </summary>
internal static class HandoffCommands
{
    public static Command Create(CliApplication app)
    {
        var handoff = new Command("handoff",
            "Hand a conversation to another device: 'create' packs a transcript (secrets scrubbed, compressed, encrypted) into the repository, 'list' shows the packages waiting for this device, 'resume' rebuilds one and prints its context, 'delete' withdraws one.");
        handoff.Subcommands.Add(CreatePackage(app));
        handoff.Subcommands.Add(List(app));
        handoff.Subcommands.Add(Resume(app));
        handoff.Subcommands.Add(Delete(app));
        return handoff;
    }

    private static Command CreatePackage(CliApplication app)
    {
        var from = new Option<string>("--from") { Description = "The transcript: a Claude Code session (~/.claude/projects/<project>/<session>.jsonl), a ChatGPT or Claude.ai export's conversations.json, or a chat JSON array of {role, content}.", HelpName = "file", Required = true };
        var to = new Option<string>("--to") { Description = "The device id to hand it to. Default: any device of the repository (the first to resume it consumes it).", HelpName = "device" };
        var format = new Option<string>("--format") { Description = "The transcript format: auto (told from the content), claude-code, chatgpt, claude-ai or chat. Default: auto.", DefaultValueFactory = _ => "auto" };
        format.AcceptOnlyFromAmong("auto", "claude-code", "chatgpt", "claude-ai", "chat");
        var conversation = new Option<string>("--conversation") { Description = "For an export that holds many conversations: the id or title of the one to hand off. Default: the most recently updated.", HelpName = "id|title" };
        var offline = new Option<bool>("--offline") { Description = "Queue the package on this device instead of storing it now; it is sent by the next 'ghostie sync' or 'ghostie handoff' command that reaches the repository. Without it, a package is queued so only when the repository is out of reach." };
        var title = new Option<string>("--title") { Description = "A title. Default: the transcript's summary, else its last request." };
        var ttl = new Option<double?>("--ttl") { Description = "Hours until the package expires and is deleted. Default: 168 (7 days).", HelpName = "hours" };
        var summarizer = new Option<string>("--summarizer") { Description = "extractive (no model, the default) or openai: a model behind an OpenAI-compatible endpoint summarizes the earlier turns; if it fails, the extractive summary is used and a warning says so.", DefaultValueFactory = _ => "extractive" };
        summarizer.AcceptOnlyFromAmong("extractive", "openai");
        var endpoint = new Option<string>("--endpoint") { Description = "With --summarizer openai: the endpoint's base URL (for example https://api.openai.com/v1 or http://127.0.0.1:8080/v1). Required with openai.", HelpName = "url" };
        var model = new Option<string>("--model") { Description = "With --summarizer openai: the model name. Required with openai.", HelpName = "name" };
        var keyVariable = new Option<string>("--api-key-env") { Description = "With --summarizer openai: the environment variable holding the API key (never printed). Default: OPENAI_API_KEY; unset sends no real key (local servers need none).", DefaultValueFactory = _ => "OPENAI_API_KEY", HelpName = "variable" };
        var command = new Command("create", "Pack a transcript into an encrypted handoff package in the repository. Secrets are removed first; the count is reported.")
        {
            from, to, format, conversation, title, ttl, offline, summarizer, endpoint, model, keyVariable,
        };
        app.SetAction(command, (context, parse, cancellationToken) =>
            CreateAsync(context, parse.GetValue(from)!, parse.GetValue(to), parse.GetValue(format)!, parse.GetValue(conversation), parse.GetValue(title), parse.GetValue(ttl),
                parse.GetValue(offline),
                new SummarizerChoice(parse.GetValue(summarizer) ?? "extractive", parse.GetValue(endpoint), parse.GetValue(model), parse.GetValue(keyVariable) ?? "OPENAI_API_KEY"), cancellationToken));
        return command;
    }

    /// <summary>The summarizer options of 'handoff create'.</summary>
    internal sealed record SummarizerChoice(string Kind, string? Endpoint, string? Model, string KeyVariable)
    {
        /// <summary>Refuses incomplete or malformed openai options before anything is read or opened.</summary>
        public void Validate()
        {
            if (Kind != "openai")
            {
                if (Endpoint is not null || Model is not null)
                {
                    throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "--endpoint and --model are for --summarizer openai; add it, or leave them out.");
                }

                return;
            }

            if (string.IsNullOrWhiteSpace(Endpoint) || !Uri.TryCreate(Endpoint, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"--summarizer openai needs --endpoint with an http or https URL (got '{Endpoint}').");
            }

            if (string.IsNullOrWhiteSpace(Model))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "--summarizer openai needs --model (the model name the endpoint serves).");
            }
        }

        /// <summary>The compressor: extractive, or abstractive over the endpoint (an OpenAI chat client through Microsoft.Extensions.AI.OpenAI).</summary>
        public IContextCompressor? Compressor()
        {
            if (Kind != "openai")
            {
                return null;
            }

            // The key is read here and handed to the client only: never printed, logged or put in an error.
            string key = Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } value ? value : "no-key";
            var client = new OpenAI.Chat.ChatClient(Model!, new System.ClientModel.ApiKeyCredential(key),
                new OpenAI.OpenAIClientOptions { Endpoint = new Uri(Endpoint!), NetworkTimeout = TimeSpan.FromSeconds(120) });
            return new AbstractiveCompressor(Microsoft.Extensions.AI.OpenAIClientExtensions.AsIChatClient(client));
        }
    }

    private static async Task<int> CreateAsync(CliContext context, string from, string? to, string format, string? conversation, string? title, double? ttlHours,
        bool offline, SummarizerChoice summarizer, CancellationToken cancellationToken)
    {
        ValidateCreate(to, ttlHours);
        summarizer.Validate();
        TranscriptFormat transcriptFormat = FormatFromName(format);

        // Read the transcript before opening the repository: a wrong path costs no unlock.
        var file = new FileInfo(Path.GetFullPath(from));
        if (file.Exists && file.Length >= ProgressFromBytes && !context.Quiet && !context.Json)
        {
            context.Error.WriteLine($"ghostie: reading {from} ({Size(file.Length)})...");
        }

        ConversationTranscript transcript = await TranscriptImporter.ImportFileAsync(Path.GetFullPath(from),
            new TranscriptImportOptions { Format = transcriptFormat, Conversation = conversation }, cancellationToken).ConfigureAwait(false);
        foreach (string warning in transcript.Warnings)
        {
            context.Warn($"{from}: {warning}");
        }

        AddProjectInstructions(transcript);
        IProgress<HandoffStage>? progress = context.Quiet || context.Json || transcript.RawBytes < ProgressFromBytes ? null : new StageLines(context.Error);
        string? unreachable = null;
        if (!offline)
        {
            try
            {
                HandoffCreateResult created = await PackAsync(context, transcript, to, title, ttlHours, progress, cancellationToken, summarizer.Compressor()).ConfigureAwait(false);
                if (summarizer.Kind == "openai" && created.Package.Context.Compression.Method != "abstractive")
                {
                    context.Warn($"the {summarizer.Model} summary at {summarizer.Endpoint} failed ({created.Package.Context.Compression.Note ?? "no summary"}); the package carries the extractive summary.");
                }

                return ReportCreated(context, created);
            }
            catch (GhostieSyncException e) when (e.Code == GhostieErrorCode.BackendUnavailable)
            {
                unreachable = CliApplication.OneLine(e.Message);
            }
        }

        return await QueueAsync(context, transcript, to, title, ttlHours, unreachable, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The CLAUDE.md files of a coding-agent session's working directory (and the user's), when it is a folder here.</summary>
    internal static void AddProjectInstructions(ConversationTranscript transcript)
    {
        if (transcript.SourceFormat == ClaudeCodeTranscriptImporter.FormatName && transcript.AgentState.ProjectInstructions.Count == 0)
        {
            transcript.AgentState.ProjectInstructions.AddRange(ProjectInstructions.Find(transcript.AgentState.WorkingDirectory ?? transcript.ProjectRoot,
                Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)));
        }
    }

    /// <summary>Builds the package without the repository and queues it on this device (docs/handoff.md, "Offline").</summary>
    private static async Task<int> QueueAsync(CliContext context, ConversationTranscript transcript, string? to, string? title, double? ttlHours, string? unreachable,
        CancellationToken cancellationToken)
    {
        SyncConfiguration configuration = Backends.ReadConfiguration(context.Home);
        HandoffPackage package = await HandoffService.BuildOfflineAsync(new HandoffRequest
        {
            Transcript = transcript,
            TargetDeviceId = to,
            Title = title,
            TimeToLive = ttlHours is { } hours ? TimeSpan.FromHours(hours) : null,
        }, configuration.DeviceId, configuration.DeviceName.Length > 0 ? configuration.DeviceName : null, cancellationToken: cancellationToken).ConfigureAwait(false);
        string path = new OfflineStore(context.Home).QueuePackage(package);
        ScrubSummary scrubbed = package.Scrubbing;
        if (unreachable is not null)
        {
            context.Warn($"the repository is out of reach ({unreachable}); the package is queued on this device instead.");
        }

        context.Report(new HandoffQueuedDocument(package.PackageId, package.TargetDeviceId, package.Conversation.Title, package.Conversation.MessageCount, Queued: true, path,
                unreachable, scrubbed.SecretsRemoved, scrubbed.ByKind, package.ExpiresAt), HandoffCliJson.Output.HandoffQueuedDocument,
            $"Queued handoff {package.PackageId} for {(package.TargetDeviceId is null ? "any device" : $"device '{package.TargetDeviceId}'")} on this device: \"{package.Conversation.Title}\" ({path}).",
            scrubbed.SecretsRemoved == 0
                ? "No secrets found in the transcript."
                : $"Removed {SyncCommands.Count(scrubbed.SecretsRemoved, "secret")} before it was written ({string.Join(", ", scrubbed.ByKind.Select(p => $"{p.Key} {p.Value}"))}).",
            "It is sent, encrypted, by the next 'ghostie sync' or 'ghostie handoff' command that reaches the repository; 'ghostie handoff list' shows it meanwhile.");
        return ExitCodes.Success;
    }

    /// <summary>
    /// Sends the packages queued on this device (<c>handoff create --offline</c>, or created while the repository was out of
    /// reach): run by every command that opens the repository. A failure is a warning; what was not sent stays queued.
    /// </summary>
    internal static async Task SendQueuedAsync(CliContext context, MemorySyncManager manager, IStorageBackend backend, CancellationToken cancellationToken)
    {
        var store = new OfflineStore(context.Home);
        if (!Directory.Exists(Path.Combine(context.Home.Root, "handoff", "outbox")))
        {
            return;
        }

        try
        {
            using HandoffService service = HandoffService.For(manager, backend);
            (IReadOnlyList<HandoffCreateResult> sent, int expired) = await store.SendQueuedAsync(service, cancellationToken).ConfigureAwait(false);
            if (sent.Count > 0 && !context.Quiet)
            {
                context.Error.WriteLine($"ghostie: sent {SyncCommands.Count(sent.Count, "queued handoff package")} to the repository: {string.Join(", ", sent.Select(r => r.PackageId))}.");
            }

            if (expired > 0)
            {
                context.Warn($"dropped {SyncCommands.Count(expired, "queued handoff package")} that expired before the repository was reached.");
            }
        }
        catch (GhostieSyncException e)
        {
            context.Warn($"queued handoff packages could not be sent yet ({CliApplication.OneLine(e.Message)}); they stay queued.");
        }
    }

    private static int ReportCreated(CliContext context, HandoffCreateResult result)
    {
        ScrubSummary scrubbed = result.Scrubbing;
        context.Report(HandoffCreatedDocument.From(result), HandoffCliJson.Output.HandoffCreatedDocument,
            $"Created handoff {result.PackageId} for {(result.TargetDeviceId is null ? "any device" : $"device '{result.TargetDeviceId}'")}: \"{result.Package.Conversation.Title}\".",
            $"{result.Package.Conversation.MessageCount:N0} messages, {result.Package.Context.KeyDecisions.Count} key decision(s); stored {Size(result.StoredBytes)} encrypted ({Ratio(result.StoredBytes, result.SourceBytes)} the {Size(result.SourceBytes)} transcript); estimated load {result.EstimatedLoadTime.TotalMilliseconds:0} ms.",
            scrubbed.SecretsRemoved == 0
                ? "No secrets found in the transcript."
                : $"Removed {SyncCommands.Count(scrubbed.SecretsRemoved, "secret")} before anything left this device ({string.Join(", ", scrubbed.ByKind.Select(p => $"{p.Key} {p.Value}"))}).",
            $"Next, on {(result.TargetDeviceId is null ? "the other device" : $"'{result.TargetDeviceId}'")}: 'ghostie handoff resume {result.PackageId}'.");
        if (context.Quiet && scrubbed.SecretsRemoved > 0)
        {
            context.Warn($"removed {SyncCommands.Count(scrubbed.SecretsRemoved, "secret")} from the transcript before it left this device.");
        }

        return ExitCodes.Success;
    }

    /// <summary>Refuses a bad target device id or time to live (before anything is read or opened).</summary>
    internal static void ValidateCreate(string? to, double? ttlHours)
    {
        if (to is not null)
        {
            DeviceIdentity.Validate(to);
        }

        if (ttlHours is { } hoursToLive && !(hoursToLive > 0 && hoursToLive <= MaxTtlHours))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "--ttl must be more than 0 and at most 8760 hours (a year).");
        }
    }

    /// <summary>The longest time to live of a package: a year.</summary>
    internal const double MaxTtlHours = 24 * 365;

    /// <summary>The transcript format of a name: auto, claude-code, chatgpt, claude-ai or chat.</summary>
    internal static TranscriptFormat FormatFromName(string format) => format switch
    {
        "claude-code" => TranscriptFormat.ClaudeCode,
        "chat" => TranscriptFormat.ChatJson,
        "chatgpt" => TranscriptFormat.ChatGptExport,
        "claude-ai" => TranscriptFormat.ClaudeAiExport,
        _ => TranscriptFormat.Auto,
    };

    /// <summary>
    /// Packs <paramref name="transcript"/> into an encrypted handoff package in the home's repository: what
    /// <c>handoff create</c> and the MCP tool <c>create_handoff</c> do once the transcript is read.
    /// </summary>
    internal static async Task<HandoffCreateResult> PackAsync(CliContext context, ConversationTranscript transcript, string? to, string? title, double? ttlHours,
        IProgress<HandoffStage>? progress, CancellationToken cancellationToken, IContextCompressor? compressor = null)
    {
        (MemorySyncManager manager, IStorageBackend backend) = await Backends.OpenWithBackendAsync(context, cancellationToken).ConfigureAwait(false);
        using HandoffService service = HandoffService.For(manager, backend, compressor: compressor, logger: context.Loggers.CreateLogger<HandoffService>(), ownsManager: true);
        if (to is not null && to != manager.DeviceId)
        {
            SyncStatus status = await manager.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            if (!status.KnownDevices.Any(d => d.DeviceId == to))
            {
                context.Warn($"device '{to}' has not synced with this repository yet (as far as this device knows); the package waits for it all the same.");
            }
        }

        return await service.CreateAsync(new HandoffRequest
        {
            Transcript = transcript,
            TargetDeviceId = to,
            Title = title,
            TimeToLive = ttlHours is { } hours ? TimeSpan.FromHours(hours) : null,
            Progress = progress,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Transcripts from this size on take seconds: 'create' says on stderr what it is doing.</summary>
    internal const long ProgressFromBytes = 8_000_000;

    /// <summary>One line on stderr per stage, as it begins (synchronous: the lines come in order, before the result).</summary>
    private sealed class StageLines(TextWriter error) : IProgress<HandoffStage>
    {
        public void Report(HandoffStage value)
        {
            string? line = value switch
            {
                HandoffStage.Scrubbing => "removing secrets...",
                HandoffStage.Compressing => "compressing the conversation...",
                HandoffStage.Storing => "encrypting and storing the package...",
                _ => null,
            };
            if (line is not null)
            {
                error.WriteLine("ghostie: " + line);
            }
        }
    }

    private static Command List(CliApplication app)
    {
        var command = new Command("list", "List the handoff packages waiting for this device, oldest first. Expired packages are deleted on the way.");
        command.Aliases.Add("ls");
        app.SetAction(command, ListAsync);
        return command;
    }

    private static async Task<int> ListAsync(CliContext context, ParseResult parse, CancellationToken cancellationToken)
    {
        HandoffListing listing;
        try
        {
            listing = await ListPendingAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (GhostieSyncException e) when (e.Code == GhostieErrorCode.BackendUnavailable)
        {
            // Out of reach: what waits on this device is still worth showing, then the error as usual.
            WriteQueued(context, Queued(context));
            throw;
        }

        IReadOnlyList<HandoffPackage> queued = Queued(context);
        if (context.Json)
        {
            context.Document(HandoffListDocument.From(listing, queued), HandoffCliJson.Output.HandoffListDocument);
        }
        else if (listing.Pending.Count == 0)
        {
            context.Line("No handoff packages are waiting for this device.");
        }
        else
        {
            context.Line($"{SyncCommands.Count(listing.Pending.Count, "package")} waiting for this device:");
            foreach (PendingHandoff pending in listing.Pending)
            {
                string from = pending.SourceDeviceName.Length > 0 && pending.SourceDeviceName != pending.SourceDeviceId ? $"{pending.SourceDeviceId} \"{pending.SourceDeviceName}\"" : pending.SourceDeviceId;
                context.Line($"  {pending.PackageId}  from {from}, {SyncCommands.Time(pending.CreatedAt)}, {pending.MessageCount:N0} messages, {Size(pending.StoredBytes)}{(pending.TargetDeviceId is null ? ", for any device" : "")}");
                context.Line($"      {pending.Title}");
            }

            context.Line("Resume one with 'ghostie handoff resume <id> [--profile ios|android|web|desktop]'.");
        }

        if (!context.Json)
        {
            WriteQueued(context, queued);
        }

        if (listing.ExpiredDeleted > 0 && !context.Json)
        {
            context.Line($"Deleted {SyncCommands.Count(listing.ExpiredDeleted, "expired package")}.");
        }

        foreach (SyncProblem problem in listing.Problems)
        {
            context.Warn($"problem ({problem.Code}): {problem.Message}");
        }

        if (listing.Problems.Count > 0)
        {
            string ids = string.Join(" ", listing.Problems.Select(p => p.Subject[(p.Subject.LastIndexOf('/') + 1)..]));
            context.Warn($"a package that fails to open cannot be resumed; remove it with 'ghostie handoff delete <id>' ({ids}).");
        }

        return listing.Problems.Count == 0 ? ExitCodes.Success : ExitCodes.CompletedWithProblems;
    }

    /// <summary>The packages queued on this device, not sent yet (unreadable files are warned about).</summary>
    private static IReadOnlyList<HandoffPackage> Queued(CliContext context)
    {
        var problems = new List<string>();
        IReadOnlyList<HandoffPackage> queued = new OfflineStore(context.Home).QueuedPackages(problems);
        foreach (string problem in problems)
        {
            context.Warn($"a queued handoff package cannot be read and stays where it is: {CliApplication.OneLine(problem)}");
        }

        return queued;
    }

    private static void WriteQueued(CliContext context, IReadOnlyList<HandoffPackage> queued)
    {
        if (queued.Count == 0 || context.Json)
        {
            return;
        }

        context.Line($"{SyncCommands.Count(queued.Count, "package")} queued on this device, not sent yet:");
        foreach (HandoffPackage package in queued)
        {
            context.Line($"  {package.PackageId}  for {(package.TargetDeviceId is null ? "any device" : package.TargetDeviceId)}, {SyncCommands.Time(package.CreatedAt)}, {package.Conversation.MessageCount:N0} messages (queued)");
            context.Line($"      {TerminalText.Escape(package.Conversation.Title)}");
        }
    }

    /// <summary>The packages waiting for this device (expired ones deleted on the way).</summary>
    internal static async Task<HandoffListing> ListPendingAsync(CliContext context, CancellationToken cancellationToken)
    {
        (MemorySyncManager manager, IStorageBackend backend) = await Backends.OpenWithBackendAsync(context, cancellationToken).ConfigureAwait(false);
        using HandoffService service = HandoffService.For(manager, backend, logger: context.Loggers.CreateLogger<HandoffService>(), ownsManager: true);
        return await service.ListPendingAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Command Resume(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The package id, as 'ghostie handoff list' shows it." };
        var profile = new Option<string>("--profile") { Description = "The receiving device's budget: ios (4,000 tokens, 2 agents), android (6,000, 3), web (2,000, 1) or desktop (32,000, 8). Default: desktop.", DefaultValueFactory = _ => "desktop" };
        profile.AcceptOnlyFromAmong("ios", "android", "web", "desktop");
        var workspace = new Option<string>("--workspace") { Description = "Where the project lives on this device; project file paths are rewritten under it. Default: project-relative paths.", HelpName = "dir" };
        var keep = new Option<bool>("--keep") { Description = "Keep the package in the repository (default: resuming consumes it)." };
        var offline = new Option<bool>("--offline") { Description = "Also keep an offline copy (last 10 messages, decisions, summary, code, agents) under <home>/handoff/offline/." };
        var format = new Option<string>("--format") { Description = "What to write: context (the rebuilt context, for any model) or claude-code (a Claude Code session JSONL to continue in Claude Code: 'claude --resume <session id>'). Default: context.", DefaultValueFactory = _ => "context" };
        format.AcceptOnlyFromAmong("context", "claude-code");
        var output = new Option<string>("--output") { Description = "With --format claude-code: write the session to this file (it must not exist) instead of stdout.", HelpName = "file" };
        var claudeProjects = new Option<bool>("--claude-projects") { Description = "With --format claude-code: write the session where Claude Code finds it, ~/.claude/projects/<escaped working directory>/<new session id>.jsonl." };
        var command = new Command("resume", "Fetch, verify and decrypt a handoff package, rebuild the conversation within a device profile, and print its context (or write it as a Claude Code session). The package is then deleted from the repository.")
        {
            id, profile, workspace, keep, offline, format, output, claudeProjects,
        };
        app.SetAction(command, (context, parse, cancellationToken) =>
            ResumeAsync(context, parse.GetValue(id)!, parse.GetValue(profile)!, parse.GetValue(workspace), parse.GetValue(keep), parse.GetValue(offline),
                parse.GetValue(format)!, parse.GetValue(output), parse.GetValue(claudeProjects), cancellationToken));
        return command;
    }

    private static async Task<int> ResumeAsync(CliContext context, string id, string profileName, string? workspace, bool keep, bool offline,
        string format, string? output, bool claudeProjects, CancellationToken cancellationToken)
    {
        bool claudeCode = format == "claude-code";
        if (!claudeCode && (output is not null || claudeProjects))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "--output and --claude-projects go with --format claude-code.");
        }

        if (output is not null && claudeProjects)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "Use either --output or --claude-projects, not both.");
        }

        if (output is not null && (File.Exists(output) || Directory.Exists(output)))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{output} already exists; give a new file for the session (nothing was resumed).");
        }

        DeviceProfile profile = DeviceProfile.FromName(profileName);
        (MemorySyncManager manager, IStorageBackend backend) = await Backends.OpenWithBackendAsync(context, cancellationToken).ConfigureAwait(false);
        using HandoffService service = HandoffService.For(manager, backend, logger: context.Loggers.CreateLogger<HandoffService>(), ownsManager: true);
        // The package is deleted only after the rebuilt context has been written out (and the offline copy saved):
        // a crash, a broken pipe or Ctrl+C before that leaves it in the repository, to be resumed again. Meanwhile this
        // device holds a claim on it (on backends with conditional writes), so no other device resumes it too.
        var options = new HandoffResumeOptions { WorkspaceRoot = workspace is null ? null : Path.GetFullPath(workspace), KeepPackage = keep };
        HandoffResumption resumption = await service.BeginResumeAsync(id, profile, options, cancellationToken).ConfigureAwait(false);
        await using (resumption.ConfigureAwait(false))
        {
            RebuiltConversation rebuilt = resumption.Conversation;
            string? offlinePath = null;
            if (offline)
            {
                new OfflineStore(context.Home).Save(OfflinePackage.From(resumption.Package, TimeProvider.System.GetUtcNow()));
                offlinePath = Path.Combine(context.Home.Root, "handoff", "offline", rebuilt.PackageId + ".json");
            }

            bool consumed = resumption.Consumes;
            int written = claudeCode
                ? WriteClaudeCodeSession(context, resumption.Package, workspace is null ? null : Path.GetFullPath(workspace), output, claudeProjects, consumed)
                : WriteResume(context, rebuilt, profile, consumed, offlinePath);
            try
            {
                await resumption.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (GhostieSyncException e)
            {
                context.Warn($"the context was written, but package {rebuilt.PackageId} could not be deleted from the repository ({CliApplication.OneLine(e.Message)}); it stays pending until 'ghostie handoff resume' or 'ghostie handoff delete' runs again, or it expires.");
                return ExitCodes.CompletedWithProblems;
            }

            return written;
        }
    }

    private static Command Delete(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The package id, as 'ghostie handoff create' or 'ghostie handoff list' showed it." };
        var command = new Command("delete", "Delete a handoff package from the repository, whichever device it is addressed to (to withdraw a handoff, or remove one that fails to open).")
        {
            id,
        };
        command.Aliases.Add("rm");
        app.SetAction(command, (context, parse, cancellationToken) => DeleteAsync(context, parse.GetValue(id)!, cancellationToken));
        return command;
    }

    private static async Task<int> DeleteAsync(CliContext context, string id, CancellationToken cancellationToken)
    {
        (MemorySyncManager manager, IStorageBackend backend) = await Backends.OpenWithBackendAsync(context, cancellationToken).ConfigureAwait(false);
        using HandoffService service = HandoffService.For(manager, backend, logger: context.Loggers.CreateLogger<HandoffService>(), ownsManager: true);
        if (!await service.DeleteAsync(id, cancellationToken).ConfigureAwait(false))
        {
            throw new GhostieSyncException(GhostieErrorCode.NotFound,
                $"There is no handoff package {id.Trim()} in the repository: it was resumed already, expired, or deleted. Run 'ghostie handoff list' to see the ones waiting for this device.");
        }

        context.Report(new HandoffDeletedDocument(id.Trim().ToLowerInvariant(), Deleted: true), HandoffCliJson.Output.HandoffDeletedDocument,
            $"Deleted handoff package {id.Trim().ToLowerInvariant()}.");
        return ExitCodes.Success;
    }

    /// <summary>The package as a Claude Code session: on stdout, to --output, or under ~/.claude/projects (written whole or not at all).</summary>
    private static int WriteClaudeCodeSession(CliContext context, HandoffPackage package, string? workspace, string? output, bool claudeProjects, bool consumed)
    {
        var options = new ClaudeCodeSessionOptions { WorkingDirectory = workspace ?? package.Agents.FirstOrDefault(a => a.Id == "main")?.WorkingDirectory ?? package.Source.ProjectRoot ?? Environment.CurrentDirectory };
        string jsonl = ClaudeCodeSessionWriter.Write(package, options);
        string? path = output is not null ? Path.GetFullPath(output)
            : claudeProjects ? ClaudeCodeSessionWriter.ProjectsPath(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), options.WorkingDirectory!, options.SessionId)
            : null;
        if (path is null)
        {
            context.Out.Write(jsonl);
            context.Out.Flush();
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
            try
            {
                File.WriteAllText(temp, jsonl);
                File.Move(temp, path, overwrite: false);
            }
            finally
            {
                File.Delete(temp);
            }
        }

        if (context.Json && path is not null)
        {
            context.Document(new HandoffSessionDocument(package.PackageId, options.SessionId, options.WorkingDirectory!, path, package.Reconstruction.ResumptionPoint.LastUserMessage, consumed),
                HandoffCliJson.Output.HandoffSessionDocument);
        }
        else if (!context.Quiet)
        {
            context.Error.WriteLine($"ghostie: wrote Claude Code session {options.SessionId}{(path is null ? "" : " to " + path)}; continue it with 'claude --resume {options.SessionId}' in {options.WorkingDirectory}. Package {(consumed ? "consumed (deleted from the repository)" : "kept")}.");
        }

        return ExitCodes.Success;
    }

    private static int WriteResume(CliContext context, RebuiltConversation rebuilt, DeviceProfile profile, bool consumed, string? offlinePath)
    {
        if (context.Json)
        {
            context.Document(HandoffResumeDocument.From(rebuilt, profile, consumed, offlinePath), HandoffCliJson.Output.HandoffResumeDocument);
            return ExitCodes.Success;
        }

        if (context.Quiet)
        {
            return ExitCodes.Success;
        }

        // stdout is the context alone (so it can be piped into a model); the account of the rebuild goes to stderr.
        context.Out.Write(TerminalText.Escape(rebuilt.Context, keepLineBreaks: true));  // the transcript came from another device
        context.Error.WriteLine(
            $"ghostie: rebuilt for {profile.Name}: {rebuilt.ContextTokens:N0}/{profile.ContextTokens:N0} tokens, {SyncCommands.Count(rebuilt.ActiveAgents.Count, "agent")} active" +
            $"{(rebuilt.DeferredAgents.Count > 0 ? $", {rebuilt.DeferredAgents.Count} deferred" : "")}, {rebuilt.VectorCache.Count} vector(s) cached, " +
            $"{rebuilt.EstimatedMemoryBytes / 1_000_000.0:0.#}/{profile.MemoryBudgetMegabytes} MB; package {(consumed ? "consumed (deleted from the repository)" : "kept")}." +
            (offlinePath is null ? "" : $" Offline copy: {offlinePath}."));
        context.Out.Flush();
        return ExitCodes.Success;
    }

    /// <summary>"12.5x smaller than", or for a tiny transcript that encryption and the package's structure outweigh, "1.4x larger than".</summary>
    private static string Ratio(long stored, long source) => stored <= source
        ? (source / (double)Math.Max(1, stored)).ToString("0.#", CultureInfo.InvariantCulture) + "x smaller than"
        : (stored / (double)Math.Max(1, source)).ToString("0.#", CultureInfo.InvariantCulture) + "x larger than";

    private static string Size(long bytes) => bytes switch
    {
        < 1_000 => $"{bytes} B",
        < 1_000_000 => (bytes / 1_000.0).ToString("0.#", CultureInfo.InvariantCulture) + " kB",
        _ => (bytes / 1_000_000.0).ToString("0.#", CultureInfo.InvariantCulture) + " MB",
    };
}

// The --json documents of 'ghostie handoff', in snake_case; docs/cli.md describes them.

internal sealed record HandoffCreatedDocument(string PackageId, string? To, string Title, int Messages, long StoredBytes, long TranscriptBytes, double CompressionRatio,
    double EstimatedLoadMs, int SecretsRemoved, IReadOnlyDictionary<string, int> SecretsByKind, DateTimeOffset? ExpiresAt, int KeyDecisions)
{
    public static HandoffCreatedDocument From(HandoffCreateResult result) => new(result.PackageId, result.TargetDeviceId, result.Package.Conversation.Title,
        result.Package.Conversation.MessageCount, result.StoredBytes, result.SourceBytes, result.CompressionRatio, Math.Round(result.EstimatedLoadTime.TotalMilliseconds, 1),
        result.Scrubbing.SecretsRemoved, result.Scrubbing.ByKind, result.ExpiresAt, result.Package.Context.KeyDecisions.Count);
}

internal sealed record PendingDocument(string PackageId, string From, string FromName, string? To, string Title, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
    long StoredBytes, int Messages, int Agents, int Embeddings, int SecretsRemoved, double EstimatedLoadMs)
{
    public static PendingDocument Of(PendingHandoff p) => new(p.PackageId, p.SourceDeviceId, p.SourceDeviceName, p.TargetDeviceId, p.Title, p.CreatedAt, p.ExpiresAt,
        p.StoredBytes, p.MessageCount, p.Agents, p.Embeddings, p.SecretsRemoved, Math.Round(p.EstimatedLoadTime.TotalMilliseconds, 1));
}

internal sealed record HandoffDeletedDocument(string PackageId, bool Deleted);

internal sealed record HandoffProblemDocument(string Code, string Subject, string Message);

internal sealed record QueuedDocument(string PackageId, string? To, string Title, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, int Messages);

internal sealed record HandoffListDocument(IReadOnlyList<PendingDocument> Pending, int ExpiredDeleted, IReadOnlyList<HandoffProblemDocument> Problems, IReadOnlyList<QueuedDocument> Queued)
{
    public static HandoffListDocument From(HandoffListing listing, IReadOnlyList<HandoffPackage>? queued = null) => new(listing.Pending.Select(PendingDocument.Of).ToArray(), listing.ExpiredDeleted,
        listing.Problems.Select(p => new HandoffProblemDocument(p.Code.ToString(), p.Subject, p.Message)).ToArray(),
        (queued ?? []).Select(q => new QueuedDocument(q.PackageId, q.TargetDeviceId, q.Conversation.Title, q.CreatedAt, q.ExpiresAt, q.Conversation.MessageCount)).ToArray());
}

internal sealed record HandoffQueuedDocument(string PackageId, string? To, string Title, int Messages, bool Queued, string QueuedPath, string? Unreachable,
    int SecretsRemoved, IReadOnlyDictionary<string, int> SecretsByKind, DateTimeOffset? ExpiresAt);

internal sealed record HandoffSessionDocument(string PackageId, string SessionId, string WorkingDirectory, string Path, string LastUserMessage, bool Consumed);

internal sealed record HandoffFileDocument(string OriginalPath, string Path, string Status, bool Mapped);

internal sealed record HandoffSectionDocument(string Name, int Tokens, int Included, int Omitted);

internal sealed record HandoffResumptionDocument(int Turn, string Role, string LastUserMessage, string Summary);

internal sealed record HandoffResumeDocument(string PackageId, string ConversationId, string Title, string Profile, int ContextTokens, int ContextBudget,
    long EstimatedMemoryBytes, long MemoryBudgetBytes, IReadOnlyList<string> ActiveAgents, IReadOnlyList<string> DeferredAgents, IReadOnlyList<string> DroppedAgents,
    int VectorsCached, int VectorsLeftOut, IReadOnlyList<HandoffFileDocument> ActiveFiles, IReadOnlyList<HandoffSectionDocument> Sections,
    HandoffResumptionDocument ResumptionPoint, bool Consumed, string? OfflineCopy, string Context)
{
    public static HandoffResumeDocument From(RebuiltConversation rebuilt, DeviceProfile profile, bool consumed, string? offlinePath) => new(rebuilt.PackageId,
        rebuilt.Conversation.Id, rebuilt.Conversation.Title, profile.Name, rebuilt.ContextTokens, profile.ContextTokens, rebuilt.EstimatedMemoryBytes, profile.MemoryBudgetBytes,
        rebuilt.ActiveAgents.Select(a => a.Id).ToArray(), rebuilt.DeferredAgents.Select(a => a.Id).ToArray(), rebuilt.DroppedAgents,
        rebuilt.VectorCache.Count, rebuilt.VectorsLeftOut,
        rebuilt.ActiveFiles.Select(f => new HandoffFileDocument(f.OriginalPath, f.Path, f.Status, f.Mapped)).ToArray(),
        rebuilt.Sections.Select(s => new HandoffSectionDocument(s.Name, s.Tokens, s.Included, s.Omitted)).ToArray(),
        new HandoffResumptionDocument(rebuilt.ResumptionPoint.Turn, rebuilt.ResumptionPoint.Role, rebuilt.ResumptionPoint.LastUserMessage, rebuilt.ResumptionPoint.Summary),
        consumed, offlinePath, rebuilt.Context);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(HandoffCreatedDocument))]
[JsonSerializable(typeof(HandoffListDocument))]
[JsonSerializable(typeof(HandoffResumeDocument))]
[JsonSerializable(typeof(HandoffDeletedDocument))]
[JsonSerializable(typeof(HandoffQueuedDocument))]
[JsonSerializable(typeof(HandoffSessionDocument))]
internal sealed partial class HandoffCliJson : JsonSerializerContext
{
    /// <summary>As generated, with relaxed escaping (the output goes to a terminal or a pipe, never into HTML).</summary>
    public static HandoffCliJson Output { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
