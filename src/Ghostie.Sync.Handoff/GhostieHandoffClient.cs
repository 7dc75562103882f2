using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Handoff;

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
