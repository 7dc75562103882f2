using System.Collections;
using System.Globalization;
using System.Reflection;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Handoff.Tests.Support;

/// <summary>One repository in memory and the handoff services of any number of devices over it.</summary>
internal sealed class Repository : IDisposable
{
    public const string Passphrase = "handoff test passphrase";
    private readonly List<IDisposable> _owned = [];

    private Repository(InMemoryStorageBackend storage, RepositoryKeys keys)
    {
        Storage = storage;
        Keys = keys;
        _owned.Add(keys);
    }

    public InMemoryStorageBackend Storage { get; }

    public RepositoryKeys Keys { get; }

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-11-21T08:00:00Z", CultureInfo.InvariantCulture));

    public static RepositoryKeyOptions KeyOptions() => TestKeys.FastOptions();

    public static async Task<Repository> CreateAsync()
    {
        var storage = new InMemoryStorageBackend();
        RepositoryKeys keys = await RepositoryKeys.InitializeAsync(storage, Passphrase, "primary", KeyOptions());
        return new Repository(storage, keys);
    }

    public HandoffService Device(string deviceId, Action<HandoffOptions>? configure = null, IContextCompressor? compressor = null, IStorageBackend? backend = null)
    {
        var options = new HandoffOptions { TimeProvider = Time };
        configure?.Invoke(options);
        var service = new HandoffService(backend ?? Storage, Keys, deviceId, options, compressor, deviceName: deviceId + " name");
        _owned.Add(service);
        return service;
    }

    public IEnumerable<string> Names(string prefix = "") => Storage.ListAsync(prefix).ToBlockingEnumerable();

    public void Dispose()
    {
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }
    }
}

/// <summary>A temporary folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ghostie-handoff-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}

