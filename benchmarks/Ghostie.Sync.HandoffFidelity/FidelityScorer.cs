using System.IO.Compression;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ghostie.Sync.Handoff;
using Ghostie.Sync.Handoff.Importers;
using Microsoft.Extensions.AI;

namespace Ghostie.Sync.HandoffFidelity;

/// <summary>One rebuilt context of one session on one device profile, scored against the session's hand labels.</summary>
public sealed record FidelityScore
{
    public required string Session { get; init; }
    public required string Profile { get; init; }
    public long UncompressedBytes { get; init; }
    public long RebuiltBytes { get; init; }
    public int RebuiltTokens { get; init; }
    public double SizeReduction => UncompressedBytes == 0 ? 0 : 1 - ((double)RebuiltBytes / UncompressedBytes);
    public bool LastInstructionPresent { get; init; }
    public bool TeammateShownAsLast { get; init; }
    public double InstructionRecall { get; init; }
    public double DecisionRecall { get; init; }
    public double FileRecall { get; init; }
    public double ModifiedFileRecall { get; init; }
    public double ErrorRecall { get; init; }
    public double PendingRecall { get; init; }
    public bool CurrentWorkPresent { get; init; }
    public bool NextStepPresent { get; init; }
    public int DistractorsPresent { get; init; }
    public bool SectionsWithinBudget { get; init; }
    public IReadOnlyDictionary<string, double> SectionSimilarity { get; init; } = new Dictionary<string, double>();
    public double SemanticFidelity => SectionSimilarity.Count == 0 ? 0 : SectionSimilarity.Values.Average();
}

/// <summary>A session that could not be imported, with why.</summary>
public sealed record ImportFailure(string Session, string Error);

/// <summary>
/// The fidelity measurement of docs/handoff.md: each session of the corpus is imported, packed (extractive, the given
/// sentence generator), rebuilt per device profile, and the rebuilt context is compared with the hand labels.
/// Thresholds (the corpus README's proposal, used as is): instruction present verbatim or MiniLM cosine at least 0.8 to a
/// sentence of the context (first 300 characters of long messages); a decision, error, pending task, current work or next
/// step present by one of its verbatim evidence quotes, or cosine at least 0.7 between its paraphrase and a sentence of the
/// context; a file present by its path or its relative path. Section similarity: for each labelled item, the best cosine
/// between the item's text and a sentence of the matching rebuilt section, averaged over the items (a missing section
/// scores 0); semantic fidelity is the mean over the sections that have labels.
/// </summary>
public sealed class FidelityScorer(IEmbeddingGenerator<string, Embedding<float>> judge, IContextCompressor compressor)
{
    private readonly Dictionary<string, float[]> _cache = new(StringComparer.Ordinal);

    public async Task<(List<FidelityScore> Scores, List<ImportFailure> Failures)> ScoreDirectoryAsync(string directory, IReadOnlyList<DeviceProfile> profiles, CancellationToken cancellationToken = default)
    {
        var scores = new List<FidelityScore>();
        var failures = new List<ImportFailure>();
        foreach (string labelsPath in Directory.GetFiles(directory, "*.labels.json").Order(StringComparer.Ordinal))
        {
            JsonNode labels = JsonNode.Parse(await File.ReadAllTextAsync(labelsPath, cancellationToken))!;
            string session = labels["session"]!.GetValue<string>();
            string sessionPath = Path.Combine(directory, Path.GetFileName(session));
            ConversationTranscript transcript;
            try
            {
                transcript = await ImportAsync(sessionPath, cancellationToken);
            }
            catch (Exception ex) when (ex is GhostieSyncException or IOException or InvalidDataException or System.Text.Json.JsonException)
            {
                failures.Add(new ImportFailure(session, ex.GetType().Name + ": " + ex.Message));
                continue;
            }

            scores.AddRange(await ScoreAsync(session, transcript, labels, profiles, cancellationToken));
        }

        return (scores, failures);
    }

