using Ghostie.Sync.Vectors.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.PgVector;

/// <summary>Registers PostgreSQL + pgvector as a tier of the vector plan.</summary>
public static class PgVectorGhostieSyncBuilderExtensions
{
    /// <summary>Uses pgvector as the historical tier. See <see cref="AddPgVectorTier(IGhostieSyncBuilder, VectorTier, Action{PgVectorOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="configure">Sets the connection string and table options.</param>
    public static IGhostieSyncBuilder AddPgVectorTier(this IGhostieSyncBuilder builder, Action<PgVectorOptions> configure) =>
        builder.AddPgVectorTier(VectorTier.Historical, configure);

    /// <summary>
    /// Uses PostgreSQL with pgvector as <paramref name="tier"/> of the vector plan (registers the plan with
    /// <c>AddVectorTiers()</c> if needed). Options are named after the tier and validated at start. Opt-in: the
    /// database sees every embedding of that tier in the clear, and embeddings can be inverted back to text.
    /// </summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="tier">The tier (critical, context or historical; a remote database is never the edge cache).</param>
    /// <param name="configure">Sets the connection string and table options.</param>
    /// <exception cref="GhostieSyncException"><paramref name="tier"/> is the edge tier (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static IGhostieSyncBuilder AddPgVectorTier(this IGhostieSyncBuilder builder, VectorTier tier, Action<PgVectorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        if (tier is not (VectorTier.Critical or VectorTier.Context or VectorTier.Historical))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"pgvector can serve the critical, context or historical tier, not {tier}: the edge cache stays on the device.");
        }

        string name = "pgvector-" + tier.ToString().ToLowerInvariant();
        builder.Services.AddOptions<PgVectorOptions>(name)
            .Configure(configure)
            .Validate(o => o.Problems().Count == 0, $"PgVectorOptions for the {tier} tier are invalid: check ConnectionString, Schema, TablePrefix, HnswM, HnswEfConstruction and BatchSize.")
            .ValidateOnStart();
        builder.Services.AddKeyedSingleton(name, (sp, _) => new PgVectorStore(sp.GetRequiredService<IOptionsMonitor<PgVectorOptions>>().Get(name)));
        return builder.AddVectorTier(tier, sp => sp.GetRequiredKeyedService<PgVectorStore>(name));
    }
}
