using Ghostie.Sync.Vectors.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.Pinecone;

/// <summary>Registers Pinecone as a tier of the vector plan.</summary>
public static class PineconeGhostieSyncBuilderExtensions
{
    /// <summary>Uses Pinecone as the critical tier (the seed's choice). See <see cref="AddPineconeTier(IGhostieSyncBuilder, VectorTier, Action{PineconeVectorOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="configure">Sets the endpoint, the user and what may be sent.</param>
    public static IGhostieSyncBuilder AddPineconeTier(this IGhostieSyncBuilder builder, Action<PineconeVectorOptions> configure) =>
        builder.AddPineconeTier(VectorTier.Critical, configure);

    /// <summary>
    /// Uses Pinecone (REST control and data plane) as <paramref name="tier"/> of the vector plan (registers the plan with <c>AddVectorTiers()</c>
    /// if needed). Options are named after the tier and validated at start; the API key comes from
    /// <see cref="RemoteVectorTierOptions.ApiKey"/> or the PINECONE_API_KEY environment variable. Opt-in: Pinecone sees every
    /// embedding of that tier, and, by default, no data property.
    /// </summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="tier">The tier (critical, context or historical; a remote database is never the edge cache).</param>
    /// <param name="configure">Sets the endpoint, the user and what may be sent.</param>
    /// <exception cref="GhostieSyncException"><paramref name="tier"/> is the edge tier (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static IGhostieSyncBuilder AddPineconeTier(this IGhostieSyncBuilder builder, VectorTier tier, Action<PineconeVectorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        if (tier is not (VectorTier.Critical or VectorTier.Context or VectorTier.Historical))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Pinecone can serve the critical, context or historical tier, not {tier}: the edge cache stays on the device.");
        }

        string name = "pinecone-" + tier.ToString().ToLowerInvariant();
        builder.Services.AddOptions<PineconeVectorOptions>(name)
            .Configure(configure)
            .Validate(o => o.Problems().Count == 0, $"PineconeVectorOptions for the {tier} tier are invalid: check Endpoint (https), UserId, IndexName, Cloud, Region, ApiVersion and BatchSize.")
            .ValidateOnStart();
        builder.Services.AddKeyedSingleton(name, (sp, _) => new PineconeVectorStore(sp.GetRequiredService<IOptionsMonitor<PineconeVectorOptions>>().Get(name)));
        return builder.AddVectorTier(tier, sp => sp.GetRequiredKeyedService<PineconeVectorStore>(name));
    }
}
