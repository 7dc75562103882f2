using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ghostie.Sync.Vectors;
using Microsoft.Extensions.AI;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// Compression with no language model: an extractive summary in the sections of a coding agent's compaction summary
/// (primary request, key decisions with their reasons, files and code touched, errors and their fixes, pending tasks,
/// current work, next step, the last instruction verbatim). Sentences are chosen by maximal marginal relevance over
/// sentence embeddings (relevance to the conversation and to the person's own words, minus similarity to what is already
/// chosen), so the selection covers the conversation without repeating itself; there are no trigger phrases. The
/// structural sections come from the transcript's structure: file paths from tool calls, errors from failed tool results,
/// pending tasks from the agent's last to-do list. The size scales with the conversation
/// (<see cref="CompressionOptions.TargetRatio"/>) up to the host's <see cref="CompressionOptions.TokenBudget"/>, and every
/// section keeps to its share. The method is described in docs/handoff.md.
/// </summary>
public sealed partial class ExtractiveCompressor : IContextCompressor
{
    private const int SnippetMaxLines = 60;
    private const int SnippetMaxChars = 4_000;
    private const int SentenceMaxChars = 400;
    private const int SentenceMinChars = 12;

    // The compressor's section shares of its budget (after the last instruction took what it needs, up to 30%).
    private const double PrimaryShare = 0.10, DecisionShare = 0.18, ErrorShare = 0.09, PendingShare = 0.06, CurrentShare = 0.07,
        NextShare = 0.04, FileShare = 0.07, SnippetShare = 0.08, SummaryShare = 0.07, RecentShare = 0.14, CompactionShare = 0.08; // the earlier sentences get the rest (at least 0.10; 0.02 when a compaction summary takes CompactionShare too)

    // Generic sentences saying that something was chosen, and why: the decision section's semantic prior. With a semantic
    // model they pull decisions however they are worded; with the lexical default they act as a soft lexical prior.
    private static readonly string[] DecisionPrototypes =
    [
        "We will use this option instead of the other one.",
        "Let's go with the simpler approach because it is enough.",
        "I chose to keep it this way, since the alternative costs more.",
        "The decision is to do it like this, not like that.",
        "We agreed to keep the current design for now.",
        "No, don't do that; do this instead.",
        "That settles it: we stay with the first plan.",
    ];

    // Declared before Instance: static initializers run in order, and Instance needs it.
    private static readonly HashedNGramEmbeddingGenerator Lexical = new();

    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly bool _lexical;

    /// <summary>Creates a compressor over the lexical <see cref="HashedNGramEmbeddingGenerator"/> (no model, no download).</summary>
    public ExtractiveCompressor()
        : this(null)
    {
    }

    /// <summary>Creates a compressor whose sentence selection uses <paramref name="generator"/> (for example the MiniLM one of
    /// Ghostie.Sync.Embeddings.MiniLM); null uses the lexical default.</summary>
    /// <param name="generator">The sentence embedding generator, or null.</param>
    public ExtractiveCompressor(IEmbeddingGenerator<string, Embedding<float>>? generator)
    {
        _lexical = generator is null or HashedNGramEmbeddingGenerator;
        _generator = generator ?? Lexical;
    }

    /// <summary>The shared instance over the lexical generator (it holds no state).</summary>
    public static ExtractiveCompressor Instance { get; } = new();

    /// <summary>The model name of the sentence embeddings (recorded in <see cref="CompressionInfo.Note"/>).</summary>
    internal string EmbeddingModel => _generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId ?? _generator.GetType().Name;

    /// <inheritdoc />
    public Task<CompressedContext> CompressAsync(ConversationTranscript transcript, CompressionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        return CompressCoreAsync(transcript, options, cancellationToken);
    }

    /// <summary>The budget a conversation of <paramref name="originalTokens"/> gets: its <see cref="CompressionOptions.TargetRatio"/>,
    /// at least <see cref="CompressionOptions.MinimumTokens"/>, at most <see cref="CompressionOptions.TokenBudget"/>.</summary>
    internal static int EffectiveBudget(long originalTokens, CompressionOptions options) =>
        (int)Math.Min(options.TokenBudget, Math.Max(Math.Min(options.MinimumTokens, options.TokenBudget), Math.Ceiling(originalTokens * options.TargetRatio)));

