using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ghostie.Sync.Embeddings.MiniLM;

/// <summary>Dependency-injection registration of the MiniLM embedding generator.</summary>
public static class MiniLMGhostieSyncBuilderExtensions
{
    /// <summary>Registers <see cref="MiniLMEmbeddingGenerator"/> with default options. See
    /// <see cref="AddMiniLMEmbeddings(IGhostieSyncBuilder, Action{MiniLMEmbeddingOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    public static IGhostieSyncBuilder AddMiniLMEmbeddings(this IGhostieSyncBuilder builder) => builder.AddMiniLMEmbeddings(_ => { });

    /// <summary>
    /// Registers <see cref="MiniLMEmbeddingGenerator"/> as the <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c>
    /// of the container, replacing the lexical default of <c>AddVectors()</c> whether that was added before or after
    /// (an explicit choice wins over a default). The model loads when the generator is first resolved, once: a singleton.
    /// Handoff then uses it to select sentences and to embed the package's relevant texts; vector collections made with
    /// <see cref="MiniLMEmbeddingGenerator.Model"/> record its id. Options are validated at start. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="configure">Configures <see cref="MiniLMEmbeddingOptions"/>.</param>
    public static IGhostieSyncBuilder AddMiniLMEmbeddings(this IGhostieSyncBuilder builder, Action<MiniLMEmbeddingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<MiniLMEmbeddingOptions>()
            .Configure(configure)
            .Validate(o => o.BatchSize is >= 1 and <= 1024, "MiniLMEmbeddingOptions.BatchSize must be 1 to 1,024.")
            .Validate(o => o.IntraOpThreads is >= 0 and <= 256, "MiniLMEmbeddingOptions.IntraOpThreads must be 0 to 256.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(sp => new MiniLMEmbeddingGenerator(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<MiniLMEmbeddingOptions>>().Value));
        builder.Services.Replace(ServiceDescriptor.Singleton<IEmbeddingGenerator<string, Embedding<float>>>(sp => sp.GetRequiredService<MiniLMEmbeddingGenerator>()));
        return builder;
    }
}
