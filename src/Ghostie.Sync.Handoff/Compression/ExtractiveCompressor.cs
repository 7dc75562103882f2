using System.Text;
using System.Text.RegularExpressions;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// Compression with no model: keeps every key decision and the last turns verbatim, the open questions, next steps,
/// active files and the latest code; drops tool output (counting exact repeats); then fills the rest of the token
/// budget with excerpts of earlier turns ranked by salience (decisions, questions, code references, the user's own
/// words and recency score higher; short acknowledgements lower). The rules are listed in docs/handoff.md.
/// </summary>
public sealed partial class ExtractiveCompressor : IContextCompressor
{
    private const int SnippetMaxLines = 60;
    private const int SnippetMaxChars = 4_000;

    /// <summary>Earlier turns scoring below this (short acknowledgements such as "ok, thanks") are never carried.</summary>
    private const double MinimumSalience = 0.5;

    /// <summary>The shared instance (it holds no state).</summary>
    public static ExtractiveCompressor Instance { get; } = new();

    /// <inheritdoc />
    public Task<CompressedContext> CompressAsync(ConversationTranscript transcript, CompressionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Compress(transcript, options));
    }

    /// <summary>The synchronous core (the work is CPU only).</summary>
    internal static CompressedContext Compress(ConversationTranscript transcript, CompressionOptions options)
    {
        ITokenCounter counter = options.TokenCounter;
        // The conversation proper: the person's words, the assistant's, teammates' reports and the host's compaction
        // summaries; never what the host injected, tool output or side conversations.
        List<TranscriptMessage> turns = transcript.Messages
            .Where(m => IsTurn(m) && !string.IsNullOrWhiteSpace(m.Text))
            .ToList();
        int recentStart = Math.Max(0, turns.Count - options.RecentTurns);
        List<TranscriptMessage> recent = turns.GetRange(recentStart, turns.Count - recentStart);
        List<TranscriptMessage> earlier = turns.GetRange(0, recentStart);

        List<KeyDecision> decisions = ExtractDecisions(turns);
        (List<string> questions, List<string> nextSteps) = ExtractOpenItems(turns);
        List<ActiveFile> files = ExtractActiveFiles(transcript.Messages, options.MaxActiveFiles, transcript.ProjectRoot);
        List<CodeSnippet> snippets = ExtractSnippets(transcript.Messages, options.MaxCodeSnippets);
        (int droppedTools, int duplicateTools) = CountToolOutputs(transcript.Messages);
        string summary = Summarize(transcript, turns, files);

        long fixedTokens = decisions.Sum(d => (long)counter.CountTokens(d.Text))
            + counter.CountTokens(summary)
            + questions.Concat(nextSteps).Sum(q => (long)counter.CountTokens(q))
            + files.Sum(f => (long)counter.CountTokens(f.Path) + 2)
            + snippets.Sum(s => (long)counter.CountTokens(s.Text));
        var thread = new List<ThreadEntry>();
        foreach (TranscriptMessage message in recent)
        {
            // A compaction summary is the host's summary of what came before, whichever turn it is.
            thread.Add(message.Kind == MessageKind.CompactionSummary
                ? Entry(message, message.Text, ThreadEntryKinds.Summary, 10.0, counter)
                : Entry(message, message.Text, ThreadEntryKinds.Verbatim, 0, counter));
        }

        long remaining = options.TokenBudget - fixedTokens - thread.Sum(e => (long)e.Tokens);
        int lastIndex = Math.Max(1, transcript.Messages.Count - 1);
        foreach ((TranscriptMessage message, double salience) in earlier.Select(m => (m, Salience(m, lastIndex))).OrderByDescending(p => p.Item2).ThenByDescending(p => p.m.Index))
        {
            if (remaining <= 0 || salience < MinimumSalience)
            {
                break; // ordered by salience: what follows is below the floor too
            }

            int tokens = counter.CountTokens(message.Text);
            (string text, string kind) = message.Kind == MessageKind.CompactionSummary
                ? (tokens <= remaining ? message.Text : Excerpt(message.Text, (int)Math.Min(int.MaxValue / 8, Math.Max(options.ExcerptTokens, remaining / 2)) * 4), ThreadEntryKinds.Summary)
                : tokens <= options.ExcerptTokens
                ? (message.Text, ThreadEntryKinds.Verbatim)
                : (Excerpt(message.Text, options.ExcerptTokens * 4), ThreadEntryKinds.Excerpt);
            ThreadEntry entry = Entry(message, text, kind, Math.Round(salience, 3), counter);
            if (entry.Tokens <= remaining)
            {
                thread.Add(entry);
                remaining -= entry.Tokens;
            }
        }

        thread.Sort((a, b) => a.Turn.CompareTo(b.Turn));
        List<ThreadEntry> withGaps = MarkOmitted(thread, turns);
        int omitted = turns.Count - thread.Count;
        long compressedTokens = fixedTokens + thread.Sum(e => (long)e.Tokens);
        return new CompressedContext
        {
            KeyDecisions = decisions,
            ProjectState = new ProjectState { Summary = summary, OpenQuestions = questions, NextSteps = nextSteps },
            ActiveFiles = files,
            CodeSnippets = snippets,
            Thread = withGaps,
            Compression = new CompressionInfo
            {
                Method = "extractive",
                TokenBudget = options.TokenBudget,
                OriginalTokens = CountAll(transcript, counter),
                CompressedTokens = compressedTokens,
                DroppedToolOutputs = droppedTools,
                DuplicateToolOutputs = duplicateTools,
                OmittedMessages = omitted,
                TokenCounter = counter.Name,
            },
        };
    }

    /// <summary>Tokens of the whole conversation: every message and every tool call input.</summary>
    internal static long CountAll(ConversationTranscript transcript, ITokenCounter counter) =>
        transcript.Messages.Sum(m => (long)counter.CountTokens(m.Text) + m.ToolCalls.Sum(c => (long)counter.CountTokens(c.Input)));

    /// <summary>Whether a message is a turn of the conversation proper (see <see cref="Compress"/>).</summary>
    internal static bool IsTurn(TranscriptMessage m) =>
        !m.IsSidechain && m.Kind is MessageKind.Person or MessageKind.Assistant or MessageKind.ToolCall or MessageKind.Teammate or MessageKind.CompactionSummary;

    private static ThreadEntry Entry(TranscriptMessage message, string text, string kind, double salience, ITokenCounter counter) => new()
    {
        Turn = message.Index,
        Role = RoleName(message),
        Kind = kind,
        Text = text,
        Tools = message.ToolCalls.Take(10).Select(c => string.IsNullOrEmpty(c.Summary) ? c.Name : c.Name + " " + c.Summary).ToArray(),
        Timestamp = message.Timestamp,
        Tokens = counter.CountTokens(text),
        Salience = salience,
    };

    /// <summary>The thread role of a message: "user" (the person), "assistant", "teammate" (with its id: "teammate:researcher"), or "system".</summary>
    internal static string RoleName(TranscriptMessage message) => message.Kind switch
    {
        MessageKind.Person => "user",
        MessageKind.Assistant or MessageKind.ToolCall => "assistant",
        MessageKind.Teammate => message.Sender is { Length: > 0 } sender ? "teammate:" + sender : "teammate",
        MessageKind.ToolResult => "tool",
        _ => "system",
    };

    internal static string RoleName(TranscriptRole role) => role switch
    {
        TranscriptRole.User => "user",
        TranscriptRole.Assistant => "assistant",
        TranscriptRole.Tool => "tool",
        _ => "system",
    };

    /// <summary>Markers for the runs of turns left out, so a reader sees where the thread skips.</summary>
    private static List<ThreadEntry> MarkOmitted(List<ThreadEntry> kept, List<TranscriptMessage> turns)
    {
        var keptTurns = new HashSet<int>(kept.Select(e => e.Turn));
        var result = new List<ThreadEntry>(kept.Count + 8);
        int keptIndex = 0;
        int run = 0;
        int runStart = 0;
        foreach (TranscriptMessage turn in turns)
        {
            if (keptTurns.Contains(turn.Index))
            {
                if (run > 0)
                {
                    result.Add(Omitted(runStart, run));
                    run = 0;
                }

                result.Add(kept[keptIndex++]);
            }
            else
            {
                if (run == 0)
                {
                    runStart = turn.Index;
                }

                run++;
            }
        }

        if (run > 0)
        {
            result.Add(Omitted(runStart, run));
        }

        return result;
    }

    private static ThreadEntry Omitted(int firstTurn, int count) => new()
    {
        Turn = firstTurn,
        Role = "system",
        Kind = ThreadEntryKinds.Omitted,
        Text = count == 1 ? "1 earlier message omitted" : $"{count} earlier messages omitted",
        Tokens = 0,
    };

    private static double Salience(TranscriptMessage message, int lastIndex)
    {
        string text = message.Text;
        if (message.Kind == MessageKind.CompactionSummary)
        {
            return 10.0; // the host's own account of what came before: the first earlier turn to keep
        }

        double score = message.Kind == MessageKind.Person ? 1.0 : 0.7;
        bool decision = DecisionPattern().IsMatch(text) && Lines(text).Any(StatesDecision);
        bool question = text.Contains('?', StringComparison.Ordinal) && Lines(text).Any(line => line.EndsWith('?'));

        score += decision ? 2.0 : 0;
        score += question ? 0.6 : 0;
        score += text.Contains("```", StringComparison.Ordinal) || FindPaths(text).Any() ? 0.4 : 0;
        score += (double)message.Index / lastIndex;
        if (text.Length < 40 && AcknowledgementPattern().IsMatch(text.Trim()))
        {
            score -= 1.5;
        }

        return score;
    }

    private static string Excerpt(string text, int maxChars)
    {
        // The decision and question lines first (they are why the turn ranked), then the opening, in original order.
        var picked = new List<(int Order, string Line)>();
        int used = 0;
        string[] lines = text.Split('\n');
        for (int pass = 0; pass < 2 && used < maxChars; pass++)
        {
            for (int i = 0; i < lines.Length && used < maxChars; i++)
            {
                string line = lines[i].Trim();
                bool important = StatesDecision(line) || line.EndsWith('?');
                if (line.Length == 0 || important != (pass == 0) || picked.Any(p => p.Order == i))
                {
                    continue;
                }

                string piece = line.Length > maxChars - used ? Truncate(line, Math.Max(20, maxChars - used)) : line;
                picked.Add((i, piece));
                used += piece.Length + 1;
            }
        }

        picked.Sort((a, b) => a.Order.CompareTo(b.Order));
        return string.Join("\n", picked.Select(p => p.Line)) + " [...]";
    }

    internal static string Truncate(string text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text;
        }

        int cut = text.LastIndexOf(' ', Math.Max(0, maxChars - 1));
        return (cut > maxChars / 2 ? text[..cut] : text[..maxChars]) + "...";
    }

    /// <summary>The lines outside code fences, trimmed, with list markers removed.</summary>
    internal static IEnumerable<string> Lines(string text)
    {
        bool fenced = false;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }

            if (!fenced && line.Length > 0)
            {
                yield return ListMarker().Replace(line, "");
            }
        }
    }

    private static List<KeyDecision> ExtractDecisions(List<TranscriptMessage> turns)
    {
        var decisions = new List<KeyDecision>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (TranscriptMessage turn in turns)
        {
            if (!DecisionPattern().IsMatch(turn.Text))
            {
                continue; // most turns state no decision: one scan instead of one per line
            }

            foreach (string line in Lines(turn.Text))
            {
                if (!StatesDecision(line))
                {
                    continue;
                }

                // A long paragraph: keep the sentences that state the decision, verbatim.
                string text = line.Length <= 500
                    ? line
                    : string.Join(" ", SentenceSplit().Split(line).Where(StatesDecision));
                if (text.Length > 0 && seen.Add(text))
                {
                    decisions.Add(new KeyDecision { Text = text, Turn = turn.Index, Role = RoleName(turn), Timestamp = turn.Timestamp });
                }
            }
        }

        return decisions;
    }

    private static (List<string> Questions, List<string> NextSteps) ExtractOpenItems(List<TranscriptMessage> turns)
    {
        var questions = new List<string>();
        var next = new List<string>();
        int tail = Math.Max(0, turns.Count - 4);
        for (int i = 0; i < turns.Count; i++)
        {
            foreach (string line in Lines(turns[i].Text))
            {
                if (OpenQuestionPattern().IsMatch(line))
                {
                    if (!questions.Contains(line))
                    {
                        questions.Add(line);
                    }
                }
                else if (i >= tail && line.EndsWith('?'))
                {
                    // The question itself, not the sentences before it on the same line.
                    string question = SentenceSplit().Split(line)[^1];
                    if (question.Length >= 15 && !questions.Contains(question))
                    {
                        questions.Add(question);
                    }
                }
                else if (i >= tail)
                {
                    foreach (string sentence in SentenceSplit().Split(line))
                    {
                        if (NextStepPattern().IsMatch(sentence) && !next.Contains(sentence))
                        {
                            next.Add(sentence);
                        }
                    }
                }
            }
        }

        return (questions.TakeLast(10).ToList(), next.TakeLast(10).ToList());
    }

    private static List<ActiveFile> ExtractActiveFiles(List<TranscriptMessage> messages, int max, string? projectRoot)
    {
        var files = new Dictionary<string, (int Rank, int LastTurn, int Touches)>(StringComparer.Ordinal);
        void Touch(string path, int rank, int turn)
        {
            path = path.Trim().TrimEnd('.', ',', ':', ')', '`', '\'', '"');
            if (path.Length is < 3 or > 400)
            {
                return;
            }

            path = UnderProjectRoot(path, projectRoot);

            files[path] = files.TryGetValue(path, out var known)
                ? (Math.Max(known.Rank, rank), turn, known.Touches + 1)
                : (rank, turn, 1);
        }

        foreach (TranscriptMessage message in messages)
        {
            foreach (ToolCall call in message.ToolCalls)
            {
                if (call.FilePath is { } path)
                {
                    int rank = call.Name switch
                    {
                        "Write" when !files.ContainsKey(path) => 4,
                        "Write" or "Edit" or "MultiEdit" or "NotebookEdit" => 3,
                        "Read" or "NotebookRead" => 2,
                        _ => 1,
                    };
                    Touch(path, rank, message.Index);
                }
            }

            if (message.Role is TranscriptRole.User or TranscriptRole.Assistant)
            {
                foreach ((_, string path) in FindPaths(message.Text))
                {
                    Touch(path, 1, message.Index);
                }
            }
        }

        return files
            .OrderByDescending(p => p.Value.Rank).ThenByDescending(p => p.Value.LastTurn).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(max)
            .Select(p => new ActiveFile
            {
                Path = p.Key,
                Status = p.Value.Rank switch { 4 => "created", 3 => "edited", 2 => "read", _ => "mentioned" },
                LastTurn = p.Value.LastTurn,
                Touches = p.Value.Touches,
            })
            .ToList();
    }

    /// <summary>A relative path ("src/db.ts", "./src/db.ts") as the absolute path under the session's project root, so a file
    /// mentioned relatively and edited by a tool under its absolute path is one active file, not two.</summary>
    private static string UnderProjectRoot(string path, string? projectRoot)
    {
        bool windowsRoot = projectRoot is { Length: >= 3 } && char.IsAsciiLetter(projectRoot[0]) && projectRoot[1] == ':' && projectRoot[2] is '\\' or '/';
        if (projectRoot is null || !(projectRoot.StartsWith('/') || windowsRoot) ||
            path.StartsWith('/') || path.StartsWith('\\') || path.StartsWith('~') || (path.Length >= 2 && path[1] == ':') || path.Contains("://", StringComparison.Ordinal))
        {
            return path;
        }

        string relative = path.StartsWith("./", StringComparison.Ordinal) || path.StartsWith(".\\", StringComparison.Ordinal) ? path[2..] : path;
        if (relative.Split('/', '\\').Any(segment => segment is ".." or "."))
        {
            return path;
        }

        char separator = windowsRoot ? '\\' : '/';
        return projectRoot.TrimEnd('/', '\\') + separator + (windowsRoot ? relative.Replace('/', '\\') : relative);
    }

    private static List<CodeSnippet> ExtractSnippets(List<TranscriptMessage> messages, int max)
    {
        var snippets = new List<CodeSnippet>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int m = messages.Count - 1; m >= 0 && snippets.Count < max; m--)
        {
            TranscriptMessage message = messages[m];
            for (int c = message.ToolCalls.Count - 1; c >= 0 && snippets.Count < max; c--)
            {
                ToolCall call = message.ToolCalls[c];
                if (call.Code is { Length: > 0 } code && seen.Add(code))
                {
                    snippets.Add(new CodeSnippet { Path = call.FilePath, Language = LanguageOf(call.FilePath), Text = Clip(code), Turn = message.Index });
                }
            }

            if (message.Role != TranscriptRole.Assistant)
            {
                continue;
            }

            MatchCollection fences = FencePattern().Matches(message.Text);
            for (int f = fences.Count - 1; f >= 0 && snippets.Count < max; f--)
            {
                string code = fences[f].Groups["code"].Value.TrimEnd();
                if (code.Length > 0 && seen.Add(code))
                {
                    string? path = FindPaths(message.Text).LastOrDefault(p => p.Index < fences[f].Index).Path;
                    snippets.Add(new CodeSnippet { Path = path, Language = fences[f].Groups["lang"].Value, Text = Clip(code), Turn = message.Index });
                }
            }
        }

        snippets.Reverse();
        return snippets;
    }

    private static string Clip(string code)
    {
        string[] lines = code.Split('\n');
        string clipped = lines.Length > SnippetMaxLines ? string.Join('\n', lines.Take(SnippetMaxLines)) + "\n..." : code;
        return clipped.Length > SnippetMaxChars ? clipped[..SnippetMaxChars] + "\n..." : clipped;
    }

    private static string LanguageOf(string? path) => Path.GetExtension(path ?? "").TrimStart('.').ToLowerInvariant() switch
    {
        "cs" => "csharp",
        "ts" or "tsx" => "typescript",
        "js" or "jsx" or "mjs" => "javascript",
        "py" => "python",
        "rs" => "rust",
        "go" => "go",
        "md" => "markdown",
        "json" => "json",
        "yml" or "yaml" => "yaml",
        "sh" => "bash",
        var other => other,
    };

    private static (int Dropped, int Duplicates) CountToolOutputs(List<TranscriptMessage> messages)
    {
        var seen = new HashSet<ulong>();
        int dropped = 0, duplicates = 0;
        foreach (TranscriptMessage message in messages.Where(m => m.Role == TranscriptRole.Tool))
        {
            dropped++;
            if (!seen.Add(Fingerprint(message.Text)))
            {
                duplicates++;
            }
        }

        return (dropped, duplicates);
    }

    /// <summary>Tool output with whitespace collapsed and digits zeroed, hashed (64-bit FNV-1a): two runs of the same test
    /// suite that differ only in timings match. Only counted, never stored, so a rare collision costs nothing but a count.</summary>
    internal static ulong Fingerprint(string text)
    {
        const ulong offset = 14695981039346656037, prime = 1099511628211;
        ulong hash = offset;
        bool space = false, started = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = started;
                continue;
            }

            if (space)
            {
                hash = (hash ^ ' ') * prime;
                space = false;
            }

            started = true;
            hash = (hash ^ (char.IsAsciiDigit(c) ? '0' : c)) * prime;
        }

        return hash;
    }

    private static string Summarize(ConversationTranscript transcript, List<TranscriptMessage> turns, List<ActiveFile> files)
    {
        var summary = new StringBuilder();
        TranscriptMessage? task = turns.FirstOrDefault(t => t.Kind == MessageKind.Person);
        if (task is not null)
        {
            summary.Append("Task: ").Append(Truncate(OneLine(task.Text), 400)).Append('\n');
        }

        foreach (string earlier in transcript.Summaries.Take(3))
        {
            summary.Append("Earlier summary: ").Append(Truncate(OneLine(earlier), 300)).Append('\n');
        }

        string[] edited = files.Where(f => f.Status is "edited" or "created").Select(f => Path.GetFileName(f.Path)).Take(8).ToArray();
        int commands = transcript.Messages.Sum(m => m.ToolCalls.Count(c => c.Name == "Bash"));
        if (edited.Length > 0 || commands > 0)
        {
            summary.Append("Work: ");
            if (edited.Length > 0)
            {
                summary.Append("changed ").Append(files.Count(f => f.Status is "edited" or "created")).Append(" file(s) (").Append(string.Join(", ", edited)).Append(")");
            }

            if (commands > 0)
            {
                summary.Append(edited.Length > 0 ? "; " : "").Append("ran ").Append(commands).Append(" command(s)");
                ToolCall? last = transcript.Messages.SelectMany(m => m.ToolCalls).LastOrDefault(c => c.Name == "Bash");
                if (last is not null)
                {
                    summary.Append(", last: ").Append(last.Summary);
                }
            }

            summary.Append(".\n");
        }

        TranscriptMessage? stop = turns.LastOrDefault(t => t.Kind == MessageKind.Assistant);
        if (stop is not null)
        {
            summary.Append("Where it stopped: ").Append(Truncate(OneLine(stop.Text), 400));
        }

        return summary.ToString().TrimEnd();
    }

    /// <summary>Whether a line states a decision: a decision phrase that is not only part of "not decided yet",
    /// "haven't agreed", "no decision", "undecided", "decided nothing" (those are masked before the phrase is looked for,
    /// so "We decided on Postgres; the pool size is not decided yet" still counts).</summary>
    internal static bool StatesDecision(string line) =>
        DecisionPattern().IsMatch(line) && DecisionPattern().IsMatch(UndecidedPattern().Replace(line, " "));

    internal static string OneLine(string text) => WhitespaceRun().Replace(text, " ").Trim();

    [GeneratedRegex(@"\b(?:decision|decided|decide to|we'll go with|we will go with|let's go with|going with|we'll use|we will use|let's use|settled on|agreed|we chose|i chose|we'll keep|we will keep|we won't|we will not|don't use|do not use|from now on)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    internal static partial Regex DecisionPattern();

    [GeneratedRegex(@"\b(?:(?:have|has|had|is|are|was|were)(?:n't| not)(?: yet)?(?: been)?|not(?: yet)?(?: been)?|yet to(?: be)?|to be|never|no one|nobody|nothing)\s+(?:decided|agreed|settled on|decide to)\b|\b(?:no|without a|pending|open)\s+decision\b|\bdecision\s+(?:is\s+)?(?:pending|open|still open)\b|\bundecided\b|\bdecided nothing\b|\b(?:haven't|have not|hasn't|not|never)\s+(?:yet\s+)?(?:decided|agreed)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UndecidedPattern();

    [GeneratedRegex(@"^(?:open question|question|unresolved|tbd)\s*[:\-]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OpenQuestionPattern();

    [GeneratedRegex(@"^(?:next(?: steps?)?\s*[:\-]|todo\b|then\b|after that\b|remaining\s*[:\-])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex NextStepPattern();

    [GeneratedRegex(@"^(?:[A-Za-z]:[\\/]|~/|\.{1,2}/|/)?(?:[\w.\-]+[/\\])+[\w.\-]*[\w\-]\.[A-Za-z][A-Za-z0-9]{0,7}$", RegexOptions.CultureInvariant)]
    private static partial Regex PathToken();

    /// <summary>
    /// The file paths in a text (a separator and an extension required: "src/app.ts", "C:\\x\\y.cs"; URLs are not paths).
    /// Linear: it looks only around each '/' or '\\' and checks the token there, rather than trying a regex at every position.
    /// </summary>
    internal static IEnumerable<(int Index, string Path)> FindPaths(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            int found = text.AsSpan(i).IndexOfAny('/', '\\');
            if (found < 0)
            {
                yield break;
            }

            int at = i + found;
            int start = at;
            while (start > 0 && IsPathChar(text[start - 1]))
            {
                start--;
            }

            int end = at;
            while (end < text.Length && IsPathChar(text[end]))
            {
                end++;
            }

            string token = StripLineNumbers(text[start..end].TrimEnd('.', ':'));
            if (token.Length >= 3 && PathToken().IsMatch(token))
            {
                yield return (start, token);
            }

            i = end + 1;
        }
    }

    /// <summary>"src/app.ts:12:5" is the file src/app.ts.</summary>
    private static string StripLineNumbers(string token)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            int colon = token.LastIndexOf(':');
            if (colon > 1 && colon < token.Length - 1 && token.AsSpan(colon + 1).IndexOfAnyExceptInRange('0', '9') < 0)
            {
                token = token[..colon];
            }
        }

        return token;
    }

    private static bool IsPathChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '/' or '\\' or '~' or ':';

    [GeneratedRegex(@"^(?:(?:ok(?:ay)?|thanks?(?: you)?|thx|yes|yep|sure|great|perfect|nice|cool|go ahead|continue|sounds good|lgtm)\b[,.! ]*)+$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AcknowledgementPattern();

    [GeneratedRegex(@"^(?:[-*+>]|\d+[.)])\s+", RegexOptions.CultureInvariant)]
    private static partial Regex ListMarker();

    [GeneratedRegex(@"(?<=[.!?])\s+", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceSplit();

    [GeneratedRegex(@"```(?<lang>[\w+#.\-]*)[^\n]*\n(?<code>[\s\S]*?)```", RegexOptions.CultureInvariant)]
    private static partial Regex FencePattern();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex WhitespaceRun();
}
