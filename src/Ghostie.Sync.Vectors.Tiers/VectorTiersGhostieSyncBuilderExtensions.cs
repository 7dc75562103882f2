using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>Dependency-injection registration of the tiered vector plan.</summary>
public static class VectorTiersGhostieSyncBuilderExtensions
{
    /// <summary>Registers the tiered plan with the seed's defaults. See <see cref="AddVectorTiers(IGhostieSyncBuilder, Action{VectorTiersOptions})"/>.</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    public static IGhostieSyncBuilder AddVectorTiers(this IGhostieSyncBuilder builder) => builder.AddVectorTiers(_ => { });

    /// <summary>
    /// Registers <see cref="VectorTiersOptions"/> (validated at start), <see cref="TieredVectorStore"/>, the usage store
    /// (a <see cref="FileVectorUsageStore"/> under <see cref="VectorTiersOptions.UsageDirectory"/>, unless the host
    /// registers its own <see cref="IVectorUsageStore"/>, before or after: the last registration is the one resolved) and the hosted <see cref="VectorTierMaintenanceService"/>
    /// (periodic usage saves and rebalances; it runs when the host runs hosted services). Tiers are
    /// added with <see cref="AddVectorTier"/> or a tier package's extension (for example <c>AddPgVectorTier</c>); at
    /// least one of critical, context or historical is needed when a collection is opened. Safe to call more than once
    /// (configurations add up).
    /// </summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="configure">Configures the plan.</param>
    public static IGhostieSyncBuilder AddVectorTiers(this IGhostieSyncBuilder builder, Action<VectorTiersOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<VectorTiersOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VectorTiersOptions>, VectorTiersOptionsValidator>());
        builder.Services.TryAddSingleton<IVectorUsageStore>(sp => new FileVectorUsageStore(
            sp.GetRequiredService<IOptions<VectorTiersOptions>>().Value.UsageDirectory ?? FileVectorUsageStore.DefaultDirectory,
            sp.GetService<TimeProvider>()));
        builder.Services.TryAddSingleton<TieredVectorStore>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, VectorTierMaintenanceService>());
        return builder;
    }

    /// <summary>Uses the store <paramref name="factory"/> gives as <paramref name="tier"/> (replacing an earlier
    /// registration of that tier). For the edge tier, use the on-device store (for example the one
    /// <c>AddLocalVectors()</c> registers: <c>AddVectorTier(VectorTier.Edge, sp =&gt; sp.GetRequiredService&lt;IVectorStore&gt;())</c>).</summary>
    /// <param name="builder">The Ghostie.Sync builder.</param>
    /// <param name="tier">The tier.</param>
    /// <param name="factory">Creates or resolves the store.</param>
    public static IGhostieSyncBuilder AddVectorTier(this IGhostieSyncBuilder builder, VectorTier tier, Func<IServiceProvider, IVectorStore> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        if (!Enum.IsDefined(tier))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"Unknown vector tier {(int)tier}; use Edge, Critical, Context or Historical.");
        }

        builder.AddVectorTiers();
        builder.Services.AddSingleton(new VectorTierRegistration(tier, factory));
        return builder;
    }

    private sealed class VectorTiersOptionsValidator : IValidateOptions<VectorTiersOptions>
    {
        public ValidateOptionsResult Validate(string? name, VectorTiersOptions options)
        {
            IReadOnlyList<string> problems = options.Problems();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
