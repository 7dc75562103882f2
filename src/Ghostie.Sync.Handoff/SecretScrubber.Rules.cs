using System.Text.RegularExpressions;

namespace Ghostie.Sync.Handoff;

// The rules of SecretScrubber. Shapes, keywords and entropy floors follow what the providers document and what
// gitleaks' default configuration has learned (the prefixes, lengths and alphabets of each kind of token, a keyword
// prefilter per rule, entropy floors that drop placeholders such as glpat-xxxxxxxxxxxxxxxxxxxx, and allowlists of
// names and values that are not secrets); the code and the lists are this project's own.
public sealed partial class SecretScrubber
{
    private static Rule[] BuiltInRules() =>
    [
        new("private-key", PrivateKey(), "PRIVATE KEY"),
        new("anthropic-key", AnthropicKey(), "sk-ant-") { MinDistinct = 4 },
        new("openai-key", OpenAiKey(), "sk-") { MinDistinct = 4 },
        new("github-token", GitHubToken(), "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_") { MinDistinct = 4 },
        new("gitlab-token", GitLabToken(), "glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glft-", "glimt-", "glagent-", "gloas-", "glsoat-", "glffct-", "GR1348941") { MinDistinct = 4 },
        new("huggingface-token", HuggingFaceToken(), "hf_", "api_org_") { MinDistinct = 4 },
        new("npm-token", NpmToken(), "npm_", "_authToken") { MinDistinct = 4, Decide = DecideValue },
        new("slack-webhook", SlackWebhook(), "hooks.slack.com") { MinDistinct = 4 },
        new("slack-token", SlackToken(), "xox", "xapp-") { MinDistinct = 4, Decide = static (m, _) => m.Value.Count(char.IsAsciiDigit) >= 3 ? m.Length : 0 },
        new("stripe-key", StripeKey(), "_live_", "_test_", "_prod_", "whsec_") { MinDistinct = 4 },
        new("aws-secret-key", AwsSecretKey(), "AKIA", "ASIA") { MinEntropy = 4, Decide = static (m, _) => m.Groups["secret"].Value is var v && v.Any(char.IsAsciiDigit) && v.Any(char.IsAsciiLetterUpper) && v.Any(char.IsAsciiLetterLower) ? v.Length : 0 },
        new("aws-access-key", AwsAccessKey(), "AKIA", "ASIA", "ABIA", "ACCA") { MinDistinct = 4 },
        new("google-api-key", GoogleApiKey(), "AIza") { MinDistinct = 4 },
        new("google-oauth-secret", GoogleOAuthSecret(), "GOCSPX-") { MinDistinct = 4 },
        new("google-oauth-token", GoogleOAuthToken(), "ya29.") { MinDistinct = 4 },
        new("azure-storage-key", AzureStorageKey(), "AccountKey", "SharedAccessKey") { MinEntropy = 3.5 },
        new("azure-sas", AzureSas(), "sig=") { MinEntropy = 3 },
        new("azure-ad-client-secret", AzureAdClientSecret(), "Q~") { MinEntropy = 3 },
        new("jwt", JsonWebToken(), "eyJ"),
        new("url-password", UrlPassword(), "://") { Decide = DecideValue },
        new("cli-password", CliPassword(), "curl", "--password", "--passwd", "configure") { Decide = DecideValue },
        new("bearer-token", BearerToken(), "bearer") { MinEntropy = 3 },
        new("authorization-header", AuthorizationHeader(), "uthorization") { MinEntropy = 3, Decide = DecideValue },
        new("assigned-secret", Assignment(), "pass", "pw", "secret", "token", "key", "credential", "creds") { Decide = DecideAssignment },
        new("prose-secret", ProseSecret(), "pass", "pw", "secret", "token", "key", "pin") { Decide = DecideProse },
    ];

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


    /// <summary>Values that are examples in providers' documentation, not secrets (AWS's <c>...EXAMPLE</c> keys).</summary>
    private static bool IsKnownExample(string value) => value.EndsWith("EXAMPLE", StringComparison.Ordinal) || value.EndsWith("EXAMPLEKEY", StringComparison.Ordinal);

    /// <summary>Parts of a value that mark it as a stand-in (<c>my-example-key-123</c>, <c>xxxx1234</c>), for the
    /// high-entropy rules: a real random value practically never holds them.</summary>
    private static readonly string[] StandInParts = ["example", "sample", "placeholder", "dummy", "your", "xxxx", "changeme", "redacted", "insert", "replace"];

