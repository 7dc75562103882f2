using Ghostie.Sync.Embeddings.MiniLM;
using Ghostie.Sync.HandoffFidelity;
using Xunit.Abstractions;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>
/// The small fixed version of the fidelity benchmark (benchmarks/Ghostie.Sync.HandoffFidelity), on the corpus's small
/// sessions: it checks the floors that can be promised (the person's last instruction verbatim in every rebuilt
/// context, no section over its budget, no teammate text shown as the last instruction) and writes the other figures to
/// the test output. The corpus is held-out data: nothing in the summarizer was tuned on it.
/// </summary>
public sealed class FidelityFloorTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SmallCorpus_LastInstructionInEveryRebuild_NoSectionOverBudget_FiguresRecorded()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "Corpus", "fidelity", "small");
        using var judge = new MiniLMEmbeddingGenerator();
        var scorer = new FidelityScorer(judge, ExtractiveCompressor.Instance);

        (List<FidelityScore> scores, List<ImportFailure> failures) = await scorer.ScoreDirectoryAsync(folder, DeviceProfile.BuiltIn);

        foreach (ImportFailure failure in failures)
        {
            output.WriteLine($"not imported (importers not merged yet?): {failure.Session}: {failure.Error}");
        }

        foreach (FidelityScore s in scores)
        {
            output.WriteLine($"{s.Session} {s.Profile}: reduction {s.SizeReduction:P1}, last {s.LastInstructionPresent}, instructions {s.InstructionRecall:P0}, decisions {s.DecisionRecall:P0}, " +
                $"files {s.FileRecall:P0}, errors {s.ErrorRecall:P0}, pending {s.PendingRecall:P0}, semantic {s.SemanticFidelity:0.000}");
        }

        Assert.Contains(scores, s => s.Session.StartsWith("cc-", StringComparison.Ordinal)); // the Claude Code session always imports
        Assert.All(scores, s => Assert.True(s.LastInstructionPresent, $"{s.Session}/{s.Profile}: the last instruction is missing"));
        Assert.All(scores, s => Assert.False(s.TeammateShownAsLast, $"{s.Session}/{s.Profile}: another party's text shown as the last instruction"));
        Assert.All(scores, s => Assert.True(s.SectionsWithinBudget, $"{s.Session}/{s.Profile}: a section over its budget"));
    }
}
