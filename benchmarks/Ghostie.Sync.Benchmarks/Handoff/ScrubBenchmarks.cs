using BenchmarkDotNet.Attributes;
using Ghostie.Sync.Handoff;
using Ghostie.Sync.Handoff.Importers;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Benchmarks.Handoff;

/// <summary>
/// Secret scrubbing of a 2 MB Claude Code session (every message text and tool call input, as
/// <see cref="SecretScrubber.Scrub(ConversationTranscript)"/> reads them), before (the 14 rules of
/// <see cref="LegacySecretScrubber"/>, the baseline) and after issue 11 item 7 (<see cref="SecretScrubber"/>). The
/// handoff create budget is 100 ms for 2 MB end to end; scrubbing must stay well inside it.
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives its runner from this class.</remarks>
[MemoryDiagnoser]
public class ScrubBenchmarks
{
    private string[] _texts = null!;

    [GlobalSetup]
    public void Setup()
    {
        string[] planted =
        [
            "my psql password is " + "Qw7!rTz9#Lp", "the key: " + "ghp_" + "M0XvqZjxTW3xvboSRt5Mh3dAwVtRMflhbmua",
            "HF_TOKEN=" + "hf_" + "zeRTpPWzUBqsskDIEDLYwuJOSNtaPKheak", "AccountName=a;AccountKey=" + "EuQth0Xh8E8KJsufU9FuwrdwPAIC0Ml6/T4HnLiheoXKYXNd6/8DEdyH8i9LH8civbVUzsSdmv7wJBn2c4uLYw==",
        ];
        string root = Path.Combine(Path.GetTempPath(), "ghostie-scrub-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        try
        {
            string jsonl = "";
            for (int exchanges = 200; jsonl.Length < 2 * 1024 * 1024; exchanges *= 2)
            {
                jsonl = new TranscriptGenerator(seed: 2048).Generate(exchanges, planted);
            }

            jsonl = jsonl[..jsonl.LastIndexOf('\n', 2 * 1024 * 1024)];
            string path = Path.Combine(root, "session.jsonl");
            File.WriteAllText(path, jsonl + "\n");
            ConversationTranscript transcript = TranscriptImporter.ImportFileAsync(path).GetAwaiter().GetResult();
            _texts = transcript.Messages.SelectMany(m => m.ToolCalls.Select(c => c.Input).Prepend(m.Text)).ToArray();
            Console.WriteLine($"// transcript: {jsonl.Length:N0} characters of JSONL, {transcript.Messages.Count:N0} messages, {_texts.Sum(t => (long)t.Length):N0} characters scrubbed");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The scrubber before: 14 rules.</summary>
    [Benchmark(Baseline = true)]
    public int Before()
    {
        var report = new ScrubReport();
        int length = 0;
        foreach (string text in _texts)
        {
            length += LegacySecretScrubber.Default.Scrub(text, report).Length;
        }

        return length;
    }

    /// <summary>The scrubber after: 25 rules, entropy floors, allowlists, prose.</summary>
    [Benchmark]
    public int After()
    {
        var report = new ScrubReport();
        int length = 0;
        foreach (string text in _texts)
        {
            length += SecretScrubber.Default.Scrub(text, report).Length;
        }

        return length;
    }
}