    internal async Task<CompressedContext> CompressCoreAsync(ConversationTranscript transcript, CompressionOptions options, CancellationToken cancellationToken)
    {
        ITokenCounter counter = options.TokenCounter;
        long original = CountAll(transcript, counter);
        int budget = EffectiveBudget(original, options);
        // The conversation proper: the person's words, the assistant's, agent-team teammates' messages and the host's own
        // compaction summary (Claude Code's "This session is being continued..."), never injected lines or tool output.
        List<TranscriptMessage> turns = transcript.Messages.Where(m => IsPerson(m) || IsAssistantText(m) || IsTeammateText(m) || IsCompaction(m)).ToList();
        TranscriptMessage? compaction = turns.LastOrDefault(IsCompaction);
        List<TranscriptMessage> person = turns.Where(IsPerson).ToList();

        // The last instruction, verbatim, first: up to 30% of the budget (the rest is shared by the other sections).
        TranscriptMessage? lastInstruction = person.LastOrDefault();
        string last = lastInstruction is null ? "" : PersonText(lastInstruction);
        int lastTokens = counter.CountTokens(last);
        if (lastTokens > budget * 3 / 10)
        {
            last = CutToTokens(last, budget * 3 / 10, counter);
            lastTokens = counter.CountTokens(last);
        }

        int rest = Math.Max(0, budget - lastTokens);
        int Share(double share) => (int)(rest * share);

        // Sentences, embedded once, scored by relevance to the conversation and to the person's words.
        List<Unit> units = SplitUnits(turns.Where(m => !IsCompaction(m)).ToList(), counter);
        await EmbedAsync(units, options, cancellationToken).ConfigureAwait(false);
        float[] centroid = Centroid(units.Select(u => u.Vector!));
        float[] personCentroid = Centroid(units.Where(u => u.Person).Select(u => u.Vector!));
        int lastIndex = Math.Max(1, transcript.Messages.Count - 1);
        foreach (Unit unit in units)
        {
            unit.Relevance = (0.45 * Cosine(unit.Vector!, centroid)) + (0.35 * Cosine(unit.Vector!, personCentroid))
                + (unit.Person ? 0.15 : 0) + (0.05 * unit.Turn / lastIndex);
        }

        var used = new List<Unit>();
        string primary = person.Count == 0 ? "" : CutToTokens(PersonText(person[0]), Share(PrimaryShare), counter);
        List<KeyDecision> decisions = await SelectDecisionsAsync(units, used, Share(DecisionShare), options, counter, cancellationToken).ConfigureAwait(false);
        List<ErrorAndFix> errors = ExtractErrors(transcript.Messages, Share(ErrorShare), counter);
        List<string> pending = FitItems(ExtractPendingTasks(transcript.Messages), Share(PendingShare), counter);
        string current = CutToTokens(CurrentWork(transcript.Messages), Share(CurrentShare), counter);
        string next = CutToTokens(NextStep(transcript.Messages, lastInstruction, last), Share(NextShare), counter);
        List<ActiveFile> files = FitFiles(ExtractActiveFiles(transcript.Messages, options.MaxActiveFiles, transcript.ProjectRoot), Share(FileShare), counter);
        List<CodeSnippet> snippets = FitSnippets(ExtractSnippets(transcript.Messages, options.MaxCodeSnippets), Share(SnippetShare), counter);
        string summary = CutToTokens(Summarize(transcript, files), Share(SummaryShare), counter);
        List<string> questions = FitItems(OpenQuestions(turns), Math.Max(0, Share(NextShare)), counter);
        (int droppedTools, int duplicateTools) = CountToolOutputs(transcript.Messages);

        // The thread: the last turns verbatim, newest first, within their share (a longer one is cut and ends the run),
        // then the earlier sentences chosen by MMR within theirs.
        var thread = new List<ThreadEntry>();
        int recentBudget = Share(RecentShare);
        int recentFloor = int.MaxValue;
        for (int i = turns.Count - 1, kept = 0; i >= 0 && kept < options.RecentTurns && recentBudget > 0; i--, kept++)
        {
            TranscriptMessage message = turns[i];
            if (IsCompaction(message))
            {
                continue; // its own entry below
            }

            if (lastInstruction is not null && message.Index == lastInstruction.Index)
            {
                recentFloor = message.Index;
                continue; // carried whole in its own section
            }

            string text = IsPerson(message) ? PersonText(message) : message.Text;
            int tokens = counter.CountTokens(text) + 8;
            if (tokens > recentBudget)
            {
                if (recentBudget >= 40)
                {
                    ThreadEntry cut = Entry(message, CutToTokens(text, recentBudget - 8, counter), ThreadEntryKinds.Excerpt, 0, counter);
                    thread.Add(cut);
                    recentFloor = message.Index;
                }

                break;
            }

            thread.Add(Entry(message, text, ThreadEntryKinds.Verbatim, 0, counter));
            recentBudget -= tokens;
            recentFloor = message.Index;
        }

        // The host's compaction summary is the account of what came before it: one summary entry, within its share.
        if (compaction is not null && Share(CompactionShare) >= 40)
        {
            thread.Add(Entry(compaction, CutToTokens(compaction.Text.Trim(), Share(CompactionShare), counter), ThreadEntryKinds.Summary, 10.0, counter));
        }

        // The earlier sentences take their share and whatever the sections above left unused: coverage of the conversation fills the budget.
        long spent = lastTokens + counter.CountTokens(primary) + counter.CountTokens(current) + counter.CountTokens(next) + counter.CountTokens(summary)
            + decisions.Sum(d => (long)counter.CountTokens(d.Text) + counter.CountTokens(d.Reason) + 3)
            + errors.Sum(e => (long)counter.CountTokens(e.Error) + counter.CountTokens(e.Fix) + 6)
            + pending.Concat(questions).Sum(p => (long)counter.CountTokens(p) + 3)
            + files.Sum(f => (long)counter.CountTokens(f.Path) + 5)
            + snippets.Sum(s => (long)counter.CountTokens(s.Text) + 8)
            + thread.Sum(e => (long)e.Tokens + 8);
        int earlierBudget = (int)Math.Max(0, budget - spent);
        var usedSet = new HashSet<Unit>(used);
        List<Unit> earlierPool = units.Where(u => u.Turn < recentFloor && !usedSet.Contains(u)).ToList();
        foreach (Unit unit in Mmr(earlierPool, used, options.Lambda, earlierBudget, u => u.Relevance))
        {
            used.Add(unit);
        }

        Dictionary<int, TranscriptMessage> byIndex = turns.ToDictionary(m => m.Index);
        foreach (IGrouping<int, Unit> group in used.Where(u => u.Turn < recentFloor && !u.IsDecision).GroupBy(u => u.Turn))
        {
            TranscriptMessage message = byIndex[group.Key];
            string text = string.Join(" ", group.OrderBy(u => u.Order).Select(u => u.Text)) + " [...]";
            thread.Add(Entry(message, text, ThreadEntryKinds.Excerpt, Math.Round(group.Max(u => u.Relevance), 3), counter));
        }

        thread.Sort((a, b) => a.Turn.CompareTo(b.Turn));
        List<ThreadEntry> withGaps = MarkOmitted(thread, turns.Where(t => lastInstruction is null || t.Index != lastInstruction.Index).ToList());
        long compressedTokens = lastTokens + counter.CountTokens(primary) + counter.CountTokens(current) + counter.CountTokens(next) + counter.CountTokens(summary)
            + decisions.Sum(d => (long)counter.CountTokens(d.Text) + counter.CountTokens(d.Reason))
            + errors.Sum(e => (long)counter.CountTokens(e.Error) + counter.CountTokens(e.Fix))
            + pending.Concat(questions).Sum(p => (long)counter.CountTokens(p))
            + files.Sum(f => (long)counter.CountTokens(f.Path) + 2)
            + snippets.Sum(s => (long)counter.CountTokens(s.Text))
            + thread.Sum(e => (long)e.Tokens);
        return new CompressedContext
        {
            KeyDecisions = decisions,
            ProjectState = new ProjectState
            {
                Summary = summary,
                PrimaryRequest = primary,
                LastInstruction = last,
                LastInstructionTurn = lastInstruction?.Index ?? -1,
                CurrentWork = current,
                NextStep = next,
                PendingTasks = pending,
                Errors = errors,
                OpenQuestions = questions,
                NextSteps = next.Length > 0 ? [next] : [],
            },
            ActiveFiles = files,
            CodeSnippets = snippets,
            Thread = withGaps,
            Compression = new CompressionInfo
            {
                Method = "extractive",
                TokenBudget = budget,
                OriginalTokens = original,
                CompressedTokens = compressedTokens,
                DroppedToolOutputs = droppedTools,
                DuplicateToolOutputs = duplicateTools,
                OmittedMessages = turns.Count - thread.Count - (lastInstruction is null ? 0 : 1),
                TokenCounter = counter.Name,
                Note = "sentence selection: MMR over " + EmbeddingModel + " embeddings",
            },
        };
    }

