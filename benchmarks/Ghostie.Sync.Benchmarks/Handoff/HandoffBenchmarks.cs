using System.Text;
using BenchmarkDotNet.Attributes;
using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff;
using Ghostie.Sync.Handoff.Importers;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Benchmarks.Handoff;

/// <summary>
/// The target: a 1,000-message conversation (a realistic Claude Code session: tool calls, repeated test runs,
/// file reads) with 500 embeddings of 384 dimensions, created, stored, fetched and rebuilt for a phone on the folder
/// backend, end to end under 100 ms. The baseline is the naive alternative: copying the raw transcript into the folder
/// and reading it back, unencrypted and uncompressed.
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives its runner from this class.</remarks>
[MemoryDiagnoser]
public class HandoffBenchmarks
{
    private string _root = null!;
    private FileSystemBackend _backend = null!;
    private RepositoryKeys _keys = null!;
    private HandoffService _laptop = null!;
    private HandoffService _phone = null!;
    private ConversationTranscript _transcript = null!;
    private byte[] _raw = null!;
    private EmbeddingCandidates _embeddings = null!;
    private string _storedId = null!;

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "ghostie-handoff-bench-" + Guid.NewGuid().ToString("N")[..8]);
        _backend = new FileSystemBackend(Path.Combine(_root, "repo"));
        _keys = RepositoryKeys.InitializeAsync(_backend, "benchmark passphrase").GetAwaiter().GetResult();
        _laptop = new HandoffService(_backend, _keys, "laptop");
        _phone = new HandoffService(_backend, _keys, "phone");

        // 1,000 messages of a generated session; the raw bytes are those 1,000 messages' lines.
        string jsonl = new TranscriptGenerator(seed: 1000).Generate(exchanges: 200);
        string path = Path.Combine(_root, "session.jsonl");
        File.WriteAllText(path, jsonl);
        ConversationTranscript full = TranscriptImporter.ImportFileAsync(path).GetAwaiter().GetResult();
        Check(full.Messages.Count >= 1_000, $"the generated session has {full.Messages.Count} messages");
        _transcript = new ConversationTranscript
        {
            Id = full.Id, Title = full.Title, SourceFormat = full.SourceFormat, ProjectRoot = full.ProjectRoot, GitBranch = full.GitBranch, Model = full.Model,
            Summaries = full.Summaries, Messages = full.Messages.Take(1_000).ToList(), RawBytes = (long)(full.RawBytes * (1_000.0 / full.Messages.Count)),
        };
        _raw = Encoding.UTF8.GetBytes(jsonl[..(int)Math.Min(jsonl.Length, _transcript.RawBytes)]);

        // 500 embeddings of 384 dimensions, all close enough to the reference to travel (similarity >= 0.85).
        var random = new Random(384);
        float[] reference = Enumerable.Range(0, 384).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        _embeddings = new EmbeddingCandidates
        {
            Model = "all-MiniLM-L6-v2",
            Reference = reference,
            Candidates = Enumerable.Range(0, 500).Select(i => new EmbeddingEntry
            {
                Id = "m" + i, Source = "turn:" + (i * 2), Text = "turn " + i,
                Vector = reference.Select(v => v + (float)((random.NextDouble() - 0.5) * 0.4)).ToArray(),
            }).ToArray(),
        };

        HandoffCreateResult stored = _laptop.CreateAsync(Request()).GetAwaiter().GetResult();
        Check(stored.Package.Embeddings!.Entries.Count == 500, $"{stored.Package.Embeddings.Entries.Count} embeddings kept");
        Check(stored.Package.Conversation.MessageCount == 1_000, "1,000 messages");
        _storedId = stored.PackageId;
        Console.WriteLine($"// package: {stored.StoredBytes:N0} bytes stored, {stored.JsonBytes:N0} bytes of JSON, transcript {_transcript.RawBytes:N0} bytes");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _laptop.Dispose();
        _phone.Dispose();
        _keys.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>The naive alternative: the raw transcript copied into the repository folder and read back.</summary>
    [Benchmark(Baseline = true)]
    public async Task<int> CopyRawTranscript()
    {
        await _backend.PutAsync("raw/session", new MemoryStream(_raw, writable: false));
        await using Stream read = (await _backend.GetAsync("raw/session"))!;
        using var buffer = new MemoryStream();
        await read.CopyToAsync(buffer);
        return (int)buffer.Length;
    }

    /// <summary>Scrub, compress, select embeddings, serialize, Brotli, seal, store.</summary>
    [Benchmark]
    public async Task<long> Create()
    {
        HandoffCreateResult result = await _laptop.CreateAsync(Request());
        await _backend.DeleteAsync(result.ObjectName);
        return result.StoredBytes;
    }

    /// <summary>Fetch, verify, decrypt, decompress, parse, rebuild for iOS (the package is kept for the next round).</summary>
    [Benchmark]
    public async Task<int> FetchAndRebuild()
    {
        RebuiltConversation rebuilt = await _phone.ResumeAsync(_storedId, DeviceProfile.Ios, new HandoffResumeOptions { KeepPackage = true });
        return rebuilt.ContextTokens;
    }

    /// <summary>The target: create, store, fetch, rebuild for iOS, and the consumed package deleted.</summary>
    [Benchmark]
    public async Task<int> EndToEnd()
    {
        HandoffCreateResult created = await _laptop.CreateAsync(Request());
        RebuiltConversation rebuilt = await _phone.ResumeAsync(created.PackageId, DeviceProfile.Ios);
        return rebuilt.ContextTokens;
    }

    private HandoffRequest Request() => new() { Transcript = _transcript, TargetDeviceId = "phone", Embeddings = _embeddings };

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Benchmark setup is wrong: " + what);
        }
    }
}
