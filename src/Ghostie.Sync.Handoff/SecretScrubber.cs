using System.Buffers;
using System.Text.RegularExpressions;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// Removes secrets from text before it leaves the device: provider keys and tokens (OpenAI, Anthropic, AWS, GitHub,
/// GitLab, Hugging Face, npm, Slack, Stripe, Google, Azure storage keys, SAS signatures and client secrets), private key
/// PEM blocks, JSON web tokens, bearer and Authorization credentials, passwords in URLs and on command lines, values
/// assigned to names such as <c>password</c>, <c>secret</c>, <c>token</c> or <c>api_key</c> (high-entropy ones for
/// the non-password names), and passwords stated in prose ("my psql password is ..."). Each is replaced by
/// <c>[REDACTED:&lt;rule&gt;]</c>. Pattern-based: docs/handoff.md lists the rules and what they do not catch.
/// </summary>
/// <remarks>
/// Every rule has keywords: its regular expression runs only on a text holding one of them (a vectorized search), so
/// most text costs one scan. A rule may also ask a minimum Shannon entropy of the value (or, for prefixed keys, a few distinct characters) and a decision that can keep a
/// match (a placeholder, a reference, a common word) or shorten it. A value found is then removed wherever it occurs
/// (<see cref="ScrubReport"/> remembers it) only if it is distinctive (<see cref="IsDistinctive"/>): a common word
/// found once as a password is removed where it was found and nowhere else.
/// </remarks>
public sealed partial class SecretScrubber : ITextScrubber
{
    internal const string Marker = "[REDACTED:";

    /// <summary>The shortest secret whose other occurrences are also removed (shorter ones would hit ordinary words).</summary>
    internal const int MinKnownLength = 8;

    private readonly Rule[] _rules;
    private readonly SearchValues<string> _anyTrigger;

