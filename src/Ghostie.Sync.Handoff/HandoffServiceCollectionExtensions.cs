using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Handoff;

/// <summary>Registers conversation handoff on the Ghostie builder.</summary>
public static class HandoffServiceCollectionExtensions
{
    /// <summary>Adds handoff with default options. Safe to call more than once.</summary>
    /// <param name="builder">The Ghostie builder (from <c>AddGhostieSync</c>).</param>
    public static IGhostieSyncBuilder AddHandoff(this IGhostieSyncBuilder builder) => builder.AddHandoff(_ => { });

    /// <summary>
    /// Adds handoff: <see cref="HandoffOptions"/> (validated at start), the default <see cref="ITokenCounter"/> and
    /// <see cref="IContextCompressor"/> (extractive, selecting sentences with the registered
    /// <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> when there is one, for example MiniLM's, else the lexical
    /// default; abstractive over the registered <see cref="IChatClient"/> when <see cref="HandoffOptions.UseAbstractiveCompression"/>
    /// is set), and <see cref="GhostieHandoffClient"/>.
    /// Register your own counter or compressor before or after to replace the defaults. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Configures the options.</param>
    public static IGhostieSyncBuilder AddHandoff(this IGhostieSyncBuilder builder, Action<HandoffOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HandoffOptions>, Internal.HostTimeProvider>()); // the container's clock
        builder.Services.AddOptions<HandoffOptions>()
            .Configure(configure)
            .Validate(o =>
            {
                try
                {
                    o.Validate();
                    return true;
                }
                catch (GhostieSyncException)
                {
                    return false;
                }
            }, "HandoffOptions are out of range: TimeToLive positive, SimilarityThreshold in [-1, 1], BrotliQuality 0-11, Compression.TokenBudget at least 100 (see HandoffOptions.Validate).")
            .Validate<IServiceProvider>((o, sp) => !o.UseAbstractiveCompression || sp.GetService<IChatClient>() is not null,
                "HandoffOptions.UseAbstractiveCompression needs an IChatClient registered in the service collection.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton<ITokenCounter>(_ => TiktokenTokenCounter.O200kBase);
        builder.Services.TryAddSingleton<IContextCompressor>(sp =>
        {
            HandoffOptions options = sp.GetRequiredService<IOptions<HandoffOptions>>().Value;
            return options.UseAbstractiveCompression
                ? new AbstractiveCompressor(sp.GetRequiredService<IChatClient>(), sp.GetService<ILogger<AbstractiveCompressor>>(), new ExtractiveCompressor(sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>()))
                : new ExtractiveCompressor(sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>());
        });
        builder.Services.TryAddSingleton<GhostieHandoffClient>();
        return builder;
    }
}
