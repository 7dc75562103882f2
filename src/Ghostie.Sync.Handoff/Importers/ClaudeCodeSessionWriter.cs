using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Ghostie.Sync.Handoff.Importers;

/// <summary>
/// Writes a handoff package as a Claude Code session transcript, so the conversation can be continued there
/// (<c>claude --resume &lt;session id&gt;</c> in its working directory). The lines, in the shape Claude Code writes:
/// a <c>summary</c> line (the title), a <c>permission-mode</c> line when known, a <c>compact_boundary</c> system line, the
/// package's account of the conversation as a compaction-summary user message (<c>isCompactSummary</c>, opening like
/// Claude Code's own), the todo list as a TodoWrite call and its result when there is one, then the recent turns verbatim
/// (teammates' messages in their <c>&lt;teammate-message&gt;</c> envelope) with the person's last instruction among them;
/// each line with a new <c>uuid</c>, <c>parentUuid</c> the line before, the new <c>sessionId</c>, the <c>cwd</c> and
/// <c>gitBranch</c>. No <c>version</c> is written: it would claim a Claude Code version that did not write the file.
/// </summary>
public static partial class ClaudeCodeSessionWriter
{
    /// <summary>The session file's path under a home: <c>~/.claude/projects/&lt;escaped cwd&gt;/&lt;session id&gt;.jsonl</c>,
    /// the cwd escaped as Claude Code does (every character but ASCII letters and digits becomes '-').</summary>
    /// <param name="homeDirectory">The user's home.</param>
    /// <param name="workingDirectory">The session's working directory.</param>
    /// <param name="sessionId">The session id.</param>
    public static string ProjectsPath(string homeDirectory, string workingDirectory, string sessionId) =>
        Path.Combine(homeDirectory, ".claude", "projects", NotAlphanumeric().Replace(workingDirectory, "-"), sessionId + ".jsonl");

    /// <summary>The session's lines (UTF-8 JSONL, one object per line, each ending in '\n').</summary>
    /// <param name="package">The package.</param>
    /// <param name="options">Session id, working directory and clock.</param>
    public static string Write(HandoffPackage package, ClaudeCodeSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(package);
        options ??= new ClaudeCodeSessionOptions();
        AgentState? main = package.Agents.FirstOrDefault(a => a.Kind == "main") ?? package.Agents.FirstOrDefault(a => a.Id == "main");
        string cwd = options.WorkingDirectory ?? main?.WorkingDirectory ?? package.Source.ProjectRoot ?? "";
        var writer = new Lines(options.SessionId, cwd, package.Conversation.GitBranch, options.TimeProvider.GetUtcNow());
        string model = main?.Model ?? package.Conversation.Model ?? "<synthetic>";

        JsonObject boundary = writer.Line("system");
        boundary["subtype"] = "compact_boundary";
        boundary["content"] = "Conversation compacted";
        boundary["isMeta"] = false;
        boundary["level"] = "info";
        boundary["logicalParentUuid"] = null;
        boundary["compactMetadata"] = new JsonObject { ["trigger"] = "manual", ["preTokens"] = package.Conversation.TokenCount };

        JsonObject summary = writer.User(ClaudeCodeTranscriptImporter.CompactSummaryOpening
            + " that ran out of context, handed over from another device by Ghostie. The conversation is summarized below:\n" + Summary(package));
        summary["isCompactSummary"] = true;
        summary["isVisibleInTranscriptOnly"] = true;

        if (main is { Todos.Count: > 0 })
        {
            string id = "toolu_ghostie_todos";
            var todos = new JsonArray(main.Todos.Select(t => (JsonNode)new JsonObject { ["content"] = t.Content, ["status"] = t.Status, ["activeForm"] = t.ActiveForm ?? t.Content }).ToArray());
            writer.Assistant(model, new JsonObject { ["type"] = "tool_use", ["id"] = id, ["name"] = "TodoWrite", ["input"] = new JsonObject { ["todos"] = todos } }, "tool_use");
            writer.User(new JsonArray(new JsonObject
            {
                ["tool_use_id"] = id, ["type"] = "tool_result",
                ["content"] = "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress.",
            }));
        }

        ResumptionPoint resume = package.Reconstruction.ResumptionPoint;
        List<ThreadEntry> recent = package.Context.Thread.Where(e => e.Kind == ThreadEntryKinds.Verbatim && e.Salience == 0).ToList();
        bool instructionShown = resume.LastUserMessage.Length == 0 || recent.Any(e => e.Role == "user" && e.Text == resume.LastUserMessage);
        foreach (ThreadEntry entry in recent)
        {
            if (!instructionShown && (resume.LastUserTurn is not { } at || entry.Turn > at))
            {
                writer.User(resume.LastUserMessage);
                instructionShown = true;
            }

            if (entry.Role == "user")
            {
                writer.User(entry.Text);
            }
            else if (entry.Role == "assistant")
            {
                writer.Assistant(model, new JsonObject { ["type"] = "text", ["text"] = entry.Text }, "end_turn");
            }
            else if (entry.Role.StartsWith("teammate", StringComparison.Ordinal))
            {
                string who = entry.Role.Length > "teammate:".Length ? entry.Role["teammate:".Length..] : "teammate";
                writer.User($"<teammate-message teammate_id=\"{Attribute(who)}\">\n{entry.Text}\n</teammate-message>");
            }
        }

        if (!instructionShown)
        {
            writer.User(resume.LastUserMessage);
        }

        // The head lines, written last: the title's leaf is the last line.
        var text = new StringBuilder();
        if (package.Conversation.Title.Length > 0)
        {
            text.Append(Json(new JsonObject { ["type"] = "summary", ["summary"] = package.Conversation.Title, ["leafUuid"] = writer.Last }));
        }

        if (main?.PermissionMode is { Length: > 0 } mode)
        {
            text.Append(Json(new JsonObject { ["type"] = "permission-mode", ["permissionMode"] = mode, ["sessionId"] = options.SessionId }));
        }

        return text.Append(writer.Text).ToString();
    }