    /// <summary>Tokens of the whole conversation: every message and every tool call input. A text longer than 2 KiB (a log,
    /// a file a tool read) is counted on its first and last 512 characters and scaled by its length: tokenizing megabytes
    /// of tool output exactly costs more than all the rest of compression, and this total only sets the budget and the
    /// ratio (on the generated 2 MB session of the benchmark the sampled total is within a few percent of the exact one).</summary>
    internal static long CountAll(ConversationTranscript transcript, ITokenCounter counter) =>
        transcript.Messages.Sum(m => CountLong(m.Text, counter) + m.ToolCalls.Sum(c => CountLong(c.Input, counter)));

    private static long CountLong(string text, ITokenCounter counter)
    {
        const int Exact = 2 * 1024, Sample = 512;
        if (text.Length <= Exact)
        {
            return counter.CountTokens(text);
        }

        int head = counter.CountTokens(text[..Sample]);
        int tail = counter.CountTokens(text[^Sample..]);
        return (long)Math.Ceiling((head + tail) * (text.Length / (2.0 * Sample)));
    }

    /// <summary>A sentence of the conversation, the unit of selection.</summary>
    private sealed class Unit
    {
        public required int Turn { get; init; }
        public required int Order { get; init; }
        public required bool Person { get; init; }
        public required string Text { get; init; }
        public required string Role { get; init; }
        public DateTimeOffset? Timestamp { get; init; }
        public int Tokens { get; init; }
        public string Next { get; init; } = "";
        public float[]? Vector { get; set; }
        public double Relevance { get; set; }
        public bool IsDecision { get; set; }
        public bool Answer { get; init; }
    }

    /// <summary>The person's own message (not a tool result, not injected by the host, not a teammate's report).
    /// Until the importers mark each message's kind, the markers Claude Code writes are recognized here.</summary>
    internal static bool IsPerson(TranscriptMessage message) =>
        message.Role == TranscriptRole.User && message.Kind == MessageKind.Person && !message.IsSidechain && PersonText(message).Length > 0;

    private static bool IsTeammateText(TranscriptMessage message) =>
        message.Kind == MessageKind.Teammate && !message.IsSidechain && !string.IsNullOrWhiteSpace(message.Text);

    private static bool IsCompaction(TranscriptMessage message) =>
        message.Kind == MessageKind.CompactionSummary && !message.IsSidechain && !string.IsNullOrWhiteSpace(message.Text);

    private static bool IsAssistantText(TranscriptMessage message) =>
        message.Role == TranscriptRole.Assistant && !message.IsSidechain && !string.IsNullOrWhiteSpace(message.Text);

    /// <summary>The person's words of a user message: "" when the whole message was written by the host (caveats, command
    /// output, reminders, teammate messages, compaction summaries, interruptions); reminders appended to it removed.</summary>
    internal static string PersonText(TranscriptMessage message)
    {
        string text = message.Text.Trim();
        foreach (string marker in InjectedStarts)
        {
            if (text.StartsWith(marker, StringComparison.Ordinal))
            {
                return "";
            }
        }

        return AppendedReminder().Replace(text, "").Trim();
    }

    private static readonly string[] InjectedStarts =
    [
        "<teammate-message", "<command-name>", "<command-message>", "<command-args>", "<local-command-stdout>", "<local-command-stderr>",
        "<bash-stdout>", "<bash-stderr>", "<system-reminder>", "<user-prompt-submit-hook>", "<task-notification>", "Caveat:",
        "This session is being continued from a previous conversation", "[Request interrupted",
    ];