    public static async Task<ConversationTranscript> ImportAsync(string path, CancellationToken cancellationToken)
    {
        if (!path.EndsWith(".gz", StringComparison.Ordinal))
        {
            return await TranscriptImporter.ImportFileAsync(path, cancellationToken: cancellationToken);
        }

        string plain = Path.Combine(Path.GetTempPath(), "ghostie-fidelity-" + Guid.NewGuid().ToString("N")[..8] + "-" + Path.GetFileNameWithoutExtension(path));
        try
        {
            await using (FileStream input = File.OpenRead(path))
            await using (var gzip = new GZipStream(input, CompressionMode.Decompress))
            await using (FileStream output = File.Create(plain))
            {
                await gzip.CopyToAsync(output, cancellationToken);
            }

            return await TranscriptImporter.ImportFileAsync(plain, cancellationToken: cancellationToken);
        }
        finally
        {
            File.Delete(plain);
        }
    }

    public async Task<List<FidelityScore>> ScoreAsync(string session, ConversationTranscript transcript, JsonNode labels, IReadOnlyList<DeviceProfile> profiles, CancellationToken cancellationToken)
    {
        CompressedContext context = await compressor.CompressAsync(transcript, new CompressionOptions(), cancellationToken);
        HandoffPackage package = Package(transcript, context);
        long uncompressed = labels["uncompressed_bytes"]?.GetValue<long>() ?? transcript.RawBytes;
        var scores = new List<FidelityScore>();
        foreach (DeviceProfile profile in profiles)
        {
            RebuiltConversation rebuilt = HandoffRebuilder.Rebuild(package, profile, new HandoffResumeOptions { WorkspaceRoot = transcript.ProjectRoot });
            scores.Add(await ScoreRebuiltAsync(session, labels, rebuilt, uncompressed, cancellationToken));
        }

        return scores;
    }

    private static HandoffPackage Package(ConversationTranscript transcript, CompressedContext context) => new()
    {
        PackageId = "000000000000000000000000",
        Source = new HandoffSource { DeviceId = "fidelity", ProjectRoot = transcript.ProjectRoot },
        Conversation = new ConversationMetadata { Id = transcript.Id, Title = transcript.Title ?? transcript.Id, MessageCount = transcript.Messages.Count, SourceFormat = transcript.SourceFormat },
        Context = context,
        Reconstruction = new ReconstructionInstructions
        {
            ContextPriorities = ContextSections.Default,
            ResumptionPoint = new ResumptionPoint { LastUserMessage = transcript.Messages.LastOrDefault(m => m.Role == TranscriptRole.User)?.Text ?? "" },
        },
    };

