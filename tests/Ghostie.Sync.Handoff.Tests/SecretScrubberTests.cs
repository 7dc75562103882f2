using Ghostie.Sync.Handoff.Importers;
using Ghostie.Sync.Handoff.Tests.Support;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Handoff.Tests;

public sealed class SecretScrubberTests
{
    // Real-looking but fake keys, assembled at run time so that secret scanners do not flag this file.
    private static readonly string OpenAi = "sk-" + "proj-" + "Qm9vYmFyQmF6UXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6T3BlbkFJ";
    private static readonly string OpenAiLegacy = "sk-" + "3kTz8QmN1pWx7vLc9RbY2hGf4JdS6aKe0TuIoPzXnMqVwBcE";
    private static readonly string Anthropic = "sk-" + "ant-api03-" + "Xq7L2vN9cR4tW8yB1mK5pJ3hG6fD0sA-zQ_uE2iO7rT4yU9wP1aS3dF6gH8jK0lZx2cV5bN7mM9qW1eR3tY5uI7oP9aAA";
    private static readonly string Aws = "AKIA" + "2E0A8F3B244C9986";
    private static readonly string AwsSecret = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCY7h2Lq9Zk4Tn8";
    private static readonly string GitHub = "ghp_" + "R8x2Lm4Nq7Vz1Kc9Tb3Yw6Hp0Jd5Fs2Ag8Ue";
    private static readonly string GitHubFine = "github_pat_" + "11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVw";
    private static readonly string Slack = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
    private static readonly string Google = "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY";
    private static readonly string Stripe = "sk_" + "live_" + "51H8aBcDeFgHiJkLmNoPqRsTu";
    private static readonly string Jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFsaWNlIn0" + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    private static readonly string Pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF\nq8Zx1vW3n2yK9p0q7n4l6c3Ue2pGdq5JHoR8bLm1vUzAc9sSxXfT0aGwYjH2nKtE\n-----END RSA PRIVATE KEY-----";

    public static TheoryData<string, string, string> Secrets() => new()
    {
        { "openai-key", $"export OPENAI_API_KEY={OpenAi}", OpenAi },
        { "openai-key", $"client = OpenAI(api_key=\"{OpenAiLegacy}\")", OpenAiLegacy },
        { "anthropic-key", $"ANTHROPIC_API_KEY={Anthropic} claude", Anthropic },
        { "aws-access-key", $"aws_access_key_id = {Aws}", Aws },
        { "assigned-secret", $"aws_secret_access_key = {AwsSecret}", AwsSecret },
        { "github-token", $"echo {GitHub} | gh auth login --with-token", GitHub },
        { "github-token", $"GITHUB_TOKEN: {GitHubFine}", GitHubFine },
        { "slack-token", $"SLACK_BOT_TOKEN={Slack}", Slack },
        { "google-api-key", $"const maps = new Maps('{Google}');", Google },
        { "stripe-key", $"stripe.api_key = '{Stripe}'", Stripe },
        { "jwt", $"cookie: session={Jwt}; path=/", Jwt },
        { "private-key", $"id_rsa contents:\n{Pem}\nend", "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn" },
        { "url-password", "DATABASE_URL=postgres://app:S3cr3t-P4ss@db.internal:5432/ghostie", "S3cr3t-P4ss" },
        { "bearer-token", "curl -H 'Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0' https://api.example.com", "9f8e7d6c5b4a39281706f5e4d3c2b1a0" },
        { "assigned-secret", "DB_PASSWORD=correct-horse-battery", "correct-horse-battery" },
        { "assigned-secret", "{\"client_secret\": \"8Yd0v-Xk3Q9pLm2N7bR5tW1z\"}", "8Yd0v-Xk3Q9pLm2N7bR5tW1z" },
    };

    [Theory]
    [MemberData(nameof(Secrets))]
    public void Scrub_RemovesAndCountsEachProvidersKey(string kind, string text, string secret)
    {
        var report = new ScrubReport();
        string scrubbed = SecretScrubber.Default.Scrub(text, report);

        Assert.DoesNotContain(secret, scrubbed, StringComparison.Ordinal);
        Assert.Contains($"[REDACTED:{kind}]", scrubbed, StringComparison.Ordinal);
        Assert.True(report.ByKind.GetValueOrDefault(kind) >= 1, $"{kind} not counted: {string.Join(", ", report.ByKind)}");
        Assert.Equal(report.ByKind.Values.Sum(), report.Total);
    }

