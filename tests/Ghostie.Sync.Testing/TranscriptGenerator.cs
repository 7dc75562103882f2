using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Testing;

/// <summary>
/// Writes a realistic Claude Code session transcript, deterministically from a seed: one JSON object per line with the
/// envelope fields Claude Code writes (uuid, parentUuid, sessionId, cwd, gitBranch, version, timestamp), assistant
/// messages split into one line per content block (thinking, text, tool_use), tool results as user lines, repeated
/// test runs and file reads, a sub-agent side chain now and then, file-history snapshots, and key decisions stated in
/// varied words. Shared with the benchmarks (linked there).
/// </summary>
public sealed class TranscriptGenerator
{
    public const string ProjectRoot = "/home/alice/src/ghostie-mobile";
    public const string SessionId = "7d3f9a52-1c4e-4b8a-9f0e-2a6c5d8e1b47";

    public static readonly string[] DecisionSentences =
    [
        "Decision: the offline queue is an append-only JSON file under the Ghostie home, one item per entry.",
        "Let's go with SQLite for the search index on the phone, not LiteDB.",
        "We decided to keep memory ids as time-ordered GUIDs so merges stay deterministic.",
        "We'll use Brotli for handoff packages because the phones already ship a decoder.",
        "Agreed: conflicts keep both versions and name both devices.",
        "From now on, every public API takes a CancellationToken as its last parameter.",
        "We will not store the passphrase anywhere, not even in the keychain.",
        "Settled on 64 KiB chunks for the envelope after the benchmark.",
        "Decision: the web profile gets a single agent; the planner is loaded on demand.",
        "We'll keep the CLI exit codes stable and document every one of them.",
        "Let's use the folder backend in every end-to-end test, so CI needs no cloud account.",
        "We decided the sync tests must start their own servers instead of assuming one is running.",
        "Don't use DateTime.Now in library code; take a TimeProvider.",
        "We chose a keyed hash for object names so the provider learns nothing from them.",
        "Decision: tool output is never carried in a handoff, only counted.",
    ];

    private static readonly string[] Files =
    [
        "src/Ghostie.Mobile/Sync/OfflineQueue.cs", "src/Ghostie.Mobile/Sync/QueueItem.cs", "src/Ghostie.Mobile/App.xaml.cs",
        "src/Ghostie.Mobile/Search/SearchIndex.cs", "tests/Ghostie.Mobile.Tests/OfflineQueueTests.cs", "docs/offline.md",
        "src/Ghostie.Mobile/Handoff/PackageLoader.cs", "src/Ghostie.Mobile/Settings/ProfileSettings.cs",
    ];

    private static readonly string[] Asks =
    [
        "The queue loses items when the app is killed during a write. Can you look at {0}?",
        "Please add a test for the case where two items are queued in the same millisecond.",
        "Why does the search index rebuild every time the app starts? Check {0}.",
        "Rename QueueItem.Payload to Content everywhere, and update the docs.",
        "The CI run failed on Android again, see the log. What broke?",
        "Can you make the loader stream the package instead of reading it all into memory?",
        "Run the tests and tell me what still fails.",
        "ok",
        "Move the retry policy out of {0} into its own class.",
        "How big is a handoff package for the 2,000-message conversation we tried yesterday?",
        "Looks good. Now the settings page: the profile picker should remember the last choice.",
        "thanks, continue",
    ];

    private static readonly string[] Explanations =
    [
        "I looked at {0}. The write goes straight to the final file, so a kill mid-write leaves a truncated file that the next start cannot parse. I changed it to write a temporary file, flush it, and rename it over the old one.",
        "The failure comes from the test fixture sharing one temporary folder between tests that run in parallel; each test now gets its own folder.",
        "I traced the rebuild to the index version check in {0}: it compares the app version instead of the index format version, so every update looks like a format change.",
        "All 48 tests pass now. The two that were flaky depended on the wall clock; they now use the fake time provider.",
        "The loader now reads the package in 64 KiB chunks and parses the manifest first, so the list view no longer waits for the whole download.",
        "I moved the retry loop into RetryPolicy with exponential backoff and full jitter, and {0} now takes it through its constructor.",
    ];

    private readonly Random _random;
    private readonly StringBuilder _out = new();
    private readonly List<string> _turns = [];
    private DateTimeOffset _time = new(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);
    private string? _parent;
    private int _ids;

    public TranscriptGenerator(int seed) => _random = new Random(seed);

