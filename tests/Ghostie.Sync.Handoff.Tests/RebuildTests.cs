using Ghostie.Sync.Handoff.Tests.Support;

namespace Ghostie.Sync.Handoff.Tests;

public sealed class RebuildTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 25)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void NoProfileBudget_IsEverExceeded(int seed)
    {
        var random = new Random(seed);
        HandoffPackage package = RandomPackage(random);
        foreach (DeviceProfile profile in DeviceProfile.BuiltIn.Append(new DeviceProfile("tiny", 3, 150, 2, 1)))
        {
            RebuiltConversation rebuilt = HandoffRebuilder.Rebuild(package, profile, new HandoffResumeOptions());
            string where = $"seed {seed}, profile {profile.Name}";
            Assert.True(rebuilt.ContextTokens <= profile.ContextTokens, $"{where}: {rebuilt.ContextTokens} tokens");
            Assert.Equal(TiktokenTokenCounter.O200kBase.CountTokens(rebuilt.Context), rebuilt.ContextTokens);
            Assert.True(rebuilt.ActiveAgents.Count <= profile.MaxAgents, $"{where}: {rebuilt.ActiveAgents.Count} agents");
            Assert.True(rebuilt.VectorCache.Count <= profile.VectorCacheEntries, $"{where}: {rebuilt.VectorCache.Count} vectors");
            Assert.True(rebuilt.EstimatedMemoryBytes <= profile.MemoryBudgetBytes, $"{where}: {rebuilt.EstimatedMemoryBytes:N0} bytes");
            Assert.Equal(package.Agents.Count, rebuilt.ActiveAgents.Count + rebuilt.DeferredAgents.Count + rebuilt.DroppedAgents.Count);
            Assert.Equal(package.Embeddings!.Entries.Count, rebuilt.VectorCache.Count + rebuilt.VectorsLeftOut);
            Assert.True(rebuilt.Sections.Sum(s => s.Included) > 0, $"{where}: empty context");
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void NoSection_IsOverItsBudget_AndTheLastInstructionIsVerbatimInEveryProfile(int seed)
    {
        HandoffPackage package = RandomPackage(new Random(seed));
        string instruction = "commit it, then let's do a quick retro on what slowed us down (seed " + seed + ")";
        package = package with
        {
            Context = package.Context with
            {
                ProjectState = package.Context.ProjectState with
                {
                    LastInstruction = instruction, PrimaryRequest = "Port the exporter. " + string.Concat(Enumerable.Repeat("More detail. ", 400)),
                    CurrentWork = "Editing the exporter.", NextStep = "Run the tests.", PendingTasks = ["Write the README", "Tag the release"],
                    Errors = [new ErrorAndFix { Error = "Exit code 1", Fix = "Pinned the version.", Turn = 3 }],
                },
            },
        };
        foreach (DeviceProfile profile in DeviceProfile.BuiltIn)
        {
            RebuiltConversation rebuilt = HandoffRebuilder.Rebuild(package, profile, new HandoffResumeOptions());
            Assert.Contains(instruction, rebuilt.Context, StringComparison.Ordinal);
            Assert.Equal([ContextSections.ResumptionPoint, ContextSections.LastInstruction], rebuilt.Sections.Take(2).Select(s => s.Name));
            Assert.DoesNotContain("Last request:", rebuilt.Context, StringComparison.Ordinal); // the user message of the resumption point is not shown as the instruction
            foreach (RebuiltSection section in rebuilt.Sections.Where(s => s.Included > 0))
            {
                Assert.True(section.Budget > 0, $"{profile.Name}/{section.Name}: no budget recorded");
                Assert.True(section.Tokens <= section.Budget, $"seed {seed}, {profile.Name}/{section.Name}: {section.Tokens} tokens over its budget of {section.Budget}");
            }

            Assert.True(rebuilt.ContextTokens <= profile.ContextTokens);
        }
    }

    [Fact]
    public void AppendedSections_RespectACounterThatIsNotAdditive()
    {
        // A counter that charges 50 tokens per line break: the per-item accounting underestimates, the final check must catch it.
        HandoffPackage package = RandomPackage(new Random(3));
        var counter = new LineHeavyCounter();
        RebuiltConversation rebuilt = HandoffRebuilder.Rebuild(package, DeviceProfile.Web, new HandoffResumeOptions { TokenCounter = counter });
        Assert.True(counter.CountTokens(rebuilt.Context) <= DeviceProfile.Web.ContextTokens);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ASuperAdditiveCounter_CutsLowPriorityFirst_AndKeepsTheNewestTurns(int seed)
    {
        // A counter whose count of a whole text far exceeds the sum of its parts (as a tokenizer with a per-text
        // overhead growing with length might): the final check must drop items, the oldest recent turns before the newest.
        HandoffPackage random = RandomPackage(new Random(seed));
        HandoffPackage package = random with
        {
            Context = random.Context with
            {
                KeyDecisions = random.Context.KeyDecisions.Take(2).ToArray(),
                Thread = random.Context.Thread.Select((e, i) => e.Kind == ThreadEntryKinds.Verbatim && e.Salience == 0
                    ? e with { Text = $"Recent turn {i}: " + string.Concat(Enumerable.Repeat("a brief remark on the queue. ", 20)) }
                    : e).ToArray(),
            },
        };
        var counter = new QuadraticCounter();
        RebuiltConversation rebuilt = HandoffRebuilder.Rebuild(package, DeviceProfile.Web, new HandoffResumeOptions { TokenCounter = counter });

        string shape = string.Join(", ", rebuilt.Sections.Select(s => $"{s.Name} {s.Included}/{s.Omitted}"));
        Assert.True(counter.CountTokens(rebuilt.Context) <= DeviceProfile.Web.ContextTokens, shape);
        Assert.Equal(counter.CountTokens(rebuilt.Context), rebuilt.ContextTokens);
        RebuiltSection recent = Assert.Single(rebuilt.Sections, s => s.Name == ContextSections.RecentTurns);
        Assert.True(recent.Omitted > 0, "the test must make the rebuilder drop recent turns: " + shape);
        Assert.True(recent.Included > 0, shape);
        ThreadEntry newest = package.Context.Thread.Last(e => e.Kind == ThreadEntryKinds.Verbatim && e.Salience == 0);
        Assert.Contains($"[{newest.Role}] {newest.Text}", rebuilt.Context, StringComparison.Ordinal);
        Assert.All(rebuilt.Sections.SkipWhile(s => s.Name != ContextSections.RecentTurns).Skip(1), s => Assert.Equal(0, s.Included));
    }

    [Fact]
    public void ACounterThatCannotFitAnything_IsAClearError_NotACrash()
    {
        HandoffPackage package = RandomPackage(new Random(4));
        var error = Assert.Throws<GhostieSyncException>(() => HandoffRebuilder.Rebuild(package, DeviceProfile.Web, new HandoffResumeOptions { TokenCounter = new ConstantCounter(5_000) }));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("'constant'", error.Message, StringComparison.Ordinal);

        var negative = Assert.Throws<GhostieSyncException>(() => HandoffRebuilder.Rebuild(package, DeviceProfile.Web, new HandoffResumeOptions { TokenCounter = new ConstantCounter(-1) }));
        Assert.Contains("negative", negative.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Agents_RestoredByActivationOrder_WithinBudget_RestDeferredAndLoadExactly()
    {
        HandoffPackage package = Fixtures.Full("0123456789abcdef01234567") with
        {
            Agents =
            [
                Agent("coder", priority: 0, megabytes: 60),
                Agent("planner", priority: 1, megabytes: 30),
                Agent("reviewer", priority: 2, megabytes: 10),
                Agent("tester", priority: 3, megabytes: 5),
            ],
            Reconstruction = Fixtures.Full("0123456789abcdef01234567").Reconstruction with { AgentActivationOrder = ["planner", "coder", "reviewer", "tester"] },
        };

        RebuiltConversation ios = HandoffRebuilder.Rebuild(package, DeviceProfile.Ios);
        Assert.Equal(["planner", "coder"], ios.ActiveAgents.Select(a => a.Id));
        Assert.Equal(["reviewer", "tester"], ios.DeferredAgents.Select(a => a.Id));

        RebuiltConversation web = HandoffRebuilder.Rebuild(package, DeviceProfile.Web);
        Assert.Equal(["planner"], web.ActiveAgents.Select(a => a.Id));

        // 40 MB: the planner (30) fits, the coder (60) does not; the reviewer (10) would, but only two agents... of which one slot is left.
        RebuiltConversation small = HandoffRebuilder.Rebuild(package, new DeviceProfile("small", 45, 4_000, 10, 2));
        Assert.Equal(["planner", "reviewer"], small.ActiveAgents.Select(a => a.Id));
        DeferredAgent coder = Assert.Single(small.DeferredAgents, a => a.Id == "coder");
        AgentState loaded = coder.Load();
        Assert.Equal(SchemaTests.Json(package with { Agents = [package.Agents[0]] }), SchemaTests.Json(package with { Agents = [loaded] }));
        Assert.True(coder.HeldBytes < 2_000);
    }

    [Fact]
    public void VectorCache_KeepsTheMostSimilar()
    {
        HandoffPackage package = Fixtures.Full("0123456789abcdef01234567") with
        {
            Embeddings = new EmbeddingSet
            {
                Model = "m", Dimensions = 2, SimilarityThreshold = 0.85,
                Entries = Enumerable.Range(0, 100).Select(i => new EmbeddingEntry { Id = "e" + i, Similarity = 0.85 + (i / 1000.0), Vector = [i, 1] }).ToArray(),
            },
        };
        RebuiltConversation web = HandoffRebuilder.Rebuild(package, DeviceProfile.Web);
        Assert.Equal(Enumerable.Range(75, 25).Reverse().Select(i => "e" + i), web.VectorCache.Select(e => e.Id));
        Assert.Equal(75, web.VectorsLeftOut);
    }

    [Fact]
    public void Context_LoadsByPriority_DecisionsAndLatestTurnsFirst()
    {
        HandoffPackage package = RandomPackage(new Random(11));
        RebuiltConversation web = HandoffRebuilder.Rebuild(package, DeviceProfile.Web);
        RebuiltConversation desktop = HandoffRebuilder.Rebuild(package, DeviceProfile.Desktop);

        Assert.Equal(ContextSections.ResumptionPoint, web.Sections[0].Name);
        Assert.StartsWith("# Continuing: ", web.Context, StringComparison.Ordinal);
        Assert.All(package.Context.KeyDecisions, d => Assert.Contains(d.Text, desktop.Context, StringComparison.Ordinal));
        RebuiltSection recent = Assert.Single(desktop.Sections, s => s.Name == ContextSections.RecentTurns);
        Assert.Equal(0, recent.Omitted);
        // With little room the newest turn is kept, not the oldest.
        ThreadEntry newest = package.Context.Thread.Last(e => e.Salience == 0 && e.Kind == ThreadEntryKinds.Verbatim);
        RebuiltConversation tiny = HandoffRebuilder.Rebuild(package with { Reconstruction = package.Reconstruction with { ContextPriorities = [ContextSections.RecentTurns] } },
            new DeviceProfile("tiny", 10, 400, 1, 1));
        Assert.Contains(newest.Text[..Math.Min(40, newest.Text.Length)], tiny.Context, StringComparison.Ordinal);
    }

    [Fact]
    public void ActiveFiles_AreRewrittenInTheRebuild()
    {
        HandoffPackage package = Fixtures.Full("0123456789abcdef01234567");
        RebuiltConversation phone = HandoffRebuilder.Rebuild(package, DeviceProfile.Ios, new HandoffResumeOptions { PathStyle = "posix" });
        RewrittenFile file = Assert.Single(phone.ActiveFiles);
        Assert.Equal(("/home/alice/src/app/src/Queue.cs", "src/Queue.cs", true), (file.OriginalPath, file.Path, file.Mapped));
        Assert.Contains("- src/Queue.cs (edited)", phone.Context, StringComparison.Ordinal);

        RebuiltConversation windows = HandoffRebuilder.Rebuild(package, DeviceProfile.Desktop, new HandoffResumeOptions { WorkspaceRoot = @"D:\work\app", PathStyle = "windows" });
        Assert.Equal(@"D:\work\app\src\Queue.cs", Assert.Single(windows.ActiveFiles).Path);
    }

    [Fact]
    public void InvalidProfile_Refused()
    {
        var error = Assert.Throws<GhostieSyncException>(() => HandoffRebuilder.Rebuild(Fixtures.Full("0123456789abcdef01234567"), new DeviceProfile("broken", 0, 0, 0, 0)));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Equal("ios", DeviceProfile.FromName("IOS").Name);
        Assert.Throws<GhostieSyncException>(() => DeviceProfile.FromName("watch"));
    }

    private static AgentState Agent(string id, int priority, int megabytes) => new()
    {
        Id = id,
        Name = id,
        Priority = priority,
        SystemPrompt = "You are the " + id + ".",
        ContextWindow = new AgentContextWindow { MaxTokens = 8_000, Messages = [new AgentMessage { Role = "user", Text = "Work on the queue." }] },
        MemorySnapshot = [new AgentMemory { AgentId = id, Text = id + " remembers the plan.", Importance = 0.5 }],
        Variables = new Dictionary<string, string> { ["step"] = "2" },
        EstimatedMemoryBytes = megabytes * 1_000_000L,
    };

    /// <summary>A package of random shape: many or few turns, long texts, many agents of random sizes, many vectors.</summary>
    internal static HandoffPackage RandomPackage(Random random)
    {
        string Text(int words) => string.Join(' ', Enumerable.Range(0, words).Select(_ => "word" + random.Next(1000)));
        int turns = random.Next(5, 200);
        var thread = new List<ThreadEntry>();
        for (int i = 0; i < turns; i++)
        {
            bool recent = i >= turns - 10;
            thread.Add(new ThreadEntry
            {
                Turn = i, Role = i % 2 == 0 ? "user" : "assistant", Kind = recent ? ThreadEntryKinds.Verbatim : ThreadEntryKinds.Excerpt,
                Text = Text(random.Next(1, recent ? 2_000 : 100)), Salience = recent ? 0 : 1 + random.NextDouble(), Tools = random.Next(3) == 0 ? ["Bash make"] : [],
            });
        }

        int dims = random.Next(8, 400);
        HandoffPackage full = Fixtures.Full("0123456789abcdef01234567");
        return full with
        {
            Context = full.Context with
            {
                KeyDecisions = Enumerable.Range(0, random.Next(0, 40)).Select(i => new KeyDecision { Text = "Decision: " + Text(random.Next(3, 80)), Turn = i }).ToArray(),
                ProjectState = new ProjectState { Summary = Text(random.Next(10, 3_000)), OpenQuestions = [Text(12) + "?"], NextSteps = [Text(8)] },
                ActiveFiles = Enumerable.Range(0, random.Next(0, 80)).Select(i => new ActiveFile { Path = $"/home/alice/src/app/src/f{i}.cs", Status = "edited" }).ToArray(),
                CodeSnippets = Enumerable.Range(0, random.Next(0, 8)).Select(i => new CodeSnippet { Text = Text(random.Next(5, 500)), Language = "csharp" }).ToArray(),
                AgentMemories = Enumerable.Range(0, random.Next(0, 30)).Select(i => new AgentMemory { AgentId = "a" + (i % 3), Text = Text(20), Importance = random.NextDouble() }).ToArray(),
                Thread = thread,
            },
            Agents = Enumerable.Range(0, random.Next(0, 9)).Select(i => Agent("agent" + i, random.Next(5), random.Next(0, 140))).ToArray(),
            Embeddings = new EmbeddingSet
            {
                Model = "m", Dimensions = dims, SimilarityThreshold = 0.85,
                Entries = Enumerable.Range(0, random.Next(0, 1_500)).Select(i => new EmbeddingEntry
                {
                    Id = "e" + i, Similarity = 0.85 + (random.NextDouble() * 0.15), Text = Text(random.Next(0, 50)),
                    Vector = Enumerable.Range(0, dims).Select(_ => (float)random.NextDouble()).ToArray(),
                }).ToArray(),
            },
            Reconstruction = full.Reconstruction with { AgentActivationOrder = [] },
        };
    }

    private sealed class QuadraticCounter : ITokenCounter
    {
        public static long Divisor { get; set; } = 2000;

        public string Name => "quadratic";

        public int CountTokens(string text)
        {
            long estimate = EstimatingTokenCounter.Instance.CountTokens(text);
            return (int)Math.Min(int.MaxValue, estimate + (estimate * estimate / Divisor));
        }
    }

    private sealed class ConstantCounter(int tokens) : ITokenCounter
    {
        public string Name => "constant";

        public int CountTokens(string text) => tokens;
    }

    private sealed class LineHeavyCounter : ITokenCounter
    {
        public string Name => "line-heavy";

        public int CountTokens(string text) => EstimatingTokenCounter.Instance.CountTokens(text) + (50 * text.Count(c => c == '\n'));
    }
}