    private async Task<FidelityScore> ScoreRebuiltAsync(string session, JsonNode labels, RebuiltConversation rebuilt, long uncompressed, CancellationToken cancellationToken)
    {
        string text = Normalize(rebuilt.Context);
        List<string> sentences = Sentences(rebuilt.Context);
        await PrimeAsync(sentences, cancellationToken);
        var sectionSentences = rebuilt.Sections.ToDictionary(s => s.Name, s => Sentences(s.Text), StringComparer.Ordinal);

        string last = Normalize(labels["last_instruction"]?["text"]?.GetValue<string>() ?? "");
        RebuiltSection? lastSection = rebuilt.Sections.FirstOrDefault(s => s.Name == ContextSections.LastInstruction && s.Included > 0);
        bool teammateAsLast = lastSection is not null && Strings(labels["not_instructions"]).Any(n => Normalize(lastSection.Text).Contains(Normalize(n), StringComparison.Ordinal));

        JsonArray instructions = labels["instructions"]?.AsArray() ?? [];
        int instructionHits = 0;
        foreach (JsonNode? instruction in instructions)
        {
            string t = instruction!["text"]!.GetValue<string>();
            if (text.Contains(Normalize(t), StringComparison.Ordinal) || await BestAsync(t.Length > 300 ? t[..300] : t, sentences, cancellationToken) >= 0.8)
            {
                instructionHits++;
            }
        }

        async Task<bool> PresentAsync(string? paraphrase, IEnumerable<string> evidence)
        {
            if (evidence.Any(e => e.Length > 0 && text.Contains(Normalize(e), StringComparison.Ordinal)))
            {
                return true;
            }

            return paraphrase is { Length: > 0 } && await BestAsync(paraphrase, sentences, cancellationToken) >= 0.7;
        }

        JsonArray decisions = labels["decisions"]?.AsArray() ?? [];
        int decisionHits = 0;
        foreach (JsonNode? d in decisions)
        {
            if (await PresentAsync(d!["decision"]?.GetValue<string>(), Strings(d["evidence"])))
            {
                decisionHits++;
            }
        }

        JsonArray files = labels["files"]?.AsArray() ?? [];
        bool FilePresent(JsonNode f) => text.Contains(f["path"]!.GetValue<string>(), StringComparison.Ordinal)
            || (f["relative"]?.GetValue<string>() is { Length: > 0 } r && text.Contains(r, StringComparison.Ordinal));
        List<JsonNode> modified = files.Where(f => f!["modified"]?.GetValue<bool>() == true).Select(f => f!).ToList();

        JsonArray errors = labels["errors"]?.AsArray() ?? [];
        int errorHits = 0;
        foreach (JsonNode? e in errors)
        {
            if (await PresentAsync(e!["fix"]?.GetValue<string>(), [e["error"]?.GetValue<string>() ?? "", e["fix_evidence"]?.GetValue<string>() ?? ""]))
            {
                errorHits++;
            }
        }

        JsonArray pending = labels["pending_tasks"]?.AsArray() ?? [];
        int pendingHits = 0;
        foreach (JsonNode? p in pending)
        {
            if (await PresentAsync(p!["task"]?.GetValue<string>(), [p["evidence"]?.GetValue<string>() ?? ""]))
            {
                pendingHits++;
            }
        }

        JsonNode? current = labels["current_work"], next = labels["next_step"];
        bool currentPresent = current is not null && await PresentAsync(current["text"]?.GetValue<string>(), [current["evidence"]?.GetValue<string>() ?? ""]);
        bool nextPresent = next is not null && await PresentAsync(next["text"]?.GetValue<string>(), [next["evidence"]?.GetValue<string>() ?? ""]);

        // Per section: the mean over labelled items of the best cosine to a sentence of that section.
        var similarity = new Dictionary<string, double>(StringComparer.Ordinal);
        async Task SectionAsync(string section, IEnumerable<string> items)
        {
            List<string> list = items.Where(i => i.Length > 0).ToList();
            if (list.Count == 0)
            {
                return;
            }

            List<string> pool = sectionSentences.TryGetValue(section, out List<string>? s) ? s : [];
            double sum = 0;
            foreach (string item in list)
            {
                sum += pool.Count == 0 ? 0 : Math.Max(0, await BestAsync(item, pool, cancellationToken));
            }

            similarity[section] = sum / list.Count;
        }

        await SectionAsync(ContextSections.PrimaryRequest, [labels["primary_request"]?["text"]?.GetValue<string>() ?? ""]);
        await SectionAsync(ContextSections.LastInstruction, [labels["last_instruction"]?["text"]?.GetValue<string>() ?? ""]);
        await SectionAsync(ContextSections.KeyDecisions, decisions.Select(d => (d!["decision"]?.GetValue<string>() ?? "") + " " + (d["reason"]?.GetValue<string>() ?? "")));
        await SectionAsync(ContextSections.ErrorsAndFixes, errors.Select(e => (e!["error"]?.GetValue<string>() ?? "") + " " + (e["fix"]?.GetValue<string>() ?? "")));
        await SectionAsync(ContextSections.PendingTasks, pending.Select(p => p!["task"]?.GetValue<string>() ?? ""));
        await SectionAsync(ContextSections.CurrentWork, [current?["text"]?.GetValue<string>() ?? ""]);
        await SectionAsync(ContextSections.NextStep, [next?["text"]?.GetValue<string>() ?? ""]);
        await SectionAsync(ContextSections.ActiveFiles, files.Select(f => f!["path"]!.GetValue<string>()));

        return new FidelityScore
        {
            Session = session,
            Profile = rebuilt.Profile.Name,
            UncompressedBytes = uncompressed,
            RebuiltBytes = Encoding.UTF8.GetByteCount(rebuilt.Context),
            RebuiltTokens = rebuilt.ContextTokens,
            LastInstructionPresent = last.Length > 0 && text.Contains(last, StringComparison.Ordinal),
            TeammateShownAsLast = teammateAsLast,
            InstructionRecall = Ratio(instructionHits, instructions.Count),
            DecisionRecall = Ratio(decisionHits, decisions.Count),
            FileRecall = Ratio(files.Count(f => FilePresent(f!)), files.Count),
            ModifiedFileRecall = Ratio(modified.Count(FilePresent), modified.Count),
            ErrorRecall = Ratio(errorHits, errors.Count),
            PendingRecall = Ratio(pendingHits, pending.Count),
            CurrentWorkPresent = currentPresent,
            NextStepPresent = nextPresent,
            DistractorsPresent = Strings(labels["off_path_distractors"]).Count(d => text.Contains(Normalize(d), StringComparison.Ordinal)),
            SectionsWithinBudget = rebuilt.Sections.All(s => s.Included == 0 || s.Tokens <= s.Budget) && rebuilt.ContextTokens <= rebuilt.Profile.ContextTokens,
            SectionSimilarity = similarity,
        };
    }

