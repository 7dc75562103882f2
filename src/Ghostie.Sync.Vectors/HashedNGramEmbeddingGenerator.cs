using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using Microsoft.Extensions.AI;

namespace Ghostie.Sync.Vectors;

/// <summary>Options of <see cref="HashedNGramEmbeddingGenerator"/>.</summary>
public sealed class HashedNGramEmbeddingOptions
{
    /// <summary>The vector length (default 384; 16 to 4,096). Larger spreads n-grams over more buckets (fewer
    /// collisions) at the cost of memory.</summary>
    public int Dimensions { get; set; } = 384;

    /// <summary>The character n-gram length (default 3; 2 to 6).</summary>
    public int NGramLength { get; set; } = 3;

    /// <summary>Throws a clear error when a value is out of range.</summary>
    /// <exception cref="GhostieSyncException">A value is out of range (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        if (Dimensions is < 16 or > 4096)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"HashedNGramEmbeddingOptions.Dimensions is {Dimensions}; use 16 to 4,096.");
        }

        if (NGramLength is < 2 or > 6)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"HashedNGramEmbeddingOptions.NGramLength is {NGramLength}; use 2 to 6.");
        }
    }
}

/// <summary>
/// An embedding generator that needs no model download: the text is lower-cased and split into words; each word and
/// each of its character n-grams (with word boundaries marked) is hashed (64-bit FNV-1a, the same on every platform and
/// run) into one of <see cref="HashedNGramEmbeddingOptions.Dimensions"/> buckets with a hashed sign, and the vector is
/// normalized to unit length.
/// </summary>
/// <remarks>
/// It is LEXICAL, not semantic: "car" and "automobile" share nothing, while "sync" and "synced" are close. It suits
/// tests, samples and offline keyword-ish recall; hosts that want meaning plug in a real model
/// (any <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>). The model id
/// ("ghostie-hashed-ngram-v1-n3" for trigrams) names the algorithm and n, so vectors of a different setting are
/// refused by collections rather than compared. A text without any letter or digit cannot be embedded.
/// </remarks>
public sealed class HashedNGramEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;
    private const float WordWeight = 1.5f;
    private readonly int _dimensions;
    private readonly int _n;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>Creates a generator with default options (384 dimensions, trigrams).</summary>
    public HashedNGramEmbeddingGenerator()
        : this(new HashedNGramEmbeddingOptions())
    {
    }

    /// <summary>Creates a generator.</summary>
    /// <param name="options">Dimension and n-gram length.</param>
    /// <exception cref="GhostieSyncException">An option is out of range.</exception>
    public HashedNGramEmbeddingGenerator(HashedNGramEmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _dimensions = options.Dimensions;
        _n = options.NGramLength;
        Model = new EmbeddingModelInfo(ModelNameFor(_n), _dimensions);
        _metadata = new EmbeddingGeneratorMetadata("ghostie-hashed-ngram", null, Model.ModelName, _dimensions);
    }

    /// <summary>The model id and dimension this generator produces (use it to create collections).</summary>
    public EmbeddingModelInfo Model { get; }

    /// <summary>The model id for n-grams of length <paramref name="n"/>.</summary>
    /// <param name="n">The n-gram length.</param>
    public static string ModelNameFor(int n) => "ghostie-hashed-ngram-v1-n" + n.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int dims && dims != _dimensions)
        {
            throw new VectorModelMismatchException("(generator)", Model, options.ModelId ?? Model.ModelName, dims, null);
        }

        if (options?.ModelId is string id && !string.Equals(id, Model.ModelName, StringComparison.Ordinal))
        {
            throw new VectorModelMismatchException("(generator)", Model, id, _dimensions, null);
        }

        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (string value in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result.Add(new Embedding<float>(Embed(value)) { ModelId = Model.ModelName });
        }

        return Task.FromResult(result);
    }

    /// <summary>Embeds one text synchronously (the same vector <see cref="GenerateAsync"/> gives).</summary>
    /// <param name="text">The text.</param>
    /// <exception cref="GhostieSyncException">The text has no letter or digit (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var vector = new float[_dimensions];
        string normalized = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        Span<char> gram = stackalloc char[_n];
        var word = new StringBuilder();
        bool any = false;
        for (int i = 0; i <= normalized.Length; i++)
        {
            char c = i < normalized.Length ? normalized[i] : ' ';
            if (char.IsLetterOrDigit(c))
            {
                word.Append(c);
                continue;
            }

            if (word.Length > 0)
            {
                AddWord(vector, word.ToString(), gram);
                word.Clear();
                any = true;
            }
        }

        if (!any)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                "The text has no letter or digit, so the hashed n-gram generator cannot embed it.");
        }

        float norm = TensorPrimitives.Norm(vector);
        if (norm > 0f)
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }
        else
        {
            // Every feature cancelled out (vanishingly rare): fall back to one fixed direction rather than a zero vector.
            vector[0] = 1f;
        }

        return vector;
    }

    private void AddWord(float[] vector, string word, Span<char> gram)
    {
        Add(vector, Hash(word.AsSpan(), 0x77UL), WordWeight);
        string padded = "<" + word + ">";
        if (padded.Length <= _n)
        {
            Add(vector, Hash(padded.AsSpan(), 0x6EUL), 1f);
            return;
        }

        for (int i = 0; i + _n <= padded.Length; i++)
        {
            padded.AsSpan(i, _n).CopyTo(gram);
            Add(vector, Hash(gram, 0x6EUL), 1f);
        }
    }

    private void Add(float[] vector, ulong hash, float weight)
    {
        int bucket = (int)((hash >> 1) % (ulong)_dimensions);
        vector[bucket] += (hash & 1) == 0 ? weight : -weight;
    }

    private static ulong Hash(ReadOnlySpan<char> text, ulong salt)
    {
        ulong h = FnvOffset ^ salt;
        foreach (char c in text)
        {
            h ^= (byte)c;
            h *= FnvPrime;
            h ^= (byte)(c >> 8);
            h *= FnvPrime;
        }

        // Final avalanche (splitmix64) so neighbouring buckets are not correlated with the last characters.
        h ^= h >> 30;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 27;
        h *= 0x94D049BB133111EBUL;
        h ^= h >> 31;
        return h;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