    /// <summary>The text of every user and assistant message with text, in order (what the importer should see as turns).</summary>
    public IReadOnlyList<string> Turns => _turns;

    /// <summary>The decisions stated, in order.</summary>
    public List<string> Decisions { get; } = [];

    /// <summary>Writes a session of <paramref name="exchanges"/> request/answer exchanges and returns the JSONL.</summary>
    public string Generate(int exchanges, IReadOnlyList<string>? extraUserLines = null)
    {
        Line(new Dictionary<string, object?> { ["type"] = "summary", ["summary"] = "Offline queue and handoff loader for the Ghostie mobile app", ["leafUuid"] = Uuid() });
        int decisionEvery = Math.Max(1, exchanges / DecisionSentences.Length);
        int nextDecision = 0;
        for (int i = 0; i < exchanges; i++)
        {
            string file = Files[_random.Next(Files.Length)];
            string ask = string.Format(CultureInfo.InvariantCulture, Asks[_random.Next(Asks.Length)], file);
            string? decision = null;
            if (i % decisionEvery == decisionEvery / 2 && nextDecision < DecisionSentences.Length)
            {
                decision = DecisionSentences[nextDecision++];
                Decisions.Add(decision);
            }

            bool userDecides = decision is not null && _random.Next(2) == 0;
            if (userDecides)
            {
                ask += "\n\n" + decision;
            }

            if (extraUserLines is not null && i < extraUserLines.Count)
            {
                ask += "\n" + extraUserLines[i];
            }

            User(ask);
            if (i % 9 == 4)
            {
                FileSnapshot();
            }

            string messageId = "msg_01" + Hex(22);
            AssistantBlock(messageId, new Dictionary<string, object?> { ["type"] = "thinking", ["thinking"] = "The user wants me to look at " + file + ". " + Filler(3), ["signature"] = Hex(64) });
            int tools = 1 + _random.Next(4);
            var results = new List<(string Id, string Content, bool Error)>();
            for (int t = 0; t < tools; t++)
            {
                (string name, Dictionary<string, object?> input, string result, bool error) = Tool(file);
                string id = "toolu_01" + Hex(22);
                AssistantBlock(messageId, new Dictionary<string, object?> { ["type"] = "tool_use", ["id"] = id, ["name"] = name, ["input"] = input });
                results.Add((id, result, error));
            }

            foreach ((string id, string content, bool error) in results)
            {
                ToolResult(id, content, error);
            }

            if (i % 17 == 8)
            {
                SideChain(file);
            }

            string answer = string.Format(CultureInfo.InvariantCulture, Explanations[_random.Next(Explanations.Length)], file);
            if (_random.Next(3) == 0)
            {
                answer += "\n\nThe change:\n\n```csharp\npublic async Task EnqueueAsync(QueueItem item, CancellationToken cancellationToken = default)\n{\n    await _gate.WaitAsync(cancellationToken);\n    try { await AtomicFile.AppendAsync(_path, item, cancellationToken); }\n    finally { _gate.Release(); }\n}\n```";
            }

            if (decision is not null && !userDecides)
            {
                answer += "\n\n" + decision;
            }

            if (_random.Next(4) == 0)
            {
                answer += "\n\nShould the queue also keep items that failed three times, or drop them?";
            }

            Assistant("msg_01" + Hex(22), answer);
        }

        return _out.ToString();
    }

    private (string Name, Dictionary<string, object?> Input, string Result, bool Error) Tool(string file)
    {
        switch (_random.Next(5))
        {
            case 0:
            case 1:
                bool failed = _random.Next(3) == 0;
                return ("Bash", new Dictionary<string, object?> { ["command"] = "dotnet test tests/Ghostie.Mobile.Tests -c Release", ["description"] = "Run the mobile tests" }, TestLog(failed), failed);
            case 2:
                return ("Read", new Dictionary<string, object?> { ["file_path"] = ProjectRoot + "/" + file }, FileListing(file), false);
            case 3:
                return ("Edit", new Dictionary<string, object?>
                {
                    ["file_path"] = ProjectRoot + "/" + file,
                    ["old_string"] = "await File.WriteAllTextAsync(_path, json, cancellationToken);",
                    ["new_string"] = "await AtomicFile.WriteAsync(_path, json, cancellationToken);",
                }, $"The file {ProjectRoot}/{file} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n" + FileListing(file)[..600], false);
            default:
                return ("Grep", new Dictionary<string, object?> { ["pattern"] = "QueueItem", ["path"] = ProjectRoot + "/src", ["output_mode"] = "content" },
                    string.Join("\n", Files.Select(f => $"{ProjectRoot}/{f}:{_random.Next(10, 200)}:    var item = new QueueItem(payload, clock.GetUtcNow());")), false);
        }
    }