    private static double Ratio(int hits, int count) => count == 0 ? 1 : (double)hits / count;

    private static IEnumerable<string> Strings(JsonNode? node) => node is JsonArray array ? array.Select(n => n?.GetValue<string>() ?? "") : [];

    internal static string Normalize(string text) => Regex.Replace(text, @"\s+", " ").Trim();

    private static List<string> Sentences(string text) =>
        Regex.Split(text, @"(?<=[.!?])\s+|\n+").Select(s => s.Trim().TrimStart('-', '#', ' ')).Where(s => s.Length >= 3).Take(4_000).ToList();

    private async Task<double> BestAsync(string probe, List<string> pool, CancellationToken cancellationToken)
    {
        if (pool.Count == 0)
        {
            return 0;
        }

        float[] p = await EmbedAsync(probe, cancellationToken);
        double best = double.NegativeInfinity;
        foreach (string sentence in pool)
        {
            float[] v = await EmbedAsync(sentence, cancellationToken);
            best = Math.Max(best, TensorPrimitives.CosineSimilarity(p, v));
        }

        return best;
    }

    /// <summary>Embeds the texts not seen yet in batches (one call per 64), so scoring a context costs one pass over its sentences.</summary>
    private async Task PrimeAsync(IEnumerable<string> texts, CancellationToken cancellationToken)
    {
        string[] missing = texts.Where(t => !_cache.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToArray();
        for (int start = 0; start < missing.Length; start += 64)
        {
            string[] batch = missing[start..Math.Min(missing.Length, start + 64)];
            GeneratedEmbeddings<Embedding<float>> e = await judge.GenerateAsync(batch, cancellationToken: cancellationToken);
            for (int i = 0; i < batch.Length; i++)
            {
                _cache[batch[i]] = e[i].Vector.ToArray();
            }
        }
    }

    private async Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken)
    {
        if (!_cache.TryGetValue(text, out float[]? vector))
        {
            GeneratedEmbeddings<Embedding<float>> e = await judge.GenerateAsync([text], cancellationToken: cancellationToken);
            vector = e[0].Vector.ToArray();
            _cache[text] = vector;
        }

        return vector;
    }
}
