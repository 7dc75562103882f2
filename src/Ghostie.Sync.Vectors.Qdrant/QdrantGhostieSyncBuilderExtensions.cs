using Ghostie.Sync.Vectors.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.Qdrant;

/// <summary>Registers Qdrant as a tier of the vector plan.</summary>
public static class QdrantGhostieSyncBuilderExtensions
{
    /// <summary>Uses Qdrant as the historical tier (the seed's choice). See <see cref="AddQdrantTier(IGhostieSyncBuilder, VectorTier, Action{QdrantVectorOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="configure">Sets the endpoint, the user and what may be sent.</param>
    public static IGhostieSyncBuilder AddQdrantTier(this IGhostieSyncBuilder builder, Action<QdrantVectorOptions> configure) =>
        builder.AddQdrantTier(VectorTier.Historical, configure);

    /// <summary>
    /// Uses Qdrant (REST API) as <paramref name="tier"/> of the vector plan (registers the plan with <c>AddVectorTiers()</c>
    /// if needed). Options are named after the tier and validated at start; the API key comes from
    /// <see cref="RemoteVectorTierOptions.ApiKey"/> or the QDRANT_API_KEY environment variable. Opt-in: Qdrant sees every
    /// embedding of that tier, and, by default, no data property.
    /// </summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="tier">The tier (critical, context or historical; a remote database is never the edge cache).</param>
    /// <param name="configure">Sets the endpoint, the user and what may be sent.</param>
    /// <exception cref="GhostieSyncException"><paramref name="tier"/> is the edge tier (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static IGhostieSyncBuilder AddQdrantTier(this IGhostieSyncBuilder builder, VectorTier tier, Action<QdrantVectorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        if (tier is not (VectorTier.Critical or VectorTier.Context or VectorTier.Historical))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Qdrant can serve the critical, context or historical tier, not {tier}: the edge cache stays on the device.");
        }

        string name = "qdrant-" + tier.ToString().ToLowerInvariant();
        builder.Services.AddOptions<QdrantVectorOptions>(name)
            .Configure(configure)
            .Validate(o => o.Problems().Count == 0, $"QdrantVectorOptions for the {tier} tier are invalid: check Endpoint (https), UserId, CollectionPrefix and BatchSize.")
            .ValidateOnStart();
        builder.Services.AddKeyedSingleton(name, (sp, _) => new QdrantVectorStore(sp.GetRequiredService<IOptionsMonitor<QdrantVectorOptions>>().Get(name)));
        return builder.AddVectorTier(tier, sp => sp.GetRequiredKeyedService<QdrantVectorStore>(name));
    }
}
