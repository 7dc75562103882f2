using System.Diagnostics;
using System.Globalization;
using Ghostie.Sync.Embeddings.MiniLM;
using Ghostie.Sync.Handoff;
using Ghostie.Sync.HandoffFidelity;

// dotnet run -c Release --project benchmarks/Ghostie.Sync.HandoffFidelity -- [corpus folder] [--selection lexical|minilm]
string selection = args.SkipWhile(a => a != "--selection").Skip(1).FirstOrDefault() ?? "lexical";
string folder = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || args[i - 1] != "--selection")).FirstOrDefault()
    ?? Path.Combine("tests", "Ghostie.Sync.Handoff.Tests", "Corpus", "fidelity");
if (!Directory.Exists(folder))
{
    Console.Error.WriteLine($"No corpus folder '{folder}'. Run from the repository root or pass the folder.");
    return 2;
}

var load = Stopwatch.StartNew();
using var judge = new MiniLMEmbeddingGenerator(new MiniLMEmbeddingOptions { IntraOpThreads = 0 });
Console.WriteLine($"MiniLM loaded in {load.ElapsedMilliseconds} ms; sentence selection: {selection}");
ExtractiveCompressor compressor = selection == "minilm" ? new ExtractiveCompressor(judge) : ExtractiveCompressor.Instance;
var scorer = new FidelityScorer(judge, compressor);
var run = Stopwatch.StartNew();
(List<FidelityScore> scores, List<ImportFailure> failures) = await scorer.ScoreDirectoryAsync(folder, DeviceProfile.BuiltIn);
Console.WriteLine($"Scored {scores.Select(s => s.Session).Distinct().Count()} sessions x {DeviceProfile.BuiltIn.Count} profiles in {run.Elapsed.TotalSeconds:0.0} s");
string P(double v) => (v * 100).ToString("0", CultureInfo.InvariantCulture) + "%";
Console.WriteLine();
Console.WriteLine("| session | profile | bytes in | context bytes | reduction | last instr. | instr. | decisions | files (modified) | errors | pending | current | next | semantic | sections ok |");
Console.WriteLine("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|---:|---|");
foreach (FidelityScore s in scores)
{
    Console.WriteLine($"| {s.Session} | {s.Profile} | {s.UncompressedBytes:N0} | {s.RebuiltBytes:N0} | {P(s.SizeReduction)} | {(s.LastInstructionPresent ? "yes" : "NO")}{(s.TeammateShownAsLast ? " (teammate shown)" : "")} | {P(s.InstructionRecall)} | {P(s.DecisionRecall)} | {P(s.FileRecall)} ({P(s.ModifiedFileRecall)}) | {P(s.ErrorRecall)} | {P(s.PendingRecall)} | {(s.CurrentWorkPresent ? "yes" : "no")} | {(s.NextStepPresent ? "yes" : "no")} | {s.SemanticFidelity:0.000} | {(s.SectionsWithinBudget ? "yes" : "NO")} |");
}

Console.WriteLine();
Console.WriteLine("| profile | sessions | last instruction | semantic fidelity (mean) | size reduction (mean) | >95% fidelity at >=95% reduction (sessions over 200 kB) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (IGrouping<string, FidelityScore> g in scores.GroupBy(s => s.Profile))
{
    List<FidelityScore> big = g.Where(s => s.UncompressedBytes > 200_000).ToList();
    Console.WriteLine($"| {g.Key} | {g.Count()} | {P(g.Average(s => s.LastInstructionPresent ? 1.0 : 0))} | {g.Average(s => s.SemanticFidelity):0.000} | {P(g.Average(s => s.SizeReduction))} | {big.Count(s => s.SemanticFidelity > 0.95 && s.SizeReduction >= 0.95)} of {big.Count} |");
}

Console.WriteLine();
Console.WriteLine("Per-section similarity (mean over sessions and profiles):");
foreach (IGrouping<string, KeyValuePair<string, double>> g in scores.SelectMany(s => s.SectionSimilarity).GroupBy(p => p.Key))
{
    Console.WriteLine($"  {g.Key}: {g.Average(p => p.Value):0.000}");
}

foreach (ImportFailure failure in failures)
{
    Console.WriteLine($"NOT IMPORTED: {failure.Session}: {failure.Error}");
}

return 0;