    /// <summary>The package's account of the conversation, in the sections of a compaction summary.</summary>
    private static string Summary(HandoffPackage package)
    {
        CompressedContext context = package.Context;
        var text = new StringBuilder();
        void Section(string title, IEnumerable<string> items)
        {
            List<string> list = items.Where(i => !string.IsNullOrWhiteSpace(i)).ToList();
            if (list.Count > 0)
            {
                text.Append('\n').Append(title).Append(":\n");
                foreach (string item in list)
                {
                    text.Append("   - ").Append(item.Replace("\n", "\n     ", StringComparison.Ordinal)).Append('\n');
                }
            }
        }

        Section("1. Where the work stands", [context.ProjectState.Summary]);
        Section("2. Key decisions", context.KeyDecisions.Select(d => d.Text));
        Section("3. Files and code", context.ActiveFiles.Select(f => $"{f.Path} ({f.Status})"));
        Section("4. Earlier in the conversation", context.Thread.Where(e => !(e.Kind == ThreadEntryKinds.Verbatim && e.Salience == 0) && e.Kind != ThreadEntryKinds.Omitted)
            .Select(e => (e.Kind == ThreadEntryKinds.Summary ? "" : $"[{e.Role}] ") + e.Text));
        Section("5. Pending tasks and open questions", context.ProjectState.OpenQuestions.Concat(context.ProjectState.NextSteps)
            .Concat(package.Agents.SelectMany(a => a.Todos).Where(t => t.Status != "completed").Select(t => $"{t.Content} ({t.Status})")));
        Section("6. Helpers", package.Agents.Where(a => a.Kind is "sub-agent" or "teammate").Select(a => $"{a.Kind} {a.Name}: {a.Status}{(a.Role.Length > 0 ? " - " + a.Role : "")}"));
        Section("7. The person's last instruction (verbatim)", [package.Reconstruction.ResumptionPoint.LastUserMessage]);
        return text.ToString().TrimEnd();
    }

    private static string Attribute(string value) => value.Replace("&", "&amp;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    private static string Json(JsonObject line) => line.ToJsonString(Options) + "\n";

    private static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [GeneratedRegex("[^A-Za-z0-9]", RegexOptions.CultureInvariant)]
    private static partial Regex NotAlphanumeric();

    /// <summary>The chain of lines: each one's parentUuid is the uuid of the one before.</summary>
    private sealed class Lines(string sessionId, string cwd, string? branch, DateTimeOffset start)
    {
        private readonly List<JsonObject> _lines = [];
        private int _count;

        public string? Last { get; private set; }

        public string Text => string.Concat(_lines.Select(Json));

        public JsonObject Line(string type)
        {
            string uuid = Guid.NewGuid().ToString();
            var line = new JsonObject
            {
                ["parentUuid"] = Last,
                ["isSidechain"] = false,
                ["userType"] = "external",
                ["cwd"] = cwd,
                ["sessionId"] = sessionId,
                ["gitBranch"] = branch ?? "",
                ["type"] = type,
                ["uuid"] = uuid,
                ["timestamp"] = start.AddMilliseconds(_count++).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            };
            Last = uuid;
            _lines.Add(line);
            return line;
        }

        public JsonObject User(JsonNode content)
        {
            JsonObject line = Line("user");
            line["message"] = new JsonObject { ["role"] = "user", ["content"] = content };
            return line;
        }

        public JsonObject User(string content) => User(JsonValue.Create(content));

        public JsonObject Assistant(string model, JsonObject block, string stopReason)
        {
            JsonObject line = Line("assistant");
            line["message"] = new JsonObject
            {
                ["id"] = "msg_ghostie_" + _count.ToString(CultureInfo.InvariantCulture),
                ["type"] = "message",
                ["role"] = "assistant",
                ["model"] = model,
                ["content"] = new JsonArray(block),
                ["stop_reason"] = stopReason,
                ["stop_sequence"] = null,
                ["usage"] = new JsonObject { ["input_tokens"] = 0, ["output_tokens"] = 0 },
            };
            return line;
        }
    }
}