internal static class Fixtures
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static ConversationTranscript SmallTranscript(int turns = 30)
    {
        var transcript = new ConversationTranscript { Id = "conv-1", SourceFormat = "test", ProjectRoot = "/home/alice/src/app" };
        for (int i = 0; i < turns; i++)
        {
            transcript.Messages.Add(new TranscriptMessage
            {
                Index = i,
                Role = i % 2 == 0 ? TranscriptRole.User : TranscriptRole.Assistant,
                Text = i == 4 ? "Decision: we keep the cache on disk." : $"Message {i} about src/feature{i % 5}.cs and what to do next in some detail.",
                Timestamp = DateTimeOffset.Parse("2026-11-20T09:00:00Z", CultureInfo.InvariantCulture).AddMinutes(i),
            });
        }

        return transcript;
    }

    /// <summary>A package with every field set to a non-default value (checked by <see cref="AssertEveryFieldSet"/>).</summary>
    /// <summary>The properties schema version 3 added, which packages of versions 1 and 2 do not have.</summary>
    public static readonly string[] AddedInVersion3 = ["Kind", "Status", "PermissionMode", "WorkingDirectory", "Todos", "ProjectInstructions", "LastUserTurn"];

    /// <summary>The package without the agent state that makes it schema version 3 (permission mode, todos, project instructions).</summary>
    public static HandoffPackage WithoutVersion3(HandoffPackage package) =>
        package with { Agents = package.Agents.Select(a => a with { PermissionMode = null, Todos = [], ProjectInstructions = [] }).ToArray() };

    public static HandoffPackage Full(string packageId, string? target = "phone")
    {
        DateTimeOffset t = DateTimeOffset.Parse("2026-11-21T07:30:00.123+00:00", CultureInfo.InvariantCulture);
        var memory = new AgentMemory { AgentId = "planner", Text = "Alice prefers small commits.", Importance = 0.9, CreatedAt = t.AddDays(-3) };
        return new HandoffPackage
        {
            SchemaVersion = 1,
            PackageId = packageId,
            CreatedAt = t,
            ExpiresAt = t.AddDays(7),
            Source = new HandoffSource { DeviceId = "laptop", DeviceName = "Alice's laptop", Platform = "linux", ProjectRoot = "/home/alice/src/app", HomeDirectory = "/home/alice", PathStyle = "posix" },
            TargetDeviceId = target,
            Conversation = new ConversationMetadata
            {
                Id = "session-42", Title = "Offline queue", CreatedAt = t.AddHours(-3), LastActivity = t.AddMinutes(-1), MessageCount = 420, TokenCount = 123_456,
                SourceFormat = "claude-code-jsonl", Model = "claude-sonnet-4-5", GitBranch = "feature/queue",
            },
            Context = new CompressedContext
            {
                KeyDecisions = [new KeyDecision { Text = "Decision: use SQLite.", Reason = "It ships on every phone.", Turn = 12, Role = "user", Timestamp = t.AddHours(-2) }],
                ProjectState = new ProjectState
                {
                    Summary = "Task: make the queue durable.", OpenQuestions = ["Keep failed items?"], NextSteps = ["Next: write the migration."],
                    PrimaryRequest = "Make the offline queue durable.", LastInstruction = "commit it", LastInstructionTurn = 418,
                    CurrentWork = "Writing the migration.", NextStep = "Run the migration tests.", PendingTasks = ["Write the migration (in progress)"],
                    Errors = [new ErrorAndFix { Error = "Exit code 1: 2 tests failed", Fix = "The clock was not injected; fixed.", Turn = 300 }],
                },
                ActiveFiles = [new ActiveFile { Path = "/home/alice/src/app/src/Queue.cs", Status = "edited", LastTurn = 400, Touches = 7 }],
                CodeSnippets = [new CodeSnippet { Path = "src/Queue.cs", Language = "csharp", Text = "class Queue { }", Turn = 401 }],
                AgentMemories = [memory],
                Thread =
                [
                    new ThreadEntry { Turn = 5, Role = "user", Kind = ThreadEntryKinds.Excerpt, Text = "Please fix it [...]", Tools = ["Bash dotnet test"], Timestamp = t.AddHours(-1), Tokens = 5, Salience = 2.5 },
                ],
                Compression = new CompressionInfo
                {
                    Method = "abstractive", TokenBudget = 8000, OriginalTokens = 123_456, CompressedTokens = 4_321, DroppedToolOutputs = 99, DuplicateToolOutputs = 40,
                    OmittedMessages = 300, TokenCounter = "estimate-v1", Note = "a note",
                },
            },
            Agents =
            [
                new AgentState
                {
                    Id = "planner", Name = "Planner", Role = "Plans the work.", Priority = 1, IsActive = true, Model = "claude-haiku-4-5", SystemPrompt = "You plan.",
                    PromptChanges = [new PromptChange { At = t.AddHours(-2), Prompt = "You plan carefully.", Reason = "too hasty" }],
                    ContextWindow = new AgentContextWindow { MaxTokens = 32_000, Messages = [new AgentMessage { Role = "user", Text = "Plan the queue." }] },
                    MemorySnapshot = [memory],
                    Variables = new Dictionary<string, string> { ["step"] = "3", ["mode"] = "careful" },
                    EstimatedMemoryBytes = 12_345_678,
                    Kind = "sub-agent", Status = "running", PermissionMode = "acceptEdits", WorkingDirectory = "/home/alice/src/app",
                    Todos = [new TodoItem { Content = "Write the plan", Status = "in_progress", ActiveForm = "Writing the plan" }],
                    ProjectInstructions = [new ProjectInstructionFile { Path = "/home/alice/src/app/CLAUDE.md", Text = "Run dotnet test before committing.", Truncated = true }],
                    Checkpoint = new AgentStateCheckpointRef
                    {
                        Store = "redis", Sequence = 17, StateSha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", CreatedAt = t,
                    },
                },
            ],
            Embeddings = new EmbeddingSet
            {
                Model = "all-MiniLM-L6-v2", Dimensions = 4, SimilarityThreshold = 0.85, Reference = "conversation",
                Entries = [new EmbeddingEntry { Id = "e1", Source = "turn:12", Text = "use SQLite", Similarity = 0.93, Vector = [0.1f, -0.2f, float.Epsilon, 3.4028235e38f] }],
            },
            Reconstruction = new ReconstructionInstructions
            {
                ContextPriorities = ContextSections.Default,
                AgentActivationOrder = ["planner"],
                MemoryLoadingStrategy = "priority-then-lazy",
                ResumptionPoint = new ResumptionPoint { Turn = 419, Role = "assistant", LastUserMessage = "Run the tests.", LastUserTurn = 417, Summary = "Waiting on Bash dotnet test" },
            },
            Scrubbing = new ScrubSummary { SecretsRemoved = 2, ByKind = new Dictionary<string, int> { ["openai-key"] = 2 } },
        };
    }

    /// <summary>The summary sections' fields (written since the extractive summarizer; the v1 and v2 fixtures predate them and read as empty).</summary>
    public static readonly string[] SummarySectionFields = ["Reason", "PrimaryRequest", "LastInstruction", "LastInstructionTurn", "CurrentWork", "NextStep", "PendingTasks", "Errors"];


    /// <summary>Fails when any property anywhere in the graph is null, empty or default: a new field must be added to <see cref="Full"/>.</summary>
    /// <param name="value">The object to check.</param>
    /// <param name="path">Where it is, for messages.</param>
    /// <param name="absent">Properties a package of an older schema version cannot have (for example "Checkpoint", added in version 2).</param>
    public static void AssertEveryFieldSet(object value, string path = "package", params string[] absent)
    {
        foreach (PropertyInfo property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.Name == "EqualityContract" || absent.Contains(property.Name))
            {
                continue;
            }

            object? item = property.GetValue(value);
            string where = path + "." + property.Name;
            Assert.True(item is not null, where + " is null");
            switch (item)
            {
                case string s:
                    Assert.True(s.Length > 0, where + " is empty");
                    break;
                case float[] vector:
                    Assert.NotEmpty(vector);
                    break;
                case IDictionary dictionary:
                    Assert.True(dictionary.Count > 0, where + " is empty");
                    break;
                case IEnumerable list:
                    int n = 0;
                    foreach (object element in list)
                    {
                        n++;
                        if (element is not string && element.GetType().IsClass)
                        {
                            AssertEveryFieldSet(element, where + "[]", absent);
                        }
                    }

                    Assert.True(n > 0, where + " is empty");
                    break;
                case int or long or double or bool:
                    Assert.False(item.Equals(Activator.CreateInstance(item.GetType())), where + " is default");
                    break;
                case DateTimeOffset time:
                    Assert.NotEqual(default, time);
                    break;
                default:
                    if (item.GetType().IsClass)
                    {
                        AssertEveryFieldSet(item, where, absent);
                    }

                    break;
            }
        }
    }
}
