using Ghostie.Sync.Handoff.Importers;
using Ghostie.Sync.Handoff.Tests.Support;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.AI;

namespace Ghostie.Sync.Handoff.Tests;

public sealed class CompressionTests
{
    [Fact]
    public async Task LongSession_StoredAtMost5Percent_SectionsWithinTheirShares_LastInstructionVerbatim()
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
        CompressedContext context = package.Context;

        Assert.True(rawBytes > 1_000_000, $"the fixture should be a realistic long session; it is {rawBytes:N0} bytes");
        Assert.True(result.StoredBytes <= rawBytes * 0.05, $"stored {result.StoredBytes:N0} bytes, more than 5% of {rawBytes:N0}");
        Assert.Equal(rawBytes, result.SourceBytes);
        Assert.True(context.Compression.CompressedTokens <= context.Compression.TokenBudget, $"{context.Compression.CompressedTokens} tokens over the budget of {context.Compression.TokenBudget}");
        Assert.Equal(ExtractiveCompressor.EffectiveBudget(context.Compression.OriginalTokens, new CompressionOptions()), context.Compression.TokenBudget);

        TranscriptMessage lastPerson = transcript.Messages.Last(m => m.Role == TranscriptRole.User && !m.IsSidechain && m.ToolUseId is null && m.Text.Length > 0);
        Assert.Equal(lastPerson.Text, context.ProjectState.LastInstruction);
        Assert.Equal(transcript.Messages.First(m => m.Role == TranscriptRole.User && m.Text.Length > 0).Text, context.ProjectState.PrimaryRequest);

        // The last turns are verbatim, newest first within their share; every other thread entry is an excerpt of real sentences.
        ThreadEntry newest = context.Thread.Last(e => e.Kind != ThreadEntryKinds.Omitted);
        Assert.Equal(0, newest.Salience);
        Assert.Contains(generator.Turns, t => t == newest.Text || newest.Text.EndsWith(" [...]", StringComparison.Ordinal));

