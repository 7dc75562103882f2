using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.Local;

/// <summary>Dependency-injection registration of the on-device vector store.</summary>
public static class LocalVectorsGhostieSyncBuilderExtensions
{
    /// <summary>Registers the on-device store with defaults. See <see cref="AddLocalVectors(IGhostieSyncBuilder, Action{LocalVectorStoreOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    public static IGhostieSyncBuilder AddLocalVectors(this IGhostieSyncBuilder builder) => builder.AddLocalVectors(_ => { });

    /// <summary>Registers <see cref="LocalVectorStore"/> as <see cref="IVectorStore"/> (and the vector layer, see
    /// <c>AddVectors</c>). The folder defaults to <c>&lt;Ghostie home&gt;/vectors</c>; options are validated at start.
    /// Safe to call more than once.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="configure">Configures <see cref="LocalVectorStoreOptions"/>.</param>
    public static IGhostieSyncBuilder AddLocalVectors(this IGhostieSyncBuilder builder, Action<LocalVectorStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddVectors();
        builder.Services.AddOptions<LocalVectorStoreOptions>()
            .Configure<IOptions<GhostieSyncOptions>>((o, sync) => o.Directory ??= Path.Combine(sync.Value.Home, "vectors"))
            .Configure(configure)
            .Validate(o => o.Hnsw.M is >= 4 and <= 64, "HnswOptions.M must be 4 to 64.")
            .Validate(o => o.Hnsw.EfConstruction >= o.Hnsw.M && o.Hnsw.EfConstruction <= 4096, "HnswOptions.EfConstruction must be M to 4,096.")
            .Validate(o => o.Hnsw.EfSearch is >= 1 and <= 10_000, "HnswOptions.EfSearch must be 1 to 10,000.")
            .Validate(o => o.HnswThreshold >= 1, "LocalVectorStoreOptions.HnswThreshold must be 1 or more.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.DeviceId) && o.DeviceId.Length <= 128, "LocalVectorStoreOptions.DeviceId must be 1 to 128 characters.")
            .Validate(o => o.TimeProvider is not null, "LocalVectorStoreOptions.TimeProvider must be set.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(sp => new LocalVectorStore(sp.GetRequiredService<IOptions<LocalVectorStoreOptions>>().Value));
        builder.Services.TryAddSingleton<IVectorStore>(sp => sp.GetRequiredService<LocalVectorStore>());
        return builder;
    }
}
