using Microsoft.Extensions.AI;

namespace Ghostie.Sync.Vectors;

/// <summary>A record given as text, embedded by a generator on upsert.</summary>
/// <param name="Key">The record's key.</param>
/// <param name="Text">The text to embed (not stored in the collection; keep it in <paramref name="Data"/> if you need it back).</param>
/// <param name="Data">Optional string properties.</param>
public sealed record VectorTextRecord(string Key, string Text, IReadOnlyDictionary<string, string>? Data = null);

/// <summary>Search and upsert by text through a Microsoft.Extensions.AI embedding generator. The generator's model
/// (the embedding's <see cref="Embedding.ModelId"/>, else the generator's <see cref="EmbeddingGeneratorMetadata.DefaultModelId"/>)
/// and the embedding's length are checked against the collection's <see cref="IVectorCollection.Model"/>; a
/// difference is a <see cref="VectorModelMismatchException"/>, never a silently wrong answer. A generator that reports
/// no model id at all is checked on the dimension only.</summary>
public static class VectorTextExtensions
{
    /// <summary>Embeds <paramref name="text"/> and searches the collection with it.</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="generator">The embedding generator of the collection's model.</param>
    /// <param name="text">The query text.</param>
    /// <param name="options">Top, threshold, filter.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The generator's model or dimension differs from the collection's.</exception>
    public static async IAsyncEnumerable<VectorSearchResult> SearchAsync(
        this IVectorCollection collection,
        IEmbeddingGenerator<string, Embedding<float>> generator,
        string text,
        VectorSearchOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(text);
        ReadOnlyMemory<float> query = await EmbedAsync(collection, generator, text, cancellationToken).ConfigureAwait(false);
        await foreach (VectorSearchResult result in collection.SearchAsync(query, options, cancellationToken).ConfigureAwait(false))
        {
            yield return result;
        }
    }

    /// <summary>Embeds each record's text (in one generator call) and upserts the records.</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="generator">The embedding generator of the collection's model.</param>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The generator's model or dimension differs from the collection's.</exception>
    public static async Task UpsertAsync(
        this IVectorCollection collection,
        IEmbeddingGenerator<string, Embedding<float>> generator,
        IEnumerable<VectorTextRecord> records,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(records);
        List<VectorTextRecord> list = records.ToList();
        if (list.Count == 0)
        {
            return;
        }

        GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(list.Select(r => r.Text), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (embeddings.Count != list.Count)
        {
            throw new GhostieSyncException(GhostieErrorCode.Unknown,
                $"The embedding generator returned {embeddings.Count} embedding(s) for {list.Count} text(s); collection '{collection.Name}' was not changed.");
        }

        var vectorRecords = new VectorRecord[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            EnsureGeneratorModel(collection, generator, embeddings[i]);
            vectorRecords[i] = new VectorRecord(list[i].Key, embeddings[i].Vector, list[i].Data);
        }

        await collection.UpsertAsync(vectorRecords, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Embeds one text with <paramref name="generator"/>, checking its model and dimension against the collection's.</summary>
    /// <param name="collection">The collection the vector is meant for.</param>
    /// <param name="generator">The generator.</param>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The generator's model or dimension differs from the collection's.</exception>
    public static async Task<ReadOnlyMemory<float>> EmbedAsync(
        this IVectorCollection collection,
        IEmbeddingGenerator<string, Embedding<float>> generator,
        string text,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(text);
        EnsureGeneratorMetadata(collection, generator);
        Embedding<float> embedding = await generator.GenerateAsync(text, cancellationToken: cancellationToken).ConfigureAwait(false);
        EnsureGeneratorModel(collection, generator, embedding);
        return embedding.Vector;
    }

    /// <summary>Throws when the generator's declared model or dimension (its metadata) differs from the collection's;
    /// cheap, no embedding is generated.</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="generator">The generator.</param>
    /// <exception cref="VectorModelMismatchException">The declared model or dimension differs.</exception>
    public static void EnsureGeneratorMetadata(IVectorCollection collection, IEmbeddingGenerator<string, Embedding<float>> generator)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(generator);
        EmbeddingGeneratorMetadata? metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        EmbeddingModelInfo model = collection.Model;
        if (metadata?.DefaultModelId is string id && !string.Equals(id, model.ModelName, StringComparison.Ordinal))
        {
            throw new VectorModelMismatchException(collection.Name, model, id, metadata.DefaultModelDimensions ?? model.Dimensions);
        }

        if (metadata?.DefaultModelDimensions is int dims && dims != model.Dimensions)
        {
            throw new VectorModelMismatchException(collection.Name, model, metadata.DefaultModelId, dims);
        }
    }

    private static void EnsureGeneratorModel(IVectorCollection collection, IEmbeddingGenerator<string, Embedding<float>> generator, Embedding<float> embedding)
    {
        EmbeddingModelInfo model = collection.Model;
        string? id = embedding.ModelId ?? generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId;
        if ((id is not null && !string.Equals(id, model.ModelName, StringComparison.Ordinal)) || embedding.Vector.Length != model.Dimensions)
        {
            throw new VectorModelMismatchException(collection.Name, model, id, embedding.Vector.Length, id is null ? "generated" : null);
        }
    }
}