    [Theory]
    [InlineData("Set max_tokens = 4096 for the summary call.")]
    [InlineData("def login(user: str, password: str) -> bool:")]
    [InlineData("token_count: 120")]
    [InlineData("password = os.environ[\"DB_PASSWORD\"]")]
    [InlineData("password = getpass()")]
    [InlineData("Commit 3f6c2a9e8b7d1c0f4e5a6b7c8d9e0f1a2b3c4d5e fixed it; id 7d3f9a52-1c4e-4b8a-9f0e-2a6c5d8e1b47.")]
    [InlineData("The task-force met; see https://example.com/docs?page=2 and src/Ghostie.Sync.Crypto/ObjectCipher.cs.")]
    [InlineData("secret: ${{ secrets.DEPLOY_KEY }}")]
    [InlineData("Use a password manager; never paste secrets in chat.")]
    [InlineData("api_key: <your key here>")]
    public void Scrub_LeavesOrdinaryTextAlone(string text)
    {
        var report = new ScrubReport();
        Assert.Equal(text, SecretScrubber.Default.Scrub(text, report));
        Assert.Equal(0, report.Total);
    }

    [Theory]
    [InlineData("{\"password\": \"correct horse battery staple\"}", "horse battery")]
    [InlineData("DB_PASSWORD=\"p@ss w0rd\"", "w0rd")]
    [InlineData("{\"password\": \"p4ss,word\"}", ",word")]
    [InlineData("passphrase = 'tea at noon, always'", "at noon")]
    [InlineData("https://alice:p@ss:w0rd@db.example.com/app", "ss:w0rd")]
    [InlineData("redis://:mypassword123@localhost:6379", "mypassword123")]
    [InlineData("Authorization: Basic dXNlcjpodW50ZXIyaHVudGVyMg==", "dXNlcjpodW50ZXIy")]
    [InlineData("curl -H 'Authorization: token 0123456789abcdef0123456789abcdef'", "0123456789abcdef")]
    public void Scrub_QuotedPasswords_UrlPasswordsAndAuthorizationHeaders_LeaveNoPart(string text, string fragment)
    {
        var report = new ScrubReport();
        string scrubbed = SecretScrubber.Default.Scrub(text, report);
        Assert.DoesNotContain(fragment, scrubbed, StringComparison.Ordinal);
        Assert.True(report.Total >= 1, scrubbed);
    }

    [Theory]
    [InlineData("const pw = \"Hunter2Secret\";", "Hunter2Secret")]
    [InlineData("DB_PASS=hunter22", "hunter22")]
    [InlineData("smtp:\n  pass: s3cr3tP4ss", "s3cr3tP4ss")]
    [InlineData("password: Yours1ncerely!", "Yours1ncerely")]
    [InlineData("password = \"$ecr3tP4ss\"", "$ecr3tP4ss")]
    [InlineData("password: <3kitty99", "kitty99")]
    [InlineData("password: changeme123", "changeme123")]
    [InlineData("Password: dragon and then log in", "dragon")]
    [InlineData("password: everything42 is the password", "everything42")]
    public void Scrub_PasswordsThatLookLikePlaceholdersOrProse_AreStillRemoved(string text, string secret)
    {
        var report = new ScrubReport();
        string scrubbed = SecretScrubber.Default.Scrub(text, report);
        Assert.DoesNotContain(secret, scrubbed, StringComparison.Ordinal);
        Assert.Equal(1, report.Total);
    }

    [Theory]
    [InlineData("password: changeme")]
    [InlineData("POSTGRES_PASSWORD=change_me")]
    [InlineData("Password: must be rotated every 90 days.")]
    [InlineData("Tests pass: everything is green now.")]
    [InlineData("The admin password: never share it, never paste it.")]
    [InlineData("api_key = YOUR_API_KEY")]
    [InlineData("password: YourPasswordHere")]
    [InlineData("token: $GITHUB_TOKEN and password: ${DB_PASSWORD} and pwd=%DB_PWD% and pass: $(pass show db)")]
    [InlineData("password = \"{{ vault_db_password }}\"")]
    [InlineData("bypass: true, compass = north, passport: checked")]
    public void Scrub_PlaceholdersReferencesAndProse_AreLeftAlone(string text)
    {
        var report = new ScrubReport();
        Assert.Equal(text, SecretScrubber.Default.Scrub(text, report));
        Assert.Equal(0, report.Total);
    }