    private static List<Unit> SplitUnits(List<TranscriptMessage> turns, ITokenCounter counter)
    {
        var units = new List<Unit>();
        TranscriptMessage? previous = null;
        foreach (TranscriptMessage message in turns)
        {
            bool person = IsPerson(message);
            string text = person ? PersonText(message) : message.Text;
            var sentences = new List<string>();
            foreach (string line in Lines(text))
            {
                if (line.StartsWith('#') || line.StartsWith('|') || (line.StartsWith("**", StringComparison.Ordinal) && line.EndsWith("**", StringComparison.Ordinal)))
                {
                    continue; // headings and table rows: structure, not statements
                }

                foreach (string sentence in SentenceSplit().Split(line))
                {
                    string s = sentence.Trim();
                    // Three words or fewer ("thanks, continue", "ok go on") carry no statement worth a place.
                    if (s.Length >= SentenceMinChars && s.Any(char.IsLetter) && s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 4)
                    {
                        sentences.Add(Truncate(s, SentenceMaxChars));
                    }
                }
            }

            // A reply to a question of the other side is where choices get made: its sentences are marked as answers.
            TranscriptMessage? before = previous;
            bool answers = before is not null && IsPerson(before) != person && (IsPerson(before) ? PersonText(before) : before.Text).TrimEnd().EndsWith('?');
            previous = message;
            for (int i = 0; i < sentences.Count; i++)
            {
                units.Add(new Unit
                {
                    Answer = answers,
                    Turn = message.Index, Order = i, Person = person, Text = sentences[i], Role = RoleName(message), Timestamp = message.Timestamp,
                    Tokens = counter.CountTokens(sentences[i]) + 3, Next = i + 1 < sentences.Count ? sentences[i + 1] : "",
                });
            }
        }

        return units;
    }

    private async Task EmbedAsync(List<Unit> units, CompressionOptions options, CancellationToken cancellationToken)
    {
        // Sessions repeat themselves ("Run the tests again."): one embedding per distinct sentence.
        var seen = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (Unit unit in units)
        {
            if (!seen.TryGetValue(unit.Text, out float[]? vector))
            {
                vector = Lexical.Embed(unit.Text);
                seen[unit.Text] = vector;
            }

            unit.Vector = vector;
        }

        if (_lexical || units.Count == 0)
        {
            return;
        }

        // A model is costly per sentence: the person's sentences first, then the most central ones by the lexical ranking.
        float[] centroid = Centroid(units.Select(u => u.Vector!));
        List<Unit> chosen = units.OrderByDescending(u => u.Person).ThenByDescending(u => Cosine(u.Vector!, centroid)).Take(options.MaxModelSentences).ToList();
        var keep = new HashSet<Unit>(chosen);
        units.RemoveAll(u => !keep.Contains(u));
        GeneratedEmbeddings<Embedding<float>> vectors = await _generator.GenerateAsync(chosen.Select(u => u.Text), cancellationToken: cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < chosen.Count; i++)
        {
            chosen[i].Vector = Normalized(vectors[i].Vector.ToArray());
        }
    }

    private async Task<List<KeyDecision>> SelectDecisionsAsync(List<Unit> units, List<Unit> used, int budget, CompressionOptions options, ITokenCounter counter, CancellationToken cancellationToken)
    {
        if (units.Count == 0 || budget <= 0)
        {
            return [];
        }

        float[] prototype;
        if (_lexical)
        {
            prototype = Centroid(DecisionPrototypes.Select(Lexical.Embed));
        }
        else
        {
            GeneratedEmbeddings<Embedding<float>> p = await _generator.GenerateAsync(DecisionPrototypes, cancellationToken: cancellationToken).ConfigureAwait(false);
            prototype = Centroid(p.Select(e => e.Vector.ToArray()));
        }

        var chosen = new List<KeyDecision>();
        var picked = new List<Unit>();

        // A question decides nothing; and the section stays selective on short conversations: at most one sentence in 25
        // (at least 2), however much budget is left.
        List<Unit> statements = units.Where(u => !u.Text.EndsWith('?')).ToList();
        int most = Math.Max(2, (int)Math.Ceiling(statements.Count / 25.0));
        foreach (Unit unit in Mmr(statements, picked, options.Lambda, budget, u => (0.5 * u.Relevance) + Cosine(u.Vector!, prototype) + (u.Answer ? 0.15 : 0), withReason: true).Take(most))
        {
            picked.Add(unit);
            unit.IsDecision = true;
            used.Add(unit);
        }

        foreach (Unit unit in picked.OrderBy(u => u.Turn).ThenBy(u => u.Order))
        {
            // The next sentence of the same message, as the reason, unless it is a question or already a decision itself.
            string reason = unit.Next.EndsWith('?') || picked.Any(p => p.Turn == unit.Turn && p.Text == unit.Next) ? "" : unit.Next;
            chosen.Add(new KeyDecision { Text = unit.Text, Reason = reason, Turn = unit.Turn, Role = unit.Role, Timestamp = unit.Timestamp });
        }

        _ = counter;
        return chosen;
    }

