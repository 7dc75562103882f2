using Ghostie.Sync.Handoff.Importers;
using Ghostie.Sync.Handoff.Tests.Support;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.AI;

namespace Ghostie.Sync.Handoff.Tests;

public sealed class CompressionTests
{
    [Fact]
    public async Task Fidelity_EveryDecisionAndTheLast10TurnsVerbatim_StoredPackageAtMost5PercentOfTheTranscript()
    {
        var generator = new TranscriptGenerator(seed: 2026);
        string jsonl = generator.Generate(exchanges: 150);
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "session.jsonl");
        await File.WriteAllTextAsync(path, jsonl);
        long rawBytes = new FileInfo(path).Length;
        ConversationTranscript transcript = await TranscriptImporter.ImportFileAsync(path);

        using Repository repository = await Repository.CreateAsync();
        HandoffCreateResult result = await repository.Device("laptop").CreateAsync(new HandoffRequest { Transcript = transcript, TargetDeviceId = "phone" });
        HandoffPackage package = await repository.Device("phone").FetchAsync(result.PackageId);

        Assert.True(rawBytes > 1_000_000, $"the fixture should be a realistic long session; it is {rawBytes:N0} bytes");
        Assert.True(result.StoredBytes <= rawBytes * 0.05, $"stored {result.StoredBytes:N0} bytes, more than 5% of {rawBytes:N0}");
        Assert.Equal(rawBytes, result.SourceBytes);
        Assert.Equal(generator.Decisions.Count, DecisionCountCheck(generator));
        foreach (string decision in generator.Decisions)
        {
            Assert.Contains(package.Context.KeyDecisions, d => d.Text == decision);
        }

        List<string> verbatim = package.Context.Thread.Where(e => e.Kind == ThreadEntryKinds.Verbatim).Select(e => e.Text).ToList();
        foreach (string turn in generator.Turns.TakeLast(10))
        {
            Assert.Contains(turn, verbatim);
        }