    /// <summary>Words that look mixed but are not secrets when they follow "password is" or "pass:" (product names).</summary>
    private static readonly HashSet<string> NotSecrets = new(StringComparer.OrdinalIgnoreCase)
    {
        "1password", "lastpass", "keepass", "keepassxc", "bitwarden", "dashlane", "keychain", "vaultwarden", "pass-cli",
    };

    /// <summary>The last part of a name that says the value is about a secret, not the secret (<c>token_count</c>,
    /// <c>SecretName</c>, <c>password_min_length</c>, <c>ApiKeyHeader</c>, <c>TokenEndpoint</c>).</summary>
    private static readonly string[] NameSuffixes =
    [
        "id", "ids", "name", "names", "length", "len", "size", "count", "file", "path", "dir", "url", "uri", "endpoint", "header",
        "type", "version", "algorithm", "cost", "lifetime", "ttl", "expiry", "min", "max", "policy", "pattern", "rules", "hint",
        "field", "prompt", "ref", "kind", "format", "mode", "limit", "budget", "label", "prefix", "provider", "store",
    ];

    /// <summary>The identifier before a name that says the value is not a secret (<c>csrf_token</c>, <c>next_page_token</c>,
    /// <c>public_key</c>, <c>max_tokens</c>, <c>cancellationToken</c>).</summary>
    private static readonly string[] NamePrefixes = ["csrf", "xsrf", "public", "page", "next", "continuation", "max", "num", "total", "input", "output", "cancellation", "sync", "primary", "foreign"];

    /// <summary>A value that passes for a secret where only its look can tell (after a bare "pass:", in prose):
    /// 6 to 128 characters with a letter and a digit or a symbol, not a version, URL, path or product name.
    /// "Refactoring", "Thursday", "expired" do not; "hunter22", "Qw7!rTz9#Lp" do.</summary>
    internal static bool LooksLikeSecret(string value) =>
        value.Length is >= 6 and <= 128 && value.Any(char.IsLetter) &&
        (value.Any(char.IsDigit) || value.Any(c => !char.IsLetterOrDigit(c) && c is not '-' and not '_' and not '.' and not '\'')) &&
        !NotSecrets.Contains(value) && !value.Contains("://", StringComparison.Ordinal) && value[0] is not '/' and not '~' &&
        !VersionLike().IsMatch(value) && Entropy(value) >= 2.5;

    /// <summary>For rules that take whatever follows a known place (URL passwords, command-line passwords, Authorization
    /// headers, npm's <c>_authToken</c>): keeps references and placeholders.</summary>
    private static int DecideValue(Match match, string source)
    {
        Group secret = match.Groups["secret"];
        string value = secret.Success ? secret.Value : match.Value;
        return IsStandIn(value) ? 0 : value.Length;
    }

    private static bool IsStandIn(string value) =>
        IsReference(value) || Placeholders.Contains(value) || value.All(c => c is '*' or 'x' or 'X' or '.' or '-' or '_' or '•') ||
        YourPlaceholder().IsMatch(value);

    /// <summary>Keeps a value assigned to a secret-sounding name when it is evidently not a secret; returns how much of it to replace.</summary>
    private static int DecideAssignment(Match match, string source)
    {
        Group secret = match.Groups["secret"];
        Group key = match.Groups["key"];
        string value = secret.Value;

        // A query parameter (?token=...&next=2) ends at the next '&'; elsewhere '&' may be part of a password.
        if (key.Index > 0 && source[key.Index - 1] is '?' or '&' && value.IndexOf('&', StringComparison.Ordinal) is var amp and > 0)
        {
            value = value[..amp];
        }

        bool quoted = secret.Index > 0 && source[secret.Index - 1] is '"' or '\'' or '`';
        if (!quoted)
        {
            value = value.TrimEnd('.', ':');
        }

        int after = match.Index + match.Length;
        bool call = !quoted && after < source.Length && source[after] is '(' or '[' or '.';
        if (call || value.Length == 0 || IsStandIn(value) ||
            value.Contains("environ", StringComparison.OrdinalIgnoreCase) || value.Contains("process.env", StringComparison.OrdinalIgnoreCase) ||
            IsNotASecretName(key.Value, source, key.Index))
        {
            return 0;
        }

        string name = key.Value;
        if (name.Equals("pass", StringComparison.OrdinalIgnoreCase) || name.Equals("pw", StringComparison.OrdinalIgnoreCase))
        {
            // "second pass: Refactoring", "Tests pass: Authentication": a bare "pass" is a password only when its value looks like one.
            return LooksLikeSecret(value) ? value.Length : 0;
        }

        bool passwordLike = name.Contains("pass", StringComparison.OrdinalIgnoreCase) || name.Contains("pwd", StringComparison.OrdinalIgnoreCase);
        if (passwordLike)
        {
            return value.Length >= 4 && !IsProse(secret.Index, value, source) ? value.Length : 0;
        }

        // token = 5, max_tokens: 4096, secret_name = "db", tokenStorageKey: "auth.token": not secrets. Long, random,
        // unbroken values are.
        bool shaped = value.Length >= 10 && value.Any(char.IsLetter) && !value.Any(char.IsWhiteSpace) &&
            (value.Any(char.IsDigit) || value.Any(c => c is '+' or '/' or '='));
        bool standIn = StandInParts.Any(p => value.Contains(p, StringComparison.OrdinalIgnoreCase));
        return shaped && !standIn && Entropy(value) >= 3.5 ? value.Length : 0;
    }