    /// <summary>Maximal marginal relevance: repeatedly the unit with the best λ·relevance − (1−λ)·(most similar already
    /// chosen), while it fits the token budget. Near-duplicates of a chosen unit (cosine 0.95 or more) are never taken.</summary>
    private static IEnumerable<Unit> Mmr(List<Unit> pool, List<Unit> alreadyChosen, double lambda, int budget, Func<Unit, double> relevance, bool withReason = false)
    {
        // Only the most relevant candidates compete (as many as could fill the budget four times over, at least 200):
        // the rest would never win against them, and each round costs one comparison per candidate.
        var taken = new HashSet<Unit>(alreadyChosen);
        List<(Unit Unit, double Score)> scored = pool.Where(u => !taken.Contains(u)).Select(u => (u, relevance(u))).OrderByDescending(p => p.Item2).ToList();
        int averageTokens = scored.Count == 0 ? 1 : Math.Max(1, (int)scored.Average(p => p.Unit.Tokens));
        int keep = Math.Max(200, 4 * budget / averageTokens);
        var candidates = scored.Take(keep).Select(p => (p.Unit, p.Score, MaxSim: 0.0)).ToList();
        for (int c = 0; c < candidates.Count; c++)
        {
            foreach (Unit chosen in alreadyChosen)
            {
                double sim = Cosine(candidates[c].Unit.Vector!, chosen.Vector!);
                if (sim > candidates[c].MaxSim)
                {
                    candidates[c] = candidates[c] with { MaxSim = sim };
                }
            }
        }

        int left = budget;
        while (candidates.Count > 0 && left > 0)
        {
            int best = -1;
            double bestScore = double.NegativeInfinity;
            for (int c = 0; c < candidates.Count; c++)
            {
                double score = (lambda * candidates[c].Score) - ((1 - lambda) * candidates[c].MaxSim);
                if (score > bestScore)
                {
                    bestScore = score;
                    best = c;
                }
            }

            (Unit unit, _, double maxSim) = candidates[best];
            candidates.RemoveAt(best);
            int cost = unit.Tokens + (withReason && unit.Next.Length > 0 ? unit.Tokens : 0);
            if (maxSim >= 0.95 || cost > left)
            {
                continue;
            }

            left -= cost;
            yield return unit;
            for (int c = 0; c < candidates.Count; c++)
            {
                double sim = Cosine(candidates[c].Unit.Vector!, unit.Vector!);
                if (sim > candidates[c].MaxSim)
                {
                    candidates[c] = candidates[c] with { MaxSim = sim };
                }
            }
        }
    }

    private static float[] Centroid(IEnumerable<float[]> vectors)
    {
        float[]? sum = null;
        foreach (float[] v in vectors)
        {
            sum ??= new float[v.Length];
            if (v.Length == sum.Length)
            {
                TensorPrimitives.Add(sum, v, sum);
            }
        }

        return sum is null ? new float[1] : Normalized(sum);
    }

    /// <summary>The cosine of two unit vectors (every sentence vector is normalized when made; centroids are too).</summary>
    private static double Cosine(float[] a, float[] b) => a.Length == b.Length ? TensorPrimitives.Dot(a, b) : 0;

    private static float[] Normalized(float[] vector)
    {
        float norm = TensorPrimitives.Norm(vector);
        if (norm > 0 && Math.Abs(norm - 1) > 1e-4)
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }

