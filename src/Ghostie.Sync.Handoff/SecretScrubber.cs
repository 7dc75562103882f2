using System.Buffers;
using System.Text.RegularExpressions;

namespace Ghostie.Sync.Handoff;

/// <summary>How many secrets a scrub removed, by rule.</summary>
public sealed class ScrubReport
{
    private readonly Dictionary<string, int> _byKind = new(StringComparer.Ordinal);

    /// <summary>Secrets removed in all.</summary>
    public int Total { get; private set; }

    /// <summary>Secrets removed per rule name.</summary>
    public IReadOnlyDictionary<string, int> ByKind => _byKind;

    internal void Add(string kind)
    {
        Total++;
        _byKind[kind] = _byKind.GetValueOrDefault(kind) + 1;
    }

    /// <summary>The report as stored in a package.</summary>
    public ScrubSummary ToSummary() => new()
    {
        SecretsRemoved = Total,
        ByKind = _byKind.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
    };
}

/// <summary>
/// Removes secrets from text before it leaves the device: API keys of OpenAI, Anthropic, AWS, GitHub, Slack, Google and
/// Stripe, private key PEM blocks, JSON web tokens, bearer tokens, passwords in URLs, and values assigned to names such
/// as <c>password</c>, <c>secret</c>, <c>token</c> or <c>api_key</c>. Each is replaced by <c>[REDACTED:&lt;rule&gt;]</c>.
/// Pattern-based: docs/handoff.md lists what it does not catch.
/// </summary>
public sealed partial class SecretScrubber
{
    private const string Marker = "[REDACTED:";

    private readonly (string Kind, Regex Pattern, Func<Match, string, bool>? Decide, SearchValues<string> Triggers)[] _rules;
    private readonly SearchValues<string> _anyTrigger;