    private string TestLog(bool failed)
    {
        var log = new StringBuilder();
        log.Append("  Determining projects to restore...\n  All projects are up-to-date for restore.\n");
        log.Append("  Ghostie.Mobile -> /home/alice/src/ghostie-mobile/src/Ghostie.Mobile/bin/Release/net10.0/Ghostie.Mobile.dll\n");
        log.Append("  Ghostie.Mobile.Tests -> /home/alice/src/ghostie-mobile/tests/Ghostie.Mobile.Tests/bin/Release/net10.0/Ghostie.Mobile.Tests.dll\n");
        log.Append("Test run for /home/alice/src/ghostie-mobile/tests/Ghostie.Mobile.Tests/bin/Release/net10.0/Ghostie.Mobile.Tests.dll (.NETCoreApp,Version=v10.0)\n");
        log.Append("VSTest version 18.0.1 (x64)\n\nStarting test execution, please wait...\nA total of 1 test files matched the specified pattern.\n");
        for (int i = 0; i < 30; i++)
        {
            log.Append(CultureInfo.InvariantCulture, $"  Passed Ghostie.Mobile.Tests.OfflineQueueTests.Case{i:00} [{_random.Next(1, 90)} ms]\n");
        }

        if (failed)
        {
            log.Append("  Failed Ghostie.Mobile.Tests.OfflineQueueTests.Enqueue_AppKilledMidWrite_KeepsItems [41 ms]\n  Error Message:\n   Assert.Equal() Failure: Values differ\nExpected: 2\nActual:   1\n  Stack Trace:\n     at Ghostie.Mobile.Tests.OfflineQueueTests.Enqueue_AppKilledMidWrite_KeepsItems() in /home/alice/src/ghostie-mobile/tests/Ghostie.Mobile.Tests/OfflineQueueTests.cs:line 88\n");
        }

        log.Append(CultureInfo.InvariantCulture, $"\n{(failed ? "Failed" : "Passed")}!  - Failed: {(failed ? 1 : 0)}, Passed: {(failed ? 29 : 30)}, Skipped: 0, Total: 30, Duration: {_random.Next(1, 9)} s - Ghostie.Mobile.Tests.dll (net10.0)\n");
        return log.ToString();
    }

    private static string FileListing(string file)
    {
        var text = new StringBuilder();
        string type = Path.GetFileNameWithoutExtension(file);
        string[] body =
        [
            "using System.Text.Json;", "", "namespace Ghostie.Mobile.Sync;", "", $"public sealed class {type}", "{",
            "    private readonly string _path;", "    private readonly SemaphoreSlim _gate = new(1, 1);", "",
            $"    public {type}(string path) => _path = path;", "",
            "    public async Task<IReadOnlyList<QueueItem>> ReadAllAsync(CancellationToken cancellationToken = default)", "    {",
            "        if (!File.Exists(_path))", "        {", "            return [];", "        }", "",
            "        await using FileStream stream = File.OpenRead(_path);",
            "        return await JsonSerializer.DeserializeAsync<List<QueueItem>>(stream, cancellationToken: cancellationToken) ?? [];", "    }", "}",
        ];
        for (int i = 0; i < body.Length; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i + 1,6}\t{body[i]}\n");
        }

