using Ghostie.Sync.Vectors.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.Weaviate;

/// <summary>Registers Weaviate as a tier of the vector plan.</summary>
public static class WeaviateGhostieSyncBuilderExtensions
{
    /// <summary>Uses Weaviate as the context tier (the seed's choice). See <see cref="AddWeaviateTier(IGhostieSyncBuilder, VectorTier, Action{WeaviateVectorOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="configure">Sets the endpoint, the user and what may be sent.</param>
    public static IGhostieSyncBuilder AddWeaviateTier(this IGhostieSyncBuilder builder, Action<WeaviateVectorOptions> configure) =>
        builder.AddWeaviateTier(VectorTier.Context, configure);

    /// <summary>
    /// Uses Weaviate (REST v1, GraphQL for vector search) as <paramref name="tier"/> of the vector plan (registers the plan with <c>AddVectorTiers()</c>
    /// if needed). Options are named after the tier and validated at start; the API key comes from
    /// <see cref="RemoteVectorTierOptions.ApiKey"/> or the WEAVIATE_API_KEY environment variable. Opt-in: Weaviate sees every
    /// embedding of that tier, and, by default, no data property.
    /// </summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="tier">The tier (critical, context or historical; a remote database is never the edge cache).</param>
    /// <param name="configure">Sets the endpoint, the user and what may be sent.</param>
    /// <exception cref="GhostieSyncException"><paramref name="tier"/> is the edge tier (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static IGhostieSyncBuilder AddWeaviateTier(this IGhostieSyncBuilder builder, VectorTier tier, Action<WeaviateVectorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        if (tier is not (VectorTier.Critical or VectorTier.Context or VectorTier.Historical))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Weaviate can serve the critical, context or historical tier, not {tier}: the edge cache stays on the device.");
        }

        string name = "weaviate-" + tier.ToString().ToLowerInvariant();
        builder.Services.AddOptions<WeaviateVectorOptions>(name)
            .Configure(configure)
            .Validate(o => o.Problems().Count == 0, $"WeaviateVectorOptions for the {tier} tier are invalid: check Endpoint (https), UserId, ClassPrefix and BatchSize.")
            .ValidateOnStart();
        builder.Services.AddKeyedSingleton(name, (sp, _) => new WeaviateVectorStore(sp.GetRequiredService<IOptionsMonitor<WeaviateVectorOptions>>().Get(name)));
        return builder.AddVectorTier(tier, sp => sp.GetRequiredKeyedService<WeaviateVectorStore>(name));
    }
}