    /// <summary>Creates a scrubber with the built-in rules.</summary>
    public SecretScrubber()
    {
        _rules =
        [
            Rule("private-key", PrivateKey(), "PRIVATE KEY"),
            Rule("url-password", UrlPassword(), "://"),
            Rule("anthropic-key", AnthropicKey(), "sk-ant-"),
            Rule("openai-key", OpenAiKey(), "sk-"),
            Rule("github-token", GitHubToken(), "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
            Rule("slack-webhook", SlackWebhook(), "hooks.slack.com"),
            Rule("slack-token", SlackToken(), "xox"),
            Rule("aws-access-key", AwsAccessKey(), "AKIA", "ASIA", "ABIA", "ACCA"),
            Rule("google-api-key", GoogleApiKey(), "AIza"),
            Rule("stripe-key", StripeKey(), "_live_", "_test_"),
            Rule("jwt", JsonWebToken(), "eyJ"),
            Rule("bearer-token", BearerToken(), "bearer"),
            Rule("authorization-header", AuthorizationHeader(), "uthorization"),
            Rule("assigned-secret", Assignment(), "pass", "pwd", "secret", "token", "key", "credential") with { Decide = DecideAssignment },
        ];
        _anyTrigger = SearchValues.Create(_rules.SelectMany(r => TriggersOf(r.Kind)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), StringComparison.OrdinalIgnoreCase);
    }

    private readonly Dictionary<string, string[]> _triggerText = new(StringComparer.Ordinal);

    private IEnumerable<string> TriggersOf(string kind) => _triggerText[kind];

    private (string Kind, Regex Pattern, Func<Match, string, bool>? Decide, SearchValues<string> Triggers) Rule(string kind, Regex pattern, params string[] triggers)
    {
        // A rule's regex runs only on text holding one of its triggers (a fast vectorized search): most text holds none.
        _triggerText[kind] = triggers;
        return (kind, pattern, null, SearchValues.Create(triggers, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The shared instance (scrubbers hold no state between calls).</summary>
    public static SecretScrubber Default { get; } = new();

    /// <summary>The rule names, as they appear in reports and in <c>[REDACTED:&lt;rule&gt;]</c>.</summary>
    public IEnumerable<string> RuleNames => _rules.Select(r => r.Kind);

    /// <summary>Returns <paramref name="text"/> with every secret found replaced, counting them in <paramref name="report"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="report">Receives the counts.</param>
    public string Scrub(string text, ScrubReport report)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(report);
        if (text.Length < 8)
        {
            return text;
        }

        if (!text.AsSpan().ContainsAny(_anyTrigger))
        {
            return text;
        }

        string result = text;
        foreach ((string kind, Regex pattern, Func<Match, string, bool>? decide, SearchValues<string> triggers) in _rules)
        {
            if (!result.AsSpan().ContainsAny(triggers) || !pattern.IsMatch(result))
            {
                continue;
            }

            string input = result;
            result = pattern.Replace(input, match =>
            {
                Group secret = match.Groups["secret"];
                if (decide is not null && !decide(match, input))
                {
                    return match.Value;
                }

                report.Add(kind);
                string replacement = Marker + kind + "]";
                return secret.Success
                    ? string.Concat(match.Value.AsSpan(0, secret.Index - match.Index), replacement, match.Value.AsSpan(secret.Index - match.Index + secret.Length))
                    : replacement;
            });
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
        if (transcript.Title is not null)
        {
            transcript.Title = Scrub(transcript.Title, report);
        }

        for (int i = 0; i < transcript.Summaries.Count; i++)
        {
            transcript.Summaries[i] = Scrub(transcript.Summaries[i], report);
        }

        foreach (TranscriptMessage message in transcript.Messages)
        {
            message.Text = Scrub(message.Text, report);
            foreach (ToolCall call in message.ToolCalls)
            {
                // The input holds the same strings as the other fields: count each secret once, in the input.
                call.Input = Scrub(call.Input, report);
                var shadow = new ScrubReport();
                call.Summary = Scrub(call.Summary, shadow);
                call.Code = call.Code is null ? null : Scrub(call.Code, shadow);
                call.FilePath = call.FilePath is null ? null : Scrub(call.FilePath, shadow);
            }
        }

        return report;
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

    private static readonly HashSet<string> Placeholders = new(StringComparer.OrdinalIgnoreCase)
    {
        "null", "none", "nil", "true", "false", "undefined", "string", "str", "bytes", "int", "bool", "required", "optional",
        "changeme", "example", "placeholder", "redacted", "secret", "password", "token", "hidden", "empty", "default",
    };

    /// <summary>Keeps a value assigned to a secret-sounding name when it is evidently not a secret.</summary>
    private static bool DecideAssignment(Match match, string source)
    {
        string value = match.Groups["secret"].Value.TrimEnd('.', ':');
        string key = match.Groups["key"].Value.ToLowerInvariant();
        int after = match.Index + match.Length;
        bool call = after < source.Length && source[after] is '(' or '[' or '.';
        if (call || value.StartsWith(Marker, StringComparison.Ordinal) || value.StartsWith('$') || value.StartsWith('{') || value.StartsWith('<') ||
            value.StartsWith('%') || Placeholders.Contains(value) || value.All(c => c is '*' or 'x' or 'X' or '.' or '-' or '_') ||
            value.Contains("environ", StringComparison.OrdinalIgnoreCase) || value.Contains("process.env", StringComparison.OrdinalIgnoreCase) ||
            value.StartsWith("your", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        bool passwordLike = key.Contains("pass", StringComparison.Ordinal) || key.Contains("pwd", StringComparison.Ordinal);
        if (passwordLike)
        {
            return value.Length >= 4;
        }

        // token = 5, max_tokens: 4096, secret_name = "db": not secrets. Long, varied values are.
        bool varied = value.Any(char.IsDigit) && value.Any(char.IsLetter);
        return value.Length >= 12 && varied && Entropy(value) >= 3.0;
    }

    /// <summary>Shannon entropy in bits per character.</summary>
    internal static double Entropy(string value)
    {
        var counts = new Dictionary<char, int>();
        foreach (char c in value)
        {
            counts[c] = counts.GetValueOrDefault(c) + 1;
        }

        double entropy = 0;
        foreach (int count in counts.Values)
        {
            double p = (double)count / value.Length;
            entropy -= p * Math.Log2(p);
        }

        return entropy;
    }

    [GeneratedRegex(@"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\z)", RegexOptions.CultureInvariant)]
    private static partial Regex PrivateKey();

    // The user may be empty (redis://:pw@host); the password runs to the LAST '@' that is followed by a host.
    [GeneratedRegex(@"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s:/?#@'""<>]{0,256}:(?<secret>[^\s/?#'""<>]{1,256})@(?=[A-Za-z0-9.\-\[\]_]+(?::\d{1,5})?(?:[/?#\s'""<>),;]|$))", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"\bsk-ant-[a-z0-9]{2,12}-[A-Za-z0-9_\-]{20,}", RegexOptions.CultureInvariant)]
    private static partial Regex AnthropicKey();

    [GeneratedRegex(@"\bsk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_\-]*[0-9])[A-Za-z0-9_\-]{20,}", RegexOptions.CultureInvariant)]
    private static partial Regex OpenAiKey();

    [GeneratedRegex(@"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b", RegexOptions.CultureInvariant)]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"https://hooks\.slack\.com/services/[A-Za-z0-9_/]{20,}", RegexOptions.CultureInvariant)]
    private static partial Regex SlackWebhook();

    [GeneratedRegex(@"\bxox[abposre]-[A-Za-z0-9\-]{10,}", RegexOptions.CultureInvariant)]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", RegexOptions.CultureInvariant)]
    private static partial Regex AwsAccessKey();

    [GeneratedRegex(@"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex GoogleApiKey();

    [GeneratedRegex(@"\b(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{16,}\b", RegexOptions.CultureInvariant)]
    private static partial Regex StripeKey();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", RegexOptions.CultureInvariant)]
    private static partial Regex JsonWebToken();

    // Authorization / Proxy-Authorization headers of any scheme (Basic, token, Digest, ...): the credential after the scheme.
    [GeneratedRegex(@"\b(?:[Pp]roxy-)?[Aa]uthorization[""']?\s*[:=]\s*[""']?(?:(?:[Bb]asic|[Tt]oken|[Dd]igest|[Nn]egotiate|NTLM|[Bb]earer)\s+)?(?<secret>(?!\[REDACTED)[A-Za-z0-9\-._~+/=:]{8,})", RegexOptions.CultureInvariant)]
    private static partial Regex AuthorizationHeader();

    [GeneratedRegex(@"\b[Bb]earer\s+(?<secret>(?!\[REDACTED)[A-Za-z0-9\-._~+/]{16,}=*)", RegexOptions.CultureInvariant)]
    private static partial Regex BearerToken();

    // A quoted value is taken whole, spaces and punctuation included ("correct horse battery staple"); an unquoted
    // one runs to the first space or delimiter.
    [GeneratedRegex(@"(?<key>(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|auth[_\-]?key|credentials?)[A-Za-z0-9_.\-]*)\\?[""']?\s*[:=]\s*(?:\\?""(?<secret>[^""\\\r\n]{4,256})(?=\\?"")|'(?<secret>[^'\r\n]{4,256})(?=')|\\?[""']?(?<secret>[^\s""'\\,;(){}\[\]<>`]{4,}))",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Assignment();
}
