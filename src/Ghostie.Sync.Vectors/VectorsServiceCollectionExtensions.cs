using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ghostie.Sync.Vectors;

/// <summary>Options of the vector layer.</summary>
public sealed class VectorOptions
{
    /// <summary>Options of the default embedding generator, used only when the host registers no
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of its own.</summary>
    public HashedNGramEmbeddingOptions DefaultGenerator { get; } = new();
}

/// <summary>Dependency-injection registration of the vector layer.</summary>
public static class VectorsGhostieSyncBuilderExtensions
{
    /// <summary>Registers the vector layer with defaults. See <see cref="AddVectors(IGhostieSyncBuilder, Action{VectorOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    public static IGhostieSyncBuilder AddVectors(this IGhostieSyncBuilder builder) => builder.AddVectors(_ => { });

    /// <summary>Registers the vector layer: <see cref="VectorOptions"/> (validated at start) and, unless the host
    /// registered its own, the lexical <see cref="HashedNGramEmbeddingGenerator"/> as
    /// <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c>. Safe to call more than once. Add a store with
    /// <c>AddLocalVectors()</c> (or a remote tier).</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="configure">Configures <see cref="VectorOptions"/>.</param>
    public static IGhostieSyncBuilder AddVectors(this IGhostieSyncBuilder builder, Action<VectorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<VectorOptions>()
            .Configure(configure)
            .Validate(o => o.DefaultGenerator.Dimensions is >= 16 and <= 4096, "VectorOptions.DefaultGenerator.Dimensions must be 16 to 4,096.")
            .Validate(o => o.DefaultGenerator.NGramLength is >= 2 and <= 6, "VectorOptions.DefaultGenerator.NGramLength must be 2 to 6.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp =>
            new HashedNGramEmbeddingGenerator(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<VectorOptions>>().Value.DefaultGenerator));
        return builder;
    }
}
