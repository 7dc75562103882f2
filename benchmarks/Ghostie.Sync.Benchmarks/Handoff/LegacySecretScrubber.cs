using System.Buffers;
using System.Text.RegularExpressions;
using Ghostie.Sync.Handoff;

namespace Ghostie.Sync.Benchmarks.Handoff;

/// <summary>The scrubber as it was before issue 11 item 7 (14 rules), kept only as the baseline of
/// <see cref="ScrubBenchmarks"/>: the same engine with the old rule set.</summary>
internal sealed partial class LegacySecretScrubber
{
    private const string Marker = "[REDACTED:";

    /// <summary>The shortest secret whose other occurrences are also removed (shorter ones would hit ordinary words).</summary>
    private const int MinKnownLength = 6;

    private readonly (string Kind, Regex Pattern, Func<Match, string, bool>? Decide, SearchValues<string> Triggers)[] _rules;
    private readonly SearchValues<string> _anyTrigger;

    /// <summary>Creates a scrubber with the built-in rules.</summary>
    public LegacySecretScrubber()
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
            Rule("assigned-secret", Assignment(), "pass", "pw", "secret", "token", "key", "credential") with { Decide = DecideAssignment },
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
    public static LegacySecretScrubber Default { get; } = new();

    /// <summary>The rule names, as they appear in reports and in <c>[REDACTED:&lt;rule&gt;]</c>.</summary>
    public IEnumerable<string> RuleNames => _rules.Select(r => r.Kind);

    /// <summary>Returns <paramref name="text"/> with every secret found replaced, counting them in <paramref name="report"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="report">Receives the counts.</param>
    public string Scrub(string text, ScrubReport report)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(report);
        if (text.Length < MinKnownLength)
        {
            return text;
        }