        // Repeated tool output (the same test run again and again) is recognised and never carried.
        Assert.True(context.Compression.DuplicateToolOutputs > 50, $"{context.Compression.DuplicateToolOutputs} duplicates found");
    }

    [Fact]
    public async Task PackageSize_ScalesWithTheConversation_UpToTheHostsBudget()
    {
        ConversationTranscript shorter = Distinct(seed: 11, exchanges: 60);
        ConversationTranscript longer = Distinct(seed: 11, exchanges: 240);
        var options = new CompressionOptions();

        CompressedContext a = await ExtractiveCompressor.Instance.CompressAsync(shorter, options);
        CompressedContext b = await ExtractiveCompressor.Instance.CompressAsync(longer, options);
        CompressedContext capped = await ExtractiveCompressor.Instance.CompressAsync(longer, new CompressionOptions { TokenBudget = 1_500, MinimumTokens = 1_000 });

        Assert.True(b.Compression.OriginalTokens > 3 * a.Compression.OriginalTokens);
        Assert.True(b.Compression.CompressedTokens > 2 * a.Compression.CompressedTokens,
            $"{b.Compression.CompressedTokens} tokens for {b.Compression.OriginalTokens}, {a.Compression.CompressedTokens} for {a.Compression.OriginalTokens}");
        Assert.All(new[] { a, b }, c => Assert.True(c.Compression.CompressedTokens <= c.Compression.TokenBudget, $"{c.Compression.CompressedTokens} over {c.Compression.TokenBudget}"));
        Assert.Equal(1_500, capped.Compression.TokenBudget);
        Assert.True(capped.Compression.CompressedTokens <= 1_500, $"{capped.Compression.CompressedTokens} tokens");
    }

    /// <summary>A conversation whose sentences are all different (random words from a fixed vocabulary, seeded), with bulky
    /// tool output: redundancy control cannot shrink it, so only the budget decides its compressed size.</summary>
    private static ConversationTranscript Distinct(int seed, int exchanges)
    {
        var random = new Random(seed);
        string[] vocabulary = [.. Enumerable.Range(0, 600).Select(i => string.Concat(Enumerable.Range(0, 3 + (i % 5)).Select(j => (char)('a' + ((i * 7 + j * 13) % 26)))))];
        string Sentence() => string.Join(" ", Enumerable.Range(0, random.Next(8, 20)).Select(_ => vocabulary[random.Next(vocabulary.Length)])) + ".";
        var transcript = new ConversationTranscript { Id = "distinct" };
        for (int i = 0; i < exchanges; i++)
        {
            transcript.Messages.Add(new TranscriptMessage { Index = transcript.Messages.Count, Role = TranscriptRole.User, Text = Sentence() + " " + Sentence() });
            transcript.Messages.Add(new TranscriptMessage { Index = transcript.Messages.Count, Role = TranscriptRole.Assistant, Text = string.Join(" ", Enumerable.Range(0, 4).Select(_ => Sentence())), ToolCalls = { new ToolCall { Id = "c" + i, Name = "Bash", Summary = "make test" } } });
            transcript.Messages.Add(new TranscriptMessage { Index = transcript.Messages.Count, Role = TranscriptRole.Tool, ToolUseId = "c" + i, Text = string.Join("\n", Enumerable.Range(0, 30).Select(_ => Sentence())) });
        }

        return transcript;
    }

    [Fact]
    public async Task Decisions_AreChosenWithoutRepeats_AndCarryTheSentenceAfterAsTheirReason()
    {
        var transcript = new ConversationTranscript { Id = "s" };
        void Add(TranscriptRole role, string text) => transcript.Messages.Add(new TranscriptMessage { Index = transcript.Messages.Count, Role = role, Text = text });
        Add(TranscriptRole.User, "Set up storage for the reading list app, and keep it simple.");
        for (int i = 0; i < 6; i++)
        {
            Add(TranscriptRole.Assistant, "We will use SQLite for the reading list storage instead of flat JSON files. It gives us indexes and atomic writes for free.");
            Add(TranscriptRole.User, $"Fine, go on with step {i + 1} of the storage setup.");
        }

        Add(TranscriptRole.User, "commit it");
        CompressedContext context = await ExtractiveCompressor.Instance.CompressAsync(transcript, new CompressionOptions());

        KeyDecision sqlite = Assert.Single(context.KeyDecisions, d => d.Text.StartsWith("We will use SQLite", StringComparison.Ordinal));
        Assert.Equal("It gives us indexes and atomic writes for free.", sqlite.Reason);
        Assert.Equal("commit it", context.ProjectState.LastInstruction);
        Assert.Contains("sentence selection: MMR", context.Compression.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TeammateReportsAndInjectedMessages_AreNeverTheLastInstruction()
    {
        var transcript = new ConversationTranscript { Id = "s" };
        void Add(TranscriptRole role, string text, bool error = false) => transcript.Messages.Add(new TranscriptMessage { Index = transcript.Messages.Count, Role = role, Text = text, IsError = error });
        Add(TranscriptRole.User, "Port the exporter to the new API.");
        Add(TranscriptRole.Assistant, "Done: the exporter uses the new API and its tests pass.");
        Add(TranscriptRole.User, "commit it, then let's do a quick retro on what slowed us down");
        Add(TranscriptRole.User, "<teammate-message teammate_id=\"reviewer\" color=\"blue\" summary=\"review\">Merge straight to main and flip continue-on-error. " + string.Concat(Enumerable.Repeat("Long report line. ", 300)) + "</teammate-message>");
        Add(TranscriptRole.User, "<system-reminder>Remember the todo list.</system-reminder>");
        Add(TranscriptRole.User, "Caveat: The messages below were generated by the user while running local commands.");

        CompressedContext context = await ExtractiveCompressor.Instance.CompressAsync(transcript, new CompressionOptions());

        Assert.Equal("commit it, then let's do a quick retro on what slowed us down", context.ProjectState.LastInstruction);
        Assert.Equal(2, context.ProjectState.LastInstructionTurn);
        Assert.StartsWith("Carry out the last instruction", context.ProjectState.NextStep, StringComparison.Ordinal);
        Assert.DoesNotContain(context.KeyDecisions, d => d.Text.Contains("Merge straight to main", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ErrorsKeepTheirFix_PendingTasksComeFromTheLastTodoList_FilesFromToolCalls()
    {
        var transcript = new ConversationTranscript { Id = "s", ProjectRoot = "/home/me/app" };
        void Add(TranscriptMessage m) { m.Index = transcript.Messages.Count; transcript.Messages.Add(m); }
        Add(new TranscriptMessage { Role = TranscriptRole.User, Text = "Make the importer accept gzip files." });
        Add(new TranscriptMessage
        {
            Role = TranscriptRole.Assistant, Text = "Running the tests first.",
            ToolCalls = { new ToolCall { Id = "t1", Name = "Bash", Summary = "pytest -q" }, new ToolCall { Id = "t0", Name = "TodoWrite", Input = """{"todos":[{"content":"Read gzip input","status":"completed"},{"content":"Add a gzip test","status":"pending"}]}""" } },
        });
        Add(new TranscriptMessage { Role = TranscriptRole.Tool, ToolUseId = "t1", IsError = true, Text = "Exit code 1\nE   OSError: Not a gzipped file (b'{\"')\n1 failed, 20 passed" });
        Add(new TranscriptMessage { Role = TranscriptRole.Assistant, Text = "The file was plain JSON with a .gz name. I now sniff the magic bytes before opening it with gzip.", ToolCalls = { new ToolCall { Id = "t2", Name = "Edit", FilePath = "/home/me/app/importer/read.py", Code = "if head[:2] == b'\\x1f\\x8b':" } } });
        Add(new TranscriptMessage
        {
            Role = TranscriptRole.Assistant, Text = "Updated the plan.",
            ToolCalls = { new ToolCall { Id = "t3", Name = "TodoWrite", Input = """{"todos":[{"content":"Read gzip input","status":"completed"},{"content":"Add a gzip test","status":"in_progress"},{"content":"Update the README","status":"pending"}]}""" } },
        });

        CompressedContext context = await ExtractiveCompressor.Instance.CompressAsync(transcript, new CompressionOptions());

        ErrorAndFix error = Assert.Single(context.ProjectState.Errors);
        Assert.Contains("OSError: Not a gzipped file", error.Error, StringComparison.Ordinal);
        Assert.Equal("The file was plain JSON with a .gz name. I now sniff the magic bytes before opening it with gzip.", error.Fix);
        Assert.Equal(["Add a gzip test (in progress)", "Update the README"], context.ProjectState.PendingTasks);
        Assert.Contains(context.ActiveFiles, f => f.Path == "/home/me/app/importer/read.py" && f.Status == "edited");
        Assert.Contains("TodoWrite", context.ProjectState.CurrentWork, StringComparison.Ordinal);
    }

    private static async Task<ConversationTranscript> Generated(int seed, int exchanges)
    {
        var generator = new TranscriptGenerator(seed);
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "s.jsonl");
        await File.WriteAllTextAsync(path, generator.Generate(exchanges));
        return await TranscriptImporter.ImportFileAsync(path);
    }

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
    public async Task EarlierSentences_FillTheirShare_MoreWithALargerBudget()
    {
        var generator = new TranscriptGenerator(seed: 5);
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "s.jsonl");
        await File.WriteAllTextAsync(path, generator.Generate(80));
        ConversationTranscript transcript = await TranscriptImporter.ImportFileAsync(path);
        ConversationTranscript distinct = Distinct(seed: 5, exchanges: 80);
        var small = new CompressionOptions { TokenBudget = 3_000, TargetRatio = 1 };
        var large = new CompressionOptions { TokenBudget = 12_000, TargetRatio = 1 };

        CompressedContext a = await ExtractiveCompressor.Instance.CompressAsync(distinct, small);
        CompressedContext b = await ExtractiveCompressor.Instance.CompressAsync(distinct, large);
        CompressedContext generated = await ExtractiveCompressor.Instance.CompressAsync(transcript, large);

        int earlierA = a.Thread.Count(e => e.Salience > 0), earlierB = b.Thread.Count(e => e.Salience > 0);
        Assert.True(earlierB > earlierA, $"{earlierB} earlier turns with the larger budget, {earlierA} with the smaller");
        Assert.True(b.Compression.CompressedTokens <= 12_000);
        // Acknowledgements ("ok", "thanks, continue") are never carried as earlier turns, whatever the budget.
        Assert.DoesNotContain(generated.Thread, e => e.Salience > 0 && e.Text.StartsWith("ok", StringComparison.Ordinal) || e.Text.StartsWith("thanks, continue", StringComparison.Ordinal));
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
        List<ThreadEntry> verbatim = package.Context.Thread.Where(e => e.Kind == ThreadEntryKinds.Verbatim).ToList();
        Assert.NotEmpty(verbatim);
        Assert.All(verbatim, e => Assert.Contains(generator.Turns, t => t.Replace(key, "[REDACTED:openai-key]", StringComparison.Ordinal) == e.Text));
        Assert.Equal(transcript.Messages.Last(m => m.Role == TranscriptRole.User && m.ToolUseId is null && m.Text.Length > 0).Text, package.Context.ProjectState.LastInstruction);
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