    /// <summary>Whether a secret-sounding name says its value is about a secret, not the secret: a telling last part
    /// (<see cref="NameSuffixes"/>, after a separator or a case change) or a telling identifier before it (<see cref="NamePrefixes"/>).</summary>
    private static bool IsNotASecretName(string name, string source, int at)
    {
        foreach (string suffix in NameSuffixes)
        {
            int p = name.Length - suffix.Length;
            if (p > 0 && name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) &&
                (name[p - 1] is '_' or '.' or '-' || (char.IsUpper(name[p]) && (char.IsLower(name[p - 1]) || char.IsDigit(name[p - 1])))))
            {
                return true;
            }
        }

        int start = at;
        while (start > 0 && (char.IsLetterOrDigit(source[start - 1]) || source[start - 1] is '_' or '-' or '.'))
        {
            start--;
        }

        ReadOnlySpan<char> before = source.AsSpan(start, at - start).TrimEnd("_-.");
        foreach (string prefix in NamePrefixes)
        {
            if (before.EndsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>"my psql password is X", "the secret key is X", "with secret X": only when X looks like a secret.</summary>
    private static int DecideProse(Match match, string source)
    {
        string value = match.Groups["secret"].Value.TrimEnd('.', ':', '?', '!');
        bool with = match.Value.StartsWith("with", StringComparison.OrdinalIgnoreCase);
        return (with || DeterminerBefore(match.Index, source)) && LooksLikeSecret(value) && !IsStandIn(value) ? value.Length : 0;
    }

    private static readonly HashSet<string> Determiners = new(StringComparer.OrdinalIgnoreCase) { "my", "the", "his", "her", "our", "their", "your", "its", "this", "that", "a", "an" };

    /// <summary>Whether one of the three words before <paramref name="at"/> (on the same line) is a determiner: "my psql
    /// password", "the root password", "his pw".</summary>
    private static bool DeterminerBefore(int at, string source)
    {
        int end = at;
        for (int words = 0; words < 3; words++)
        {
            while (end > 0 && source[end - 1] is ' ' or '\t')
            {
                end--;
            }

            int start = end;
            while (start > 0 && (char.IsLetterOrDigit(source[start - 1]) || source[start - 1] is '_' or '.' or '-'))
            {
                start--;
            }

            if (start == end)
            {
                return false;
            }

            if (Determiners.Contains(source[start..end]))
            {
                return true;
            }

            end = start;
        }

        return false;
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
    private static bool IsProse(int start, string value, string source)
    {
        int end = start + value.Length;
        int before = start - 1;
        while (before >= 0 && source[before] is ' ' or '\t')
        {
            before--;
        }

        if (before < 0 || source[before] != ':' || !value.All(char.IsLetter) || !ProseWords.Contains(value))
        {
            return false;
        }

        return end == source.Length || (source[end] == ' ' && end + 1 < source.Length && char.IsLetterOrDigit(source[end + 1])) || source[end] is '.' or ',' or ';' or '!';
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

    [GeneratedRegex(@"\bsk-ant-[a-z0-9]{2,12}-[A-Za-z0-9_\-]{20,}", RegexOptions.CultureInvariant)]
    private static partial Regex AnthropicKey();

    [GeneratedRegex(@"\bsk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_\-]*[0-9])[A-Za-z0-9_\-]{20,}", RegexOptions.CultureInvariant)]
    private static partial Regex OpenAiKey();

    [GeneratedRegex(@"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b", RegexOptions.CultureInvariant)]
    private static partial Regex GitHubToken();

    // Personal, deploy, runner, pipeline-trigger, CI job, feed, incoming-mail, agent, OAuth-app, SCIM and feature-flag
    // tokens (optionally routable: a '.' and 9 more characters), and runner registration tokens.
    [GeneratedRegex(@"\b(?:gl(?:pat|dt|rt|ptt|cbt|ft|imt|agent|oas|soat|ffct)-[0-9A-Za-z_\-]{20,300}(?:\.[0-9a-z]{9})?|GR1348941[0-9A-Za-z_\-]{20})(?![0-9A-Za-z_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex GitLabToken();

    // User access tokens (hf_ and 34 letters or digits; many are all letters) and the old organization tokens.
    [GeneratedRegex(@"\b(?:hf_|api_org_)[A-Za-z0-9]{34}(?![A-Za-z0-9_])", RegexOptions.CultureInvariant)]
    private static partial Regex HuggingFaceToken();

    // Granular and automation tokens (npm_ and 36 characters); the value of _authToken in .npmrc lines (old tokens are UUIDs).
    [GeneratedRegex(@"\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])|:_authToken[ \t]*=[ \t]*[""']?(?<secret>(?!\[REDACTED)[^\s""']{8,})", RegexOptions.CultureInvariant)]
    private static partial Regex NpmToken();

    [GeneratedRegex(@"(?:https?://hooks|\bhooks)\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_]{20,}", RegexOptions.CultureInvariant)]
    private static partial Regex SlackWebhook();

    // Bot, user, app, workspace, legacy and configuration tokens: all start with digits after the prefix.
    [GeneratedRegex(@"\b(?:xox[abposre]|xapp|xoxe\.xox[bp])-[0-9][A-Za-z0-9\-]{8,}", RegexOptions.CultureInvariant)]
    private static partial Regex SlackToken();

    // Secret, restricted and publishable keys (live, test, prod), and webhook signing secrets.
    [GeneratedRegex(@"\b(?:(?:sk|rk|pk)_(?:live|test|prod)_[0-9A-Za-z]{10,247}|whsec_[0-9A-Za-z]{24,})\b", RegexOptions.CultureInvariant)]
    private static partial Regex StripeKey();

    [GeneratedRegex(@"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", RegexOptions.CultureInvariant)]
    private static partial Regex AwsAccessKey();

    // A secret access key has no prefix: 40 characters of base64 within 120 characters after an access key id (the
    // next line of a .env or credentials file, the next argument of a constructor), whatever the name.
    [GeneratedRegex(@"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b[\s\S]{0,120}?(?<![A-Za-z0-9/+])(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])", RegexOptions.CultureInvariant)]
    private static partial Regex AwsSecretKey();

    [GeneratedRegex(@"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex GoogleApiKey();

    [GeneratedRegex(@"\bGOCSPX-[0-9A-Za-z_\-]{28}(?![0-9A-Za-z_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex GoogleOAuthSecret();

    [GeneratedRegex(@"\bya29\.[0-9A-Za-z_\-]{20,}", RegexOptions.CultureInvariant)]
    private static partial Regex GoogleOAuthToken();

    // The key inside a storage, Service Bus, Event Hubs or IoT Hub connection string (base64 of 32 or 64 bytes).
    [GeneratedRegex(@"\b(?:AccountKey|SharedAccessKey)[ \t]*=[ \t]*(?<secret>[A-Za-z0-9+/]{40,100}={0,2})", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex AzureStorageKey();

    // The signature of a shared access signature, URL-encoded or not, in a URL or a connection string.
    [GeneratedRegex(@"[?&;]sig=(?<secret>[A-Za-z0-9%+/]{30,}={0,2})", RegexOptions.CultureInvariant)]
    private static partial Regex AzureSas();

    // Entra ID (Azure AD) application client secrets: three characters, a digit, "Q~", then 31 to 34 more.
    [GeneratedRegex(@"[A-Za-z0-9_~.]{3}[0-9]Q~(?<![A-Za-z0-9_~.\-][A-Za-z0-9_~.]{3}[0-9]Q~)[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])", RegexOptions.CultureInvariant)]
    private static partial Regex AzureAdClientSecret();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", RegexOptions.CultureInvariant)]
    private static partial Regex JsonWebToken();

    // The user may be empty (redis://:pw@host); the password runs to the LAST '@' that is followed by a host.
    [GeneratedRegex(@"://(?<=[a-zA-Z0-9+.\-]://)[^\s:/?#@'""<>]{0,256}:(?<secret>(?!\[REDACTED)[^\s/?'""<>]{1,256})@(?=[A-Za-z0-9.\-\[\]_]+(?::\d{1,5})?(?:[/?#\s'""<>),;]|$))", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPassword();

    // curl -u user:password, --password[=] value, aws configure set aws_secret_access_key value.
    [GeneratedRegex(@"\bcurl\b[^\r\n]*?[ \t](?:-u|--user)[ \t]+[""']?[^\s:""']+:(?<secret>(?!\[REDACTED)[^\s""']{4,})|--(?<![\w-]--)(?:password|passwd)(?:=|[ \t]+)[""']?(?<secret>(?![-\[])[^\s""']{4,})|\baws[ \t]+configure[ \t]+set[ \t]+(?:aws_secret_access_key|aws_session_token)[ \t]+(?<secret>(?!\[REDACTED)\S{16,})", RegexOptions.CultureInvariant)]
    private static partial Regex CliPassword();

    // Also "Bearer", "<token>" (the two arguments of a header value constructor).
    [GeneratedRegex(@"\b[Bb]earer(?:[ \t]+|[""'][ \t]*,[ \t]*[""'])(?<secret>(?!\[REDACTED)[A-Za-z0-9\-._~+/]{16,}=*)", RegexOptions.CultureInvariant)]
    private static partial Regex BearerToken();

    // Authorization / Proxy-Authorization headers of any scheme (Basic, token, Digest, ...): the credential after the scheme.
    [GeneratedRegex(@"\b[Aa]uthorization[""']?[ \t]*[:=,][ \t]*[""']?(?:(?:[Bb]asic|[Tt]oken|[Dd]igest|[Nn]egotiate|NTLM|[Bb]earer)[ \t]+)?(?<secret>(?!\[REDACTED)[A-Za-z0-9\-._~+/=:]{8,})", RegexOptions.CultureInvariant)]
    private static partial Regex AuthorizationHeader();

    // A quoted value is taken whole, spaces and punctuation included ("correct horse battery staple"); an unquoted
    // one runs to the first space or delimiter. The operator may be =, :, := or =>, never across a line end (an empty
    // JWT_SECRET= does not take the next line).
    [GeneratedRegex(@"(?<key>(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|auth[_\-]?key|signing[_\-]?key|credentials?|creds)[A-Za-z0-9_.\-]*|(?:pass|pw)(?<![A-Za-z0-9](?:pass|pw))(?![A-Za-z0-9]))\\?[""']?[ \t]*(?::=|=>|[:=])[ \t]*(?:\\?""(?<secret>[^""\\\r\n]{4,256})(?=\\?"")|'(?<secret>[^'\r\n]{4,256})(?=')|`(?<secret>[^`\r\n]{4,256})(?=`)|\\?[""']?(?<secret><?[^\s""'\\,;(){}\[\]<>`]{4,}))",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Assignment();

    // "my psql password is X", "the root password is X", "the password for the admin panel is X", "his pw is X",
    // "the secret key is X", "with secret X". The noun comes first (a fast literal search); a determiner among the
    // three words before it is checked by DecideProse.
    [GeneratedRegex(@"\b(?:password|passphrase|passcode|passwd|pw|pwd|secret(?:[ \t]+key)?|(?:api|access|private)[ \t]+key|token|pin)(?:[ \t]+(?:for|of|on|to)[ \t]+(?:the[ \t]+)?[\w.\-]+(?:[ \t]+[\w.\-]+)?)?[ \t]+(?:is|was|=|:)[ \t]+[""'`]?(?<secret>(?!\[REDACTED)[^\s""'`<>(){}\[\],;]{6,128})|\bwith[ \t]+(?:the[ \t]+)?(?:secret|password|passphrase|token|api[ \t]+key)[ \t]+[""'`]?(?<secret>(?!\[REDACTED)[^\s""'`<>(){}\[\],;]{6,128})",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ProseSecret();

    // YOUR_API_KEY, your-token-here, YourPasswordHere: "your" and letters only, naming what goes there.
    [GeneratedRegex(@"^your[_\-\s]?[a-z_\-\s]*(?:key|pass|password|token|secret|here|name|id|credential)[a-z_\-\s]*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex YourPlaceholder();

    [GeneratedRegex(@"^v?\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.\-]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionLike();
}