        return vector;
    }

    /// <summary>Failed tool results (errors), each with the assistant's next words; repeats of one error kept once; the latest kept when over budget.</summary>
    private static List<ErrorAndFix> ExtractErrors(List<TranscriptMessage> messages, int budget, ITokenCounter counter)
    {
        var found = new List<ErrorAndFix>();
        var seen = new HashSet<ulong>();
        for (int i = 0; i < messages.Count; i++)
        {
            TranscriptMessage message = messages[i];
            if (message.Role != TranscriptRole.Tool || !message.IsError || string.IsNullOrWhiteSpace(message.Text))
            {
                continue;
            }

            string error = Truncate(OneLine(string.Join(" ", message.Text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Take(3))), 300);
            if (!seen.Add(Fingerprint(error)))
            {
                continue;
            }

            TranscriptMessage? after = messages.Skip(i + 1).FirstOrDefault(IsAssistantText);
            string fix = after is null ? "" : Truncate(string.Join(" ", Lines(after.Text).SelectMany(l => SentenceSplit().Split(l)).Take(2)), 300);
            found.Add(new ErrorAndFix { Error = error, Fix = fix, Turn = message.Index });
        }

        var kept = new List<ErrorAndFix>();
        int left = budget;
        for (int i = found.Count - 1; i >= 0; i--)
        {
            int cost = counter.CountTokens(found[i].Error) + counter.CountTokens(found[i].Fix) + 6;
            if (cost <= left)
            {
                kept.Add(found[i]);
                left -= cost;
            }
        }

        kept.Reverse();
        return kept;
    }

    /// <summary>The unfinished items of the last to-do list (a TodoWrite call's todos, status pending or in_progress).</summary>
    private static List<string> ExtractPendingTasks(List<TranscriptMessage> messages)
    {
        ToolCall? todo = messages.SelectMany(m => m.ToolCalls).LastOrDefault(c => c.Name == "TodoWrite" && c.Input.Length > 0);
        var tasks = new List<string>();
        if (todo is null)
        {
            return tasks;
        }

        try
        {
            using JsonDocument input = JsonDocument.Parse(todo.Input);
            if (input.RootElement.ValueKind == JsonValueKind.Object && input.RootElement.TryGetProperty("todos", out JsonElement todos) && todos.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement item in todos.EnumerateArray())
                {
                    string? status = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("status", out JsonElement s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                    string? content = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    if (content is { Length: > 0 } && status is not "completed")
                    {
                        tasks.Add(status == "in_progress" ? content + " (in progress)" : content);
                    }
                }
            }
        }
        catch (JsonException)
        {
            // not a to-do list after all: no pending tasks from it
        }

        return tasks;
    }

    private static string CurrentWork(List<TranscriptMessage> messages)
    {
        TranscriptMessage? assistant = messages.LastOrDefault(IsAssistantText);
        var text = new StringBuilder();
        if (assistant is not null)
        {
            text.Append(Truncate(string.Join(" ", Lines(assistant.Text).SelectMany(l => SentenceSplit().Split(l)).Take(3)), 600));
        }

        string[] calls = messages.Where(m => m.Role == TranscriptRole.Assistant && !m.IsSidechain).SelectMany(m => m.ToolCalls)
            .TakeLast(3).Select(c => (c.Name + " " + (c.FilePath ?? c.Summary)).Trim()).ToArray();
        if (calls.Length > 0)
        {
            text.Append(text.Length > 0 ? " " : "").Append("Last tool calls: ").Append(string.Join("; ", calls.Select(c => Truncate(c, 160)))).Append('.');
        }

        return text.ToString();
    }

    private static string NextStep(List<TranscriptMessage> messages, TranscriptMessage? lastInstruction, string last)
    {
        TranscriptMessage? assistant = messages.LastOrDefault(IsAssistantText);
        if (lastInstruction is not null && (assistant is null || assistant.Index < lastInstruction.Index))
        {
            return "Carry out the last instruction: " + Truncate(OneLine(last), 300);
        }

        if (assistant is null)
        {
            return "";
        }

        // The assistant's closing sentence: where it says what comes next, or asks what to do.
        string? closing = Lines(assistant.Text).SelectMany(l => SentenceSplit().Split(l)).LastOrDefault(s => s.Trim().Length >= SentenceMinChars);
        return closing is null ? "" : Truncate(closing.Trim(), 300);
    }

    private static List<string> OpenQuestions(List<TranscriptMessage> turns)
    {
        var questions = new List<string>();
        foreach (TranscriptMessage turn in turns.TakeLast(4))
        {
            string text = IsPerson(turn) ? PersonText(turn) : turn.Text;
            foreach (string sentence in Lines(text).SelectMany(l => SentenceSplit().Split(l)))
            {
                string s = sentence.Trim();
                if (s.EndsWith('?') && s.Length >= 15 && !questions.Contains(s))
                {
                    questions.Add(Truncate(s, 300));
                }
            }
        }

        return questions.TakeLast(5).ToList();
    }

    private static string Summarize(ConversationTranscript transcript, List<ActiveFile> files)
    {
        var summary = new StringBuilder();
        IEnumerable<string> compactions = transcript.Summaries
            .Concat(transcript.Messages.Where(m => m.Role == TranscriptRole.User && m.Text.TrimStart().StartsWith("This session is being continued from a previous conversation", StringComparison.Ordinal)).Select(m => m.Text));
        foreach (string earlier in compactions.Distinct(StringComparer.Ordinal).TakeLast(2))
        {
            summary.Append("Earlier summary: ").Append(Truncate(OneLine(earlier), 2_000)).Append('\n');
        }

        int changed = files.Count(f => f.Status is "edited" or "created");
        int commands = transcript.Messages.Sum(m => m.ToolCalls.Count(c => c.Name == "Bash"));
        if (changed > 0 || commands > 0)
        {
            summary.Append("Work: changed ").Append(changed).Append(" file(s), ran ").Append(commands).Append(" command(s).");
        }

        return summary.ToString().TrimEnd();
    }

    private static List<string> FitItems(List<string> items, int budget, ITokenCounter counter)
    {
        var kept = new List<string>();
        foreach (string item in items)
        {
            int cost = counter.CountTokens(item) + 3;
            if (cost > budget)
            {
                break;
            }

            kept.Add(item);
            budget -= cost;
        }

        return kept;
    }

    private static List<ActiveFile> FitFiles(List<ActiveFile> files, int budget, ITokenCounter counter)
    {
        var kept = new List<ActiveFile>();
        foreach (ActiveFile file in files)
        {
            int cost = counter.CountTokens(file.Path) + 5;
            if (cost <= budget)
            {
                kept.Add(file);
                budget -= cost;
            }
        }

        return kept;
    }

    private static List<CodeSnippet> FitSnippets(List<CodeSnippet> snippets, int budget, ITokenCounter counter)
    {
        var kept = new List<CodeSnippet>();
        for (int i = snippets.Count - 1; i >= 0; i--)
        {
            int cost = counter.CountTokens(snippets[i].Text) + 8;
            if (cost <= budget)
            {
                kept.Add(snippets[i]);
                budget -= cost;
            }
        }

        kept.Reverse();
        return kept;
    }

    /// <summary>The text cut (at a word) to at most <paramref name="tokens"/> tokens, with " [...]" when cut.</summary>
    internal static string CutToTokens(string text, int tokens, ITokenCounter counter)
    {
        if (tokens <= 0)
        {
            return "";
        }

        if (counter.CountTokens(text) <= tokens)
        {
            return text;
        }

        int chars = Math.Min(text.Length, tokens * 4);
        string cut = Truncate(text, chars);
        while (chars > 8 && counter.CountTokens(cut + " [...]") > tokens)
        {
            chars = chars * 9 / 10;
            cut = Truncate(text, chars);
        }

        return chars > 8 ? cut + " [...]" : "";
    }

    private static ThreadEntry Entry(TranscriptMessage message, string text, string kind, double salience, ITokenCounter counter) => new()
    {
        Turn = message.Index,
        Role = RoleName(message),
        Kind = kind,
        Text = text,
        Tools = message.ToolCalls.Take(10).Select(c => string.IsNullOrEmpty(c.Summary) ? c.Name : c.Name + " " + c.Summary).ToArray(),
        Timestamp = message.Timestamp,
        Tokens = counter.CountTokens(text),
        Salience = salience,
    };

    internal static string RoleName(TranscriptMessage message) => message.Kind switch
    {
        MessageKind.Person => "user",
        MessageKind.Assistant or MessageKind.ToolCall => "assistant",
        MessageKind.Teammate => message.Sender is { Length: > 0 } sender ? "teammate:" + sender : "teammate",
        MessageKind.ToolResult => "tool",
        _ => "system",
    };

    internal static string RoleName(TranscriptRole role) => role switch
    {
        TranscriptRole.User => "user",
        TranscriptRole.Assistant => "assistant",
        TranscriptRole.Tool => "tool",
        _ => "system",
    };

    /// <summary>Markers for the runs of turns left out, so a reader sees where the thread skips.</summary>
    private static List<ThreadEntry> MarkOmitted(List<ThreadEntry> kept, List<TranscriptMessage> turns)
    {
        var keptTurns = new HashSet<int>(kept.Select(e => e.Turn));
        var result = new List<ThreadEntry>(kept.Count + 8);
        int keptIndex = 0;
        int run = 0;
        int runStart = 0;
        foreach (TranscriptMessage turn in turns)
        {
            if (keptTurns.Contains(turn.Index))
            {
                if (run > 0)
                {
                    result.Add(Omitted(runStart, run));
                    run = 0;
                }

                while (keptIndex < kept.Count && kept[keptIndex].Turn == turn.Index)
                {
                    result.Add(kept[keptIndex++]);
                }
            }
            else
            {
                if (run == 0)
                {
                    runStart = turn.Index;
                }

                run++;
            }
        }

        if (run > 0)
        {
            result.Add(Omitted(runStart, run));
        }

        return result;
    }

    private static ThreadEntry Omitted(int firstTurn, int count) => new()
    {
        Turn = firstTurn,
        Role = "system",
        Kind = ThreadEntryKinds.Omitted,
        Text = count == 1 ? "1 earlier message omitted" : $"{count} earlier messages omitted",
        Tokens = 0,
    };

    internal static string Truncate(string text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text;
        }

        int cut = text.LastIndexOf(' ', Math.Max(0, maxChars - 1));
        return (cut > maxChars / 2 ? text[..cut] : text[..maxChars]) + "...";
    }

    /// <summary>The lines outside code fences, trimmed, with list markers removed.</summary>
    internal static IEnumerable<string> Lines(string text)
    {
        bool fenced = false;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }

            if (!fenced && line.Length > 0)
            {
                yield return ListMarker().Replace(line, "");
            }
        }
    }

    [GeneratedRegex(@"<system-reminder>[\s\S]*?(?:</system-reminder>|$)", RegexOptions.CultureInvariant)]
    private static partial Regex AppendedReminder();

    private static List<ActiveFile> ExtractActiveFiles(List<TranscriptMessage> messages, int max, string? projectRoot)
    {
        var files = new Dictionary<string, (int Rank, int LastTurn, int Touches)>(StringComparer.Ordinal);
        void Touch(string path, int rank, int turn)
        {
            path = path.Trim().TrimEnd('.', ',', ':', ')', '`', '\'', '"');
            if (path.Length is < 3 or > 400)
            {
                return;
            }

            path = UnderProjectRoot(path, projectRoot);

            files[path] = files.TryGetValue(path, out var known)
                ? (Math.Max(known.Rank, rank), turn, known.Touches + 1)
                : (rank, turn, 1);
        }

        foreach (TranscriptMessage message in messages)
        {
            foreach (ToolCall call in message.ToolCalls)
            {
                if (call.FilePath is { } path)
                {
                    int rank = call.Name switch
                    {
                        "Write" when !files.ContainsKey(path) => 4,
                        "Write" or "Edit" or "MultiEdit" or "NotebookEdit" => 3,
                        "Read" or "NotebookRead" => 2,
                        _ => 1,
                    };
                    Touch(path, rank, message.Index);
                }
            }

            if (message.Role is TranscriptRole.User or TranscriptRole.Assistant)
            {
                foreach ((_, string path) in FindPaths(message.Text))
                {
                    Touch(path, 1, message.Index);
                }
            }
        }

        return files
            .OrderByDescending(p => p.Value.Rank).ThenByDescending(p => p.Value.LastTurn).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(max)
            .Select(p => new ActiveFile
            {
                Path = p.Key,
                Status = p.Value.Rank switch { 4 => "created", 3 => "edited", 2 => "read", _ => "mentioned" },
                LastTurn = p.Value.LastTurn,
                Touches = p.Value.Touches,
            })
            .ToList();
    }

    /// <summary>A relative path ("src/db.ts", "./src/db.ts") as the absolute path under the session's project root, so a file
    /// mentioned relatively and edited by a tool under its absolute path is one active file, not two.</summary>
    private static string UnderProjectRoot(string path, string? projectRoot)
    {
        bool windowsRoot = projectRoot is { Length: >= 3 } && char.IsAsciiLetter(projectRoot[0]) && projectRoot[1] == ':' && projectRoot[2] is '\\' or '/';
        if (projectRoot is null || !(projectRoot.StartsWith('/') || windowsRoot) ||
            path.StartsWith('/') || path.StartsWith('\\') || path.StartsWith('~') || (path.Length >= 2 && path[1] == ':') || path.Contains("://", StringComparison.Ordinal))
        {
            return path;
        }

        string relative = path.StartsWith("./", StringComparison.Ordinal) || path.StartsWith(".\\", StringComparison.Ordinal) ? path[2..] : path;
        if (relative.Split('/', '\\').Any(segment => segment is ".." or "."))
        {
            return path;
        }

        char separator = windowsRoot ? '\\' : '/';
        return projectRoot.TrimEnd('/', '\\') + separator + (windowsRoot ? relative.Replace('/', '\\') : relative);
    }

    private static List<CodeSnippet> ExtractSnippets(List<TranscriptMessage> messages, int max)
    {
        var snippets = new List<CodeSnippet>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int m = messages.Count - 1; m >= 0 && snippets.Count < max; m--)
        {
            TranscriptMessage message = messages[m];
            for (int c = message.ToolCalls.Count - 1; c >= 0 && snippets.Count < max; c--)
            {
                ToolCall call = message.ToolCalls[c];
                if (call.Code is { Length: > 0 } code && seen.Add(code))
                {
                    snippets.Add(new CodeSnippet { Path = call.FilePath, Language = LanguageOf(call.FilePath), Text = Clip(code), Turn = message.Index });
                }
            }

            if (message.Role != TranscriptRole.Assistant)
            {
                continue;
            }

            MatchCollection fences = FencePattern().Matches(message.Text);
            for (int f = fences.Count - 1; f >= 0 && snippets.Count < max; f--)
            {
                string code = fences[f].Groups["code"].Value.TrimEnd();
                if (code.Length > 0 && seen.Add(code))
                {
                    string? path = FindPaths(message.Text).LastOrDefault(p => p.Index < fences[f].Index).Path;
                    snippets.Add(new CodeSnippet { Path = path, Language = fences[f].Groups["lang"].Value, Text = Clip(code), Turn = message.Index });
                }
            }
        }

        snippets.Reverse();
        return snippets;
    }

    private static string Clip(string code)
    {
        string[] lines = code.Split('\n');
        string clipped = lines.Length > SnippetMaxLines ? string.Join('\n', lines.Take(SnippetMaxLines)) + "\n..." : code;
        return clipped.Length > SnippetMaxChars ? clipped[..SnippetMaxChars] + "\n..." : clipped;
    }

    private static string LanguageOf(string? path) => Path.GetExtension(path ?? "").TrimStart('.').ToLowerInvariant() switch
    {
        "cs" => "csharp",
        "ts" or "tsx" => "typescript",
        "js" or "jsx" or "mjs" => "javascript",
        "py" => "python",
        "rs" => "rust",
        "go" => "go",
        "md" => "markdown",
        "json" => "json",
        "yml" or "yaml" => "yaml",
        "sh" => "bash",
        var other => other,
    };

    private static (int Dropped, int Duplicates) CountToolOutputs(List<TranscriptMessage> messages)
    {
        var seen = new HashSet<ulong>();
        int dropped = 0, duplicates = 0;
        foreach (TranscriptMessage message in messages.Where(m => m.Role == TranscriptRole.Tool))
        {
            dropped++;
            if (!seen.Add(Fingerprint(message.Text)))
            {
                duplicates++;
            }
        }

        return (dropped, duplicates);
    }

    /// <summary>Tool output with whitespace collapsed and digits zeroed, hashed (64-bit FNV-1a): two runs of the same test
    /// suite that differ only in timings match. Only counted, never stored, so a rare collision costs nothing but a count.</summary>
    internal static ulong Fingerprint(string text)
    {
        const ulong offset = 14695981039346656037, prime = 1099511628211;
        ulong hash = offset;
        bool space = false, started = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = started;
                continue;
            }

            if (space)
            {
                hash = (hash ^ ' ') * prime;
                space = false;
            }

            started = true;
            hash = (hash ^ (char.IsAsciiDigit(c) ? '0' : c)) * prime;
        }

        return hash;
    }

    internal static string OneLine(string text) => WhitespaceRun().Replace(text, " ").Trim();

    [GeneratedRegex(@"^(?:[A-Za-z]:[\\/]|~/|\.{1,2}/|/)?(?:[\w.\-]+[/\\])+[\w.\-]*[\w\-]\.[A-Za-z][A-Za-z0-9]{0,7}$", RegexOptions.CultureInvariant)]
    private static partial Regex PathToken();

    /// <summary>
    /// The file paths in a text (a separator and an extension required: "src/app.ts", "C:\\x\\y.cs"; URLs are not paths).
    /// Linear: it looks only around each '/' or '\\' and checks the token there, rather than trying a regex at every position.
    /// </summary>
    internal static IEnumerable<(int Index, string Path)> FindPaths(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            int found = text.AsSpan(i).IndexOfAny('/', '\\');
            if (found < 0)
            {
                yield break;
            }

            int at = i + found;
            int start = at;
            while (start > 0 && IsPathChar(text[start - 1]))
            {
                start--;
            }

            int end = at;
            while (end < text.Length && IsPathChar(text[end]))
            {
                end++;
            }

            string token = StripLineNumbers(text[start..end].TrimEnd('.', ':'));
            if (token.Length >= 3 && PathToken().IsMatch(token))
            {
                yield return (start, token);
            }

            i = end + 1;
        }
    }

    /// <summary>"src/app.ts:12:5" is the file src/app.ts.</summary>
    private static string StripLineNumbers(string token)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            int colon = token.LastIndexOf(':');
            if (colon > 1 && colon < token.Length - 1 && token.AsSpan(colon + 1).IndexOfAnyExceptInRange('0', '9') < 0)
            {
                token = token[..colon];
            }
        }

        return token;
    }

    private static bool IsPathChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '/' or '\\' or '~' or ':';

    [GeneratedRegex(@"^(?:[-*+>]|\d+[.)])\s+", RegexOptions.CultureInvariant)]
    private static partial Regex ListMarker();

    [GeneratedRegex(@"(?<=[.!?])\s+", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceSplit();

    [GeneratedRegex(@"```(?<lang>[\w+#.\-]*)[^\n]*\n(?<code>[\s\S]*?)```", RegexOptions.CultureInvariant)]
    private static partial Regex FencePattern();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex WhitespaceRun();
}