        return text.ToString();
    }

    private void SideChain(string file)
    {
        string prompt = "Find every place that writes the queue file in " + file + " and report whether it is atomic.";
        string id = "toolu_01" + Hex(22);
        string messageId = "msg_01" + Hex(22);
        AssistantBlock(messageId, new Dictionary<string, object?>
        {
            ["type"] = "tool_use", ["id"] = id, ["name"] = "Task",
            ["input"] = new Dictionary<string, object?> { ["description"] = "Audit queue writes", ["prompt"] = prompt, ["subagent_type"] = "code-reviewer" },
        });
        Line(Envelope("user", new Dictionary<string, object?> { ["role"] = "user", ["content"] = prompt }, sidechain: true));
        Line(Envelope("assistant", new Dictionary<string, object?>
        {
            ["id"] = "msg_01" + Hex(22), ["type"] = "message", ["role"] = "assistant", ["model"] = "claude-sonnet-4-5-20250929",
            ["content"] = new object[] { new Dictionary<string, object?> { ["type"] = "text", ["text"] = "Two writers, one not atomic: SaveAsync writes in place." } },
        }, sidechain: true));
        ToolResult(id, "Two writers, one not atomic: SaveAsync writes in place.", false);
    }

    private void User(string text)
    {
        _turns.Add(text);
        Line(Envelope("user", new Dictionary<string, object?> { ["role"] = "user", ["content"] = text }));
    }

    private void Assistant(string messageId, string text)
    {
        _turns.Add(text);
        AssistantBlock(messageId, new Dictionary<string, object?> { ["type"] = "text", ["text"] = text });
    }

    private void AssistantBlock(string messageId, Dictionary<string, object?> block)
    {
        Line(Envelope("assistant", new Dictionary<string, object?>
        {
            ["id"] = messageId, ["type"] = "message", ["role"] = "assistant", ["model"] = "claude-sonnet-4-5-20250929",
            ["content"] = new object[] { block }, ["stop_reason"] = null, ["stop_sequence"] = null,
            ["usage"] = new Dictionary<string, object?> { ["input_tokens"] = _random.Next(4, 40), ["cache_creation_input_tokens"] = _random.Next(0, 3000), ["cache_read_input_tokens"] = _random.Next(10000, 90000), ["output_tokens"] = _random.Next(20, 900), ["service_tier"] = "standard" },
        }, requestId: "req_011" + Hex(21)));
    }

    private void ToolResult(string toolUseId, string content, bool error)
    {
        Line(Envelope("user", new Dictionary<string, object?>
        {
            ["role"] = "user",
            ["content"] = new object[] { new Dictionary<string, object?> { ["tool_use_id"] = toolUseId, ["type"] = "tool_result", ["content"] = content, ["is_error"] = error } },
        }, toolUseResult: new Dictionary<string, object?> { ["stdout"] = content, ["stderr"] = "", ["interrupted"] = false, ["isImage"] = false }));
    }

    private void FileSnapshot() => Line(new Dictionary<string, object?>
    {
        ["type"] = "file-history-snapshot", ["messageId"] = Uuid(), ["isSnapshotUpdate"] = false,
        ["snapshot"] = new Dictionary<string, object?> { ["messageId"] = Uuid(), ["trackedFileBackups"] = new Dictionary<string, object?>(), ["timestamp"] = _time.ToString("O", CultureInfo.InvariantCulture) },
    });

    private Dictionary<string, object?> Envelope(string type, Dictionary<string, object?> message, bool sidechain = false, string? requestId = null, Dictionary<string, object?>? toolUseResult = null)
    {
        _time = _time.AddSeconds(_random.Next(2, 40));
        string uuid = Uuid();
        var envelope = new Dictionary<string, object?>
        {
            ["parentUuid"] = _parent, ["isSidechain"] = sidechain, ["userType"] = "external", ["cwd"] = ProjectRoot, ["sessionId"] = SessionId,
            ["version"] = "2.0.61", ["gitBranch"] = "feature/offline-queue", ["type"] = type, ["message"] = message, ["uuid"] = uuid,
            ["timestamp"] = _time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        };
        if (requestId is not null)
        {
            envelope["requestId"] = requestId;
        }

        if (toolUseResult is not null)
        {
            envelope["toolUseResult"] = toolUseResult;
        }

        _parent = uuid;
        return envelope;
    }

    private void Line(Dictionary<string, object?> value) => _out.Append(JsonSerializer.Serialize(value)).Append('\n');

    private string Uuid()
    {
        _ids++;
        return $"{Hex(8)}-{Hex(4)}-4{Hex(3)}-a{Hex(3)}-{Hex(12)}";
    }

    private string Hex(int length)
    {
        const string digits = "0123456789abcdef";
        var chars = new char[length];
        for (int i = 0; i < length; i++)
        {
            chars[i] = digits[_random.Next(16)];
        }

        return new string(chars);
    }

    private string Filler(int sentences)
    {
        string[] pool =
        [
            "The queue file is read at start-up.", "Writes happen on a background thread.", "The index keeps one entry per memory.",
            "The phone may kill the app at any time.", "The test suite runs on both Android and iOS simulators.",
        ];
        return string.Join(" ", Enumerable.Range(0, sentences).Select(_ => pool[_random.Next(pool.Length)]));
    }
}
