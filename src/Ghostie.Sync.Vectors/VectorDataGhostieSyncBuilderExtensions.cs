using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.VectorData;

namespace Ghostie.Sync.Vectors;

/// <summary>Dependency-injection registration of the <c>Microsoft.Extensions.VectorData</c> adapter.</summary>
public static class VectorDataGhostieSyncBuilderExtensions
{
    /// <summary>Registers <see cref="GhostieVectorStore"/> as <see cref="VectorStore"/> over the registered
    /// <see cref="IVectorStore"/>, with <see cref="GhostieVectorStoreOptions"/> configured elsewhere (for example by
    /// <c>services.Configure&lt;GhostieVectorStoreOptions&gt;</c>). See <see cref="AddVectorData(IGhostieSyncBuilder, Action{GhostieVectorStoreOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    public static IGhostieSyncBuilder AddVectorData(this IGhostieSyncBuilder builder) => builder.AddVectorData(_ => { });

    /// <summary>Registers <see cref="GhostieVectorStore"/> as <see cref="VectorStore"/> over the registered
    /// <see cref="IVectorStore"/> (for example the one <c>AddLocalVectors()</c> registers). The options are validated at
    /// start: a <see cref="GhostieVectorStoreOptions.ModelName"/> or an <see cref="GhostieVectorStoreOptions.EmbeddingGenerator"/>
    /// is needed, since Ghostie records the model of every collection (the registered embedding generator is not taken on
    /// its own: it would label vectors the host computed with another model). Safe to call more than once.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="configure">Configures <see cref="GhostieVectorStoreOptions"/>.</param>
    public static IGhostieSyncBuilder AddVectorData(this IGhostieSyncBuilder builder, Action<GhostieVectorStoreOptions> configure) =>
        builder.AddVectorData(sp => sp.GetRequiredService<IVectorStore>(), configure);

    /// <summary>Registers <see cref="GhostieVectorStore"/> as <see cref="VectorStore"/> over the store
    /// <paramref name="store"/> gives, for example <c>sp =&gt; sp.GetRequiredService&lt;TieredVectorStore&gt;()</c>.
    /// See <see cref="AddVectorData(IGhostieSyncBuilder, Action{GhostieVectorStoreOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="store">Resolves the Ghostie store under the adapter.</param>
    /// <param name="configure">Configures <see cref="GhostieVectorStoreOptions"/>.</param>
    public static IGhostieSyncBuilder AddVectorData(this IGhostieSyncBuilder builder, Func<IServiceProvider, IVectorStore> store, Action<GhostieVectorStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<GhostieVectorStoreOptions>()
            .Configure(configure)
            .Validate(o => o.ModelName is { Length: > 0 } || o.EmbeddingGenerator is not null,
                "GhostieVectorStoreOptions needs a ModelName (the embedding model of your vectors) or an EmbeddingGenerator whose metadata names its model.")
            .Validate(o => o.ModelName is null || o.ModelName.Length <= EmbeddingModelInfo.MaxModelNameLength,
                $"GhostieVectorStoreOptions.ModelName must be at most {EmbeddingModelInfo.MaxModelNameLength} characters.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton<VectorStore>(sp => new GhostieVectorStore(store(sp), sp.GetRequiredService<IOptions<GhostieVectorStoreOptions>>().Value));
        return builder;
    }
}