        if (!text.AsSpan().ContainsAny(_anyTrigger))
        {
            return ReplaceKnown(text, report);
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
                report.Remember(secret.Success ? secret.Value : match.Value, kind);
                string replacement = Marker + kind + "]";
                return secret.Success
                    ? string.Concat(match.Value.AsSpan(0, secret.Index - match.Index), replacement, match.Value.AsSpan(secret.Index - match.Index + secret.Length))
                    : replacement;
            });
        }

        return ReplaceKnown(result, report);
    }

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

    private static readonly HashSet<string> Placeholders = new(StringComparer.OrdinalIgnoreCase)
    {
        "null", "none", "nil", "true", "false", "undefined", "string", "str", "bytes", "int", "bool", "required", "optional",
        "changeme", "change_me", "change-me", "changeit", "example", "placeholder", "redacted", "secret", "password", "token", "hidden",
        "empty", "default", "dummy", "sample", "todo", "tbd", "fixme", "unset", "omitted", "masked",
    };

    /// <summary>Common English words that follow "password:" in a sentence ("Password: must be rotated", "pass: all green"):
    /// an unquoted value after a colon that is one of these, with more words after it, is prose, not a password.</summary>
    private static readonly HashSet<string> ProseWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did", "not", "no", "yes",
        "must", "should", "shall", "will", "would", "can", "could", "may", "might", "need", "needs", "needed", "use", "uses", "used", "using",
        "set", "sets", "reset", "stored", "store", "saved", "sent", "kept", "read", "taken", "given", "made", "see", "check", "checked",
        "always", "never", "only", "also", "still", "just", "now", "then", "here", "there", "this", "that", "these", "those", "it", "its",
        "all", "any", "each", "every", "some", "none", "both", "either", "neither", "same", "other", "another", "new", "old", "current",
        "minimum", "maximum", "least", "most", "more", "less", "at", "in", "on", "of", "for", "from", "to", "with", "without", "by", "via",
        "and", "or", "but", "if", "when", "after", "before", "until", "unless", "because", "since", "so", "as", "like",
        "rotated", "rotate", "expired", "expires", "expire", "changed", "change", "updated", "update", "hashed", "encrypted", "missing",
        "wrong", "incorrect", "invalid", "valid", "correct", "weak", "strong", "too", "very", "enter", "type", "ask", "asked", "prompt",
        "field", "length", "policy", "requirements", "rules", "manager", "vault", "please", "same", "ok", "okay", "good", "bad", "green", "red",
        "passed", "failed", "failing", "passing", "works", "worked", "fixed", "broken", "done", "pending", "unchanged", "everything", "nothing",
    };

    /// <summary>Keeps a value assigned to a secret-sounding name when it is evidently not a secret.</summary>
    private static bool DecideAssignment(Match match, string source)
    {
        Group secret = match.Groups["secret"];
        string value = secret.Value.TrimEnd('.', ':');
        string key = match.Groups["key"].Value.ToLowerInvariant();
        int after = match.Index + match.Length;
        bool call = after < source.Length && source[after] is '(' or '[' or '.';
        if (call || value.StartsWith(Marker, StringComparison.Ordinal) || IsReference(value) ||
            Placeholders.Contains(value) || value.All(c => c is '*' or 'x' or 'X' or '.' or '-' or '_' or '•') ||
            value.Contains("environ", StringComparison.OrdinalIgnoreCase) || value.Contains("process.env", StringComparison.OrdinalIgnoreCase) ||
            YourPlaceholder().IsMatch(value))
        {
            return false;
        }

        bool passwordLike = key.Contains("pass", StringComparison.Ordinal) || key.Contains("pwd", StringComparison.Ordinal) || key == "pw";
        if (passwordLike)
        {
            return value.Length >= 4 && !IsProse(secret, source);
        }

        // token = 5, max_tokens: 4096, secret_name = "db": not secrets. Long, varied values are.
        bool varied = value.Any(char.IsDigit) && value.Any(char.IsLetter);
        return value.Length >= 12 && varied && Entropy(value) >= 3.0;
    }

    /// <summary>A variable or template reference, not a value: <c>$DB_PASSWORD</c>, <c>${VAR}</c>, <c>$(cmd)</c>, <c>%VAR%</c>,
    /// <c>{{ secrets.X }}</c>, <c>{password}</c>, <c>&lt;your key&gt;</c>. A value that merely starts with <c>$</c> or <c>&lt;</c>
    /// (<c>$ecr3tP4ss!</c>) is not one.</summary>
    private static bool IsReference(string value) => value.Length > 1 && (
        (value[0] == '$' && (value[1] is '{' or '(' || value.AsSpan(1).TrimEnd('}').ToString() is var name &&
            (name.All(c => c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_') || name.All(c => c is (>= 'a' and <= 'z') or '_')))) ||
        (value[0] == '%' && value[^1] == '%') || (value[0] == '{' && value[^1] == '}') || value.StartsWith("{{", StringComparison.Ordinal) ||
        (value[0] == '<' && (value[^1] == '>' || !value.Any(char.IsDigit))));

    /// <summary>"Password: must be rotated every 90 days": an unquoted common word after a colon, followed by more words.</summary>
    private static bool IsProse(Group secret, string source)
    {
        int start = secret.Index, end = secret.Index + secret.Length;
        int before = start - 1;
        while (before >= 0 && source[before] is ' ' or '\t')
        {
            before--;
        }

        if (before < 0 || source[before] != ':' || !secret.Value.All(char.IsLetter) || !ProseWords.Contains(secret.Value))
        {
            return false;
        }

        return end == source.Length || (source[end] == ' ' && end + 1 < source.Length && char.IsLetterOrDigit(source[end + 1])) || source[end] is '.' or ',' or ';' or '!';
    }

    /// <summary>Shannon entropy in bits per character.</summary>
    private static double Entropy(string value)
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
    [GeneratedRegex(@"(?<key>(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|auth[_\-]?key|credentials?)[A-Za-z0-9_.\-]*|(?<![A-Za-z0-9])(?:pass|pw)(?![A-Za-z0-9]))\\?[""']?\s*[:=]\s*(?:\\?""(?<secret>[^""\\\r\n]{4,256})(?=\\?"")|'(?<secret>[^'\r\n]{4,256})(?=')|\\?[""']?(?<secret><?[^\s""'\\,;(){}\[\]<>`]{4,}))",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Assignment();

    // YOUR_API_KEY, your-token-here, YourPasswordHere: "your" and letters only, naming what goes there.
    [GeneratedRegex(@"^your[_\-\s]?[a-z_\-\s]*(?:key|pass|password|token|secret|here|name|id|credential)[a-z_\-\s]*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex YourPlaceholder();
}