    [Fact]
    public void Transcript_ASecretFoundOnce_IsRemovedEverywhere_EvenWhereNoRuleSeesIt()
    {
        // The password is recognizable only in the URL of the last message; the code written before holds it bare.
        var transcript = new ConversationTranscript
        {
            Id = "s",
            Messages =
            {
                new TranscriptMessage { Role = TranscriptRole.User, Text = "Wire the database up." },
                new TranscriptMessage
                {
                    Role = TranscriptRole.Assistant, Text = "Done; I used Hunter2Secret as you said.",
                    ToolCalls = { new ToolCall { Name = "Write", FilePath = "src/db.ts", Input = "{\"content\":\"connect('Hunter2Secret')\"}", Code = "connect('Hunter2Secret')", Summary = "Write src/db.ts" } },
                },
                new TranscriptMessage { Role = TranscriptRole.User, Text = "The URL is postgres://admin:Hunter2Secret@db.example.com/app by the way. Hunter2SecretX is another thing." },
            },
        };

        ScrubReport report = SecretScrubber.Default.Scrub(transcript);

        string all = string.Join("\n", transcript.Messages.SelectMany(m => new[] { m.Text }.Concat(m.ToolCalls.SelectMany(c => new[] { c.Input, c.Code, c.Summary }))));
        Assert.DoesNotContain("Hunter2Secret'", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Hunter2Secret ", all, StringComparison.Ordinal);
        Assert.DoesNotContain(":Hunter2Secret@", all, StringComparison.Ordinal);
        Assert.Contains("Hunter2SecretX", all, StringComparison.Ordinal); // only whole tokens: not a longer word that starts the same
        Assert.Equal("connect('[REDACTED:url-password]')", transcript.Messages[1].ToolCalls[0].Code);
        Assert.Equal(3, report.Total); // the URL, the message, the tool input (its code is the same string, counted once)
    }

    [Fact]
    public void Scrub_TruncatedPemBlock_RemovedToTheEnd()
    {
        var report = new ScrubReport();
        string scrubbed = SecretScrubber.Default.Scrub("here:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", report);
        Assert.Equal("here:\n[REDACTED:private-key]", scrubbed);
    }

    [Fact]
    public async Task Transcript_EverySecretGone_FromTheStoredPackage_AndCountReported()
    {
        string[] secrets = [OpenAi, Anthropic, Aws, GitHub, Slack, Google, Stripe];
        var generator = new TranscriptGenerator(seed: 11);
        string jsonl = generator.Generate(20, secrets.Select(s => "my key is " + s).ToArray());
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "session.jsonl");
        await File.WriteAllTextAsync(path, jsonl);
        ConversationTranscript transcript = await TranscriptImporter.ImportFileAsync(path);

        using Repository repository = await Repository.CreateAsync();
        HandoffCreateResult result = await repository.Device("laptop").CreateAsync(new HandoffRequest { Transcript = transcript, TargetDeviceId = "phone" });
        HandoffPackage fetched = await repository.Device("phone").FetchAsync(result.PackageId);

        Assert.Equal(secrets.Length, result.Scrubbing.SecretsRemoved);
        Assert.Equal(secrets.Length, fetched.Scrubbing.SecretsRemoved);
        string json = SchemaTests.Json(fetched);
        foreach (string secret in secrets)
        {
            Assert.DoesNotContain(secret, json, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, string.Join("\n", transcript.Messages.Select(m => m.Text)), StringComparison.Ordinal);
        }

        Assert.Contains("[REDACTED:", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Agents_AreScrubbed_AndUnchangedWhenClean()
    {
        var report = new ScrubReport();
        var clean = new AgentState { Id = "a", SystemPrompt = "You help." };
        Assert.Same(clean, SecretScrubber.Default.Scrub(clean, report));
        var dirty = clean with { Variables = new Dictionary<string, string> { ["key"] = OpenAi }, ContextWindow = new AgentContextWindow { Messages = [new AgentMessage { Role = "user", Text = "token " + GitHub }] } };
        AgentState scrubbed = SecretScrubber.Default.Scrub(dirty, report);
        Assert.Equal("[REDACTED:openai-key]", scrubbed.Variables["key"]);
        Assert.DoesNotContain(GitHub, scrubbed.ContextWindow.Messages[0].Text, StringComparison.Ordinal);
        Assert.Equal(2, report.Total);
    }
}

public sealed class NoSecretInLogsTests
{
    [Fact]
    public async Task LogLinesAndErrors_NeverHoldTranscriptSecretsOrContent()
    {
        string key = "ghp_" + "Zk4Tn8bPxRfiCY7h2Lq9Zk4Tn8bPxRfiCY7h";
        ConversationTranscript transcript = Fixtures.SmallTranscript();
        transcript.Messages[3].Text = "my token is " + key + " and the codename is Bluebird";
        var logger = new ListLogger();
        using Repository repository = await Repository.CreateAsync();
        using var laptop = new HandoffService(repository.Storage, repository.Keys, "laptop", new HandoffOptions { TimeProvider = repository.Time }, logger: logger);
        using var phone = new HandoffService(repository.Storage, repository.Keys, "phone", new HandoffOptions { TimeProvider = repository.Time }, logger: logger);
        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest { Transcript = transcript, TargetDeviceId = "phone", Title = "Bluebird" });
        byte[] stored = repository.Storage.GetRaw(created.ObjectName)!;
        stored[^1] ^= 1;
        repository.Storage.SetRaw(created.ObjectName, stored);
        var error = await Assert.ThrowsAsync<IntegrityException>(() => phone.ResumeAsync(created.PackageId, DeviceProfile.Ios));
        await phone.ListPendingAsync();

        Assert.NotEmpty(logger.Lines);
        foreach (string text in logger.Lines.Append(error.Message))
        {
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
            Assert.DoesNotContain("Bluebird", text, StringComparison.Ordinal);
        }
    }

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger<HandoffService>
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