        // Repeated tool output (the same test run again and again) is recognised and never carried.
        Assert.True(package.Context.Compression.DuplicateToolOutputs > 50, $"{package.Context.Compression.DuplicateToolOutputs} duplicates found");
        Assert.DoesNotContain(package.Context.Thread, e => e.Text.Contains("Determining projects to restore", StringComparison.Ordinal));
        Assert.Equal("extractive", package.Context.Compression.Method);
        Assert.True(package.Context.Compression.OriginalTokens > 10 * package.Context.Compression.CompressedTokens);
    }

    private static int DecisionCountCheck(TranscriptGenerator generator) => generator.Decisions.Distinct().Count();

    [Theory]
    [InlineData("/home/me/app", "/home/me/app/src/db.ts", "src/db.ts")]
    [InlineData("/home/me/app", "/home/me/app/src/db.ts", "./src/db.ts")]
    [InlineData("C:\\work\\app", "C:\\work\\app\\src\\db.ts", "src/db.ts")]
    public async Task AFileMentionedRelatively_AndWrittenByItsAbsolutePath_IsOneActiveFile(string root, string absolute, string mention)
    {
        var transcript = new ConversationTranscript
        {
            Id = "s", ProjectRoot = root,
            Messages =
            {
                new TranscriptMessage { Index = 0, Role = TranscriptRole.User, Text = "Create the database module." },
                new TranscriptMessage { Index = 1, Role = TranscriptRole.Assistant, Text = $"I wrote {mention}; see also ../shared/notes.md.", ToolCalls = { new ToolCall { Name = "Write", FilePath = absolute, Code = "x" } } },
            },
        };

        CompressedContext context = await ExtractiveCompressor.Instance.CompressAsync(transcript, new CompressionOptions());

        ActiveFile db = Assert.Single(context.ActiveFiles, f => f.Path.EndsWith("db.ts", StringComparison.Ordinal));
        Assert.Equal(absolute, db.Path);
        Assert.Equal("created", db.Status);
        Assert.Equal(2, db.Touches);
        Assert.Contains(context.ActiveFiles, f => f.Path == "../shared/notes.md"); // never joined onto the root with '..'
    }

    [Fact]
    public async Task UndecidedLines_AreNotKeyDecisions_ButADecisionBesideOneIs()
    {
        string[] undecided =
        [
            "We haven't decided on the cache yet.",
            "The retry policy is not decided.",
            "No decision on the schema so far.",
            "Still undecided about Redis versus Memcached.",
            "Line 12 about the thing, decided nothing.",
            "Nobody agreed on the naming.",
        ];
        string[] decided =
        [
            "Decision: we'll use Postgres 16.",
            "We decided to keep the queue in memory; the pool size is not decided yet.",
            "Let's go with five retries.",
        ];
        var transcript = new ConversationTranscript { Id = "s" };
        foreach (string line in undecided.Concat(decided))
        {
            transcript.Messages.Add(new TranscriptMessage { Index = transcript.Messages.Count, Role = TranscriptRole.Assistant, Text = line });
        }

        CompressedContext context = await ExtractiveCompressor.Instance.CompressAsync(transcript, new CompressionOptions());

        Assert.Equal(decided, context.KeyDecisions.Select(d => d.Text));
    }

    [Fact]
    public async Task EarlierTurns_FillTheBudget_BySalience()
    {
        var generator = new TranscriptGenerator(seed: 5);
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "s.jsonl");
        await File.WriteAllTextAsync(path, generator.Generate(80));
        ConversationTranscript transcript = await TranscriptImporter.ImportFileAsync(path);
        var small = new CompressionOptions { TokenBudget = 3_000 };
        var large = new CompressionOptions { TokenBudget = 12_000 };

        CompressedContext a = await ExtractiveCompressor.Instance.CompressAsync(transcript, small);
        CompressedContext b = await ExtractiveCompressor.Instance.CompressAsync(transcript, large);

        int earlierA = a.Thread.Count(e => e.Salience > 0), earlierB = b.Thread.Count(e => e.Salience > 0);
        Assert.True(earlierB > earlierA, $"{earlierB} earlier turns with the larger budget, {earlierA} with the smaller");
        Assert.True(b.Compression.CompressedTokens <= 12_000);
        // Acknowledgements ("ok", "thanks, continue") are never carried as earlier turns, whatever the budget.
        Assert.DoesNotContain(b.Thread, e => e.Salience > 0 && e.Text is "ok" or "thanks, continue");
        Assert.Contains(transcript.Messages, m => m.Text == "ok");
        // Omitted runs are marked, and the thread stays in order.
        Assert.Contains(a.Thread, e => e.Kind == ThreadEntryKinds.Omitted);
        Assert.Equal(a.Thread.Select(e => e.Turn).Order(), a.Thread.Select(e => e.Turn));
    }

    [Fact]
    public async Task Abstractive_SummaryReplacesExcerpts_DecisionsAndRecentTurnsStayVerbatim_NoSecretReachesTheModel()
    {
        string key = "sk-" + "proj-" + "Zk4Tn8bPxRfiCY7h2Lq9Zk4Tn8bPxRfiCY7h2Lq9";
        var generator = new TranscriptGenerator(seed: 9);
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "s.jsonl");
        await File.WriteAllTextAsync(path, generator.Generate(40, ["the key is " + key]));
        ConversationTranscript transcript = await TranscriptImporter.ImportFileAsync(path);
        var model = new FakeChatClient("The user and the assistant made the offline queue durable; tests pass.");

        using Repository repository = await Repository.CreateAsync();
        HandoffPackage package = await repository.Device("laptop", compressor: new AbstractiveCompressor(model)).BuildAsync(new HandoffRequest { Transcript = transcript });

        Assert.Equal("abstractive", package.Context.Compression.Method);
        ThreadEntry summary = Assert.Single(package.Context.Thread, e => e.Kind == ThreadEntryKinds.Summary);
        Assert.Equal("The user and the assistant made the offline queue durable; tests pass.", summary.Text);
        Assert.StartsWith(summary.Text, package.Context.ProjectState.Summary, StringComparison.Ordinal);
        foreach (string turn in generator.Turns.TakeLast(10))
        {
            Assert.Contains(package.Context.Thread, e => e.Kind == ThreadEntryKinds.Verbatim && e.Text == turn.Replace(key, "[REDACTED:openai-key]", StringComparison.Ordinal));
        }

        Assert.Equal(generator.Decisions, package.Context.KeyDecisions.Select(d => d.Text));
        string prompt = Assert.Single(model.Prompts);
        Assert.DoesNotContain(key, prompt, StringComparison.Ordinal);
        Assert.Contains("[REDACTED:openai-key]", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Abstractive_ModelFails_ExtractiveKeptWithANote()
    {
        ConversationTranscript transcript = Fixtures.SmallTranscript(40);
        var compressor = new AbstractiveCompressor(new FakeChatClient(null));
        CompressedContext context = await compressor.CompressAsync(transcript, new CompressionOptions());
        Assert.Equal("extractive", context.Compression.Method);
        Assert.Contains("abstractive summary failed (HttpRequestException)", context.Compression.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void TokenEstimate_IsDocumentedRule()
    {
        var counter = EstimatingTokenCounter.Instance;
        Assert.Equal(0, counter.CountTokens(""));
        Assert.Equal(1, counter.CountTokens("abcd"));
        Assert.Equal(2, counter.CountTokens("abcde"));
        Assert.Equal(3, counter.CountTokens("日本語"));
        Assert.Equal(1 + 1, counter.CountTokens("hi 😀")); // 3 ASCII chars, one emoji (a surrogate pair counts once)
    }

    private sealed class FakeChatClient(string? answer) : IChatClient
    {
        public List<string> Prompts { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Prompts.Add(string.Join("\n", messages.Select(m => m.Text)));
            return answer is null
                ? Task.FromException<ChatResponse>(new HttpRequestException("model down"))
                : Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answer)));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