    /// <summary>Creates a scrubber with the built-in rules.</summary>
    public SecretScrubber()
    {
        _rules = BuiltInRules();
        _anyTrigger = SearchValues.Create(_rules.SelectMany(r => r.Keywords).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>One rule: a pattern (with an optional <c>secret</c> group: the part replaced), the keywords one of which a
    /// text must hold for the pattern to run, a minimum entropy of the value, and an optional decision.</summary>
    /// <param name="Kind">The rule name.</param>
    /// <param name="Pattern">The pattern.</param>
    /// <param name="Keywords">Case-insensitive keywords.</param>
    private sealed record Rule(string Kind, Regex Pattern, params string[] Keywords)
    {
        public SearchValues<string> Triggers { get; } = SearchValues.Create(Keywords, StringComparison.OrdinalIgnoreCase);

        /// <summary>Bits per character the value must reach (0: no check): for values without a prefix.</summary>
        public double MinEntropy { get; init; }

        /// <summary>Distinct characters the last 20 characters of the value must hold (0: no check): for prefixed
        /// keys, whose prefix says enough, this only drops stand-ins such as <c>glpat-xxxxxxxxxxxxxxxxxxxx</c>.</summary>
        public int MinDistinct { get; init; }

        /// <summary>Given the match and the whole text, how many characters of the value to replace (from its start); 0 keeps the match.</summary>
        public Func<Match, string, int>? Decide { get; init; }
    }

    /// <summary>The shared instance (scrubbers hold no state between calls).</summary>
    public static SecretScrubber Default { get; } = new();

    /// <summary>The rule names, as they appear in reports and in <c>[REDACTED:&lt;rule&gt;]</c>.</summary>
    public IEnumerable<string> RuleNames => _rules.Select(r => r.Kind);

    /// <summary>Returns <paramref name="text"/> with every secret found replaced, counting them in <paramref name="report"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="report">Receives the counts, and remembers the distinctive values found (removed from later texts too).</param>
    public string Scrub(string text, ScrubReport report)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(report);
        if (text.Length < 4)
        {
            return text;
        }

        if (!text.AsSpan().ContainsAny(_anyTrigger))
        {
            return ReplaceKnown(text, report);
        }

        string result = text;
        foreach (Rule rule in _rules)
        {
            if (!result.AsSpan().ContainsAny(rule.Triggers))
            {
                continue;
            }

            string input = result;
            result = rule.Pattern.Replace(input, match => Evaluate(rule, match, input, report));
        }

        return ReplaceKnown(result, report);
    }

    private static string Evaluate(Rule rule, Match match, string input, ScrubReport report)
    {
        Group secret = match.Groups["secret"];
        Capture value = secret.Success ? secret : match;
        if (value.Value.StartsWith(Marker, StringComparison.Ordinal))
        {
            return match.Value;
        }

        int length = rule.Decide is null ? value.Length : Math.Min(rule.Decide(match, input), value.Length);
        if (length <= 0)
        {
            return match.Value;
        }

        string found = value.Value[..length];
        if ((rule.MinEntropy > 0 && Entropy(found) < rule.MinEntropy) ||
            (rule.MinDistinct > 0 && found.AsSpan(Math.Max(0, found.Length - 20)).ToArray().Distinct().Count() < rule.MinDistinct) || IsKnownExample(found))
        {
            return match.Value;
        }

        report.Add(rule.Kind);
        if (IsDistinctive(found))
        {
            report.Remember(found, rule.Kind);
        }

        int offset = value.Index - match.Index;
        return string.Concat(match.Value.AsSpan(0, offset), Marker + rule.Kind + "]", match.Value.AsSpan(offset + length));
    }

    /// <summary>
    /// Whether a value found is distinctive enough to be removed wherever else it occurs: 8 characters or more, not a
    /// word (letters only), not a number, and at least 3 bits of entropy per character (so not <c>aaaaaaaa1</c>).
    /// Provider keys always are; "dragon" or "Refactoring" never are.
    /// </summary>
    internal static bool IsDistinctive(string value) =>
        value.Length >= MinKnownLength && value.Any(char.IsLetter) && !value.All(char.IsLetter) &&
        !value.All(c => char.IsLetter(c) || c is ' ' or '\'' or '-') && Entropy(value) >= 3.0;

    /// <summary>Replaces every other occurrence of a secret already found (as a whole token: not inside a longer word or number).</summary>
    private static string ReplaceKnown(string text, ScrubReport report)
    {
        if (report.Known.Count == 0)
        {
            return text;
        }

        string result = text;
        foreach ((string value, string kind) in report.Known.OrderByDescending(p => p.Key.Length).ThenBy(p => p.Key, StringComparer.Ordinal))
        {
            int at = result.IndexOf(value, StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            var built = new System.Text.StringBuilder(result.Length);
            int from = 0;
            for (; at >= 0; at = result.IndexOf(value, at + 1, StringComparison.Ordinal))
            {
                if (at < from || (at > 0 && IsWordChar(result[at - 1]) && IsWordChar(value[0])) ||
                    (at + value.Length < result.Length && IsWordChar(result[at + value.Length]) && IsWordChar(value[^1])))
                {
                    continue;
                }

                built.Append(result, from, at - from).Append(Marker).Append(kind).Append(']');
                report.Add(kind);
                from = at + value.Length;
            }

            built.Append(result, from, result.Length - from);
            result = built.ToString();
        }

        return result;

        static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
    }

    /// <summary>Scrubs texts that belong together (a memory's content and the strings of its context): a secret found
    /// in any of them is removed from all. Used by sync for <see cref="GhostieSyncOptions.PushScrubber"/>.</summary>
    /// <param name="texts">The texts.</param>
    /// <returns>The scrubbed texts, in order.</returns>
    public IReadOnlyList<string> Scrub(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var report = new ScrubReport();
        string[] result = texts.Select(t => Scrub(t, report)).ToArray();
        if (report.Known.Count > 0)
        {
            for (int i = 0; i < result.Length; i++)
            {
                result[i] = ReplaceKnown(result[i], report);
            }
        }

        return result;
    }

    /// <summary>Scrubs a transcript in place: titles, summaries, every message, and every tool call's input, code, path and summary.</summary>
    /// <param name="transcript">The transcript.</param>
    /// <returns>What was removed.</returns>
    public ScrubReport Scrub(ConversationTranscript transcript)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        var report = new ScrubReport();
        Rewrite(transcript, report, Scrub);

        // A secret found late (a password in the last message's URL) may appear earlier where no rule sees it
        // (`pw = "..."` in code written before): a second pass removes every known one everywhere.
        if (report.Known.Count > 0)
        {
            Rewrite(transcript, report, ReplaceKnown);
        }

        return report;
    }

    /// <summary>Applies <paramref name="rewrite"/> to every text of the transcript. A tool call's input holds the same
    /// strings as its other fields, so each secret is counted once, in the input (the other fields report to a shadow).</summary>
    private static void Rewrite(ConversationTranscript transcript, ScrubReport report, Func<string, ScrubReport, string> rewrite)
    {
        if (transcript.Title is not null)
        {
            transcript.Title = rewrite(transcript.Title, report);
        }

        for (int i = 0; i < transcript.Summaries.Count; i++)
        {
            transcript.Summaries[i] = rewrite(transcript.Summaries[i], report);
        }

        foreach (TranscriptMessage message in transcript.Messages)
        {
            message.Text = rewrite(message.Text, report);
            foreach (ToolCall call in message.ToolCalls)
            {
                call.Input = rewrite(call.Input, report);
                ScrubReport shadow = report.Shadow();
                call.Summary = rewrite(call.Summary, shadow);
                call.Code = call.Code is null ? null : rewrite(call.Code, shadow);
                call.FilePath = call.FilePath is null ? null : rewrite(call.FilePath, shadow);
            }
        }
    }

    /// <summary>Scrubs every text of an agent state (prompts, context window, memories, variables).</summary>
    /// <param name="agent">The agent.</param>
    /// <param name="report">Receives the counts.</param>
    /// <returns>The scrubbed agent (the same instance when nothing was found).</returns>
    public AgentState Scrub(AgentState agent, ScrubReport report)
    {
        ArgumentNullException.ThrowIfNull(agent);
        int before = report.Total;
        AgentState scrubbed = agent with
        {
            SystemPrompt = Scrub(agent.SystemPrompt, report),
            PromptChanges = agent.PromptChanges.Select(c => c with { Prompt = Scrub(c.Prompt, report), Reason = Scrub(c.Reason, report) }).ToArray(),
            ContextWindow = agent.ContextWindow with { Messages = agent.ContextWindow.Messages.Select(m => m with { Text = Scrub(m.Text, report) }).ToArray() },
            MemorySnapshot = agent.MemorySnapshot.Select(m => m with { Text = Scrub(m.Text, report) }).ToArray(),
            Variables = agent.Variables.ToDictionary(p => p.Key, p => Scrub(p.Value, report), StringComparer.Ordinal),
        };
        return report.Total == before ? agent : scrubbed;
    }
}
