using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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

/// <summary>Opens the <see cref="HandoffService"/> of the configured home (through <see cref="GhostieSyncClient"/>).</summary>
public sealed class GhostieHandoffClient
{
    private readonly GhostieSyncClient _sync;
    private readonly IOptions<HandoffOptions> _options;
    private readonly ITokenCounter _counter;
    private readonly IContextCompressor _compressor;
    private readonly ILoggerFactory _loggers;

    /// <summary>Created by dependency injection.</summary>
    /// <param name="sync">Opens the home's sync manager.</param>
    /// <param name="options">Handoff options.</param>
    /// <param name="counter">The token counter (replaces <see cref="CompressionOptions.TokenCounter"/>).</param>
    /// <param name="compressor">The context compressor.</param>
    /// <param name="loggers">Optional logger factory.</param>
    public GhostieHandoffClient(GhostieSyncClient sync, IOptions<HandoffOptions> options, ITokenCounter counter, IContextCompressor compressor, ILoggerFactory? loggers = null)
    {
        _sync = sync;
        _options = options;
        _counter = counter;
        _compressor = compressor;
        _loggers = loggers ?? NullLoggerFactory.Instance;
    }

    /// <summary>The compressor in use.</summary>
    public IContextCompressor Compressor => _compressor;

    /// <summary>Opens the home's sync manager and returns a handoff service over it (disposing the service disposes the manager).</summary>
    /// <param name="passphrase">Used only when no key is cached on this device.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<HandoffService> OpenAsync(string? passphrase = null, CancellationToken cancellationToken = default)
    {
        MemorySyncManager manager = await _sync.OpenAsync(passphrase, cancellationToken).ConfigureAwait(false);
        try
        {
            HandoffOptions options = _options.Value;
            options.Compression.TokenCounter = _counter;
            return HandoffService.For(manager, _sync.Backend, options, _compressor, _loggers.CreateLogger<HandoffService>(), ownsManager: true);
        }
        catch
        {
            manager.Dispose();
            throw;
        }
    }
}
