using BenchmarkDotNet.Attributes;
using Ghostie.Sync.Embeddings.MiniLM;
using Ghostie.Sync.Vectors;
using Microsoft.Extensions.AI;

namespace Ghostie.Sync.Benchmarks.Embeddings;

/// <summary>
/// The embedding cost of one conversation turn (five sentences of a coding session, one batch), for the MiniLM model
/// and the lexical default (the baseline). Model load is excluded (setup). MiniLM runs on one thread, as the library
/// default (<see cref="MiniLMEmbeddingOptions.IntraOpThreads"/> = 1).
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives its runner from this class.</remarks>
[MemoryDiagnoser]
public class EmbeddingCostBenchmarks
{
    private static readonly string[] Turn =
    [
        "The queue loses items when the app is killed during a write.",
        "I read OfflineQueue.cs and the append is not flushed before the index is updated.",
        "We will write to a temporary file and rename it, so a crash leaves either the old or the new file.",
        "That costs one extra fsync per batch, which the benchmark says is under a millisecond on the phone.",
        "Next I will add a test that kills the writer between the write and the rename.",
    ];

    private MiniLMEmbeddingGenerator _miniLM = null!;
    private HashedNGramEmbeddingGenerator _lexical = null!;

    [GlobalSetup]
    public void Setup()
    {
        _miniLM = new MiniLMEmbeddingGenerator();
        _lexical = new HashedNGramEmbeddingGenerator();
        _ = _miniLM.GenerateAsync(Turn).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _miniLM.Dispose();
        _lexical.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<int> LexicalTurn() => (await _lexical.GenerateAsync(Turn)).Count;

    [Benchmark]
    public async Task<int> MiniLMTurn() => (await _miniLM.GenerateAsync(Turn)).Count;

    [Benchmark]
    public async Task<int> MiniLMSentence() => (await _miniLM.GenerateAsync([Turn[2]])).Count;
}
