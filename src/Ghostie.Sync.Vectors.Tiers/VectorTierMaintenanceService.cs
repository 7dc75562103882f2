using Ghostie.Sync.Vectors.Tiers.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>
/// The hosted upkeep of the tiered collections (registered by <c>AddVectorTiers()</c>): every
/// <see cref="VectorTiersOptions.UsageSaveInterval"/> it saves the usage state of the open collections that changed,
/// and every <see cref="VectorTiersOptions.RebalanceInterval"/> it rebalances them (promotions, demotions, edge cache,
/// stale copies) and saves again. On stop it saves a last time. Runs on the registered <see cref="TimeProvider"/>.
/// A failing pass is logged and retried at the next tick; it never stops the host.
/// </summary>
public sealed class VectorTierMaintenanceService : BackgroundService
{
    private readonly TieredVectorStore _store;
    private readonly VectorTiersOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Created by dependency injection.</summary>
    /// <param name="store">The tiered store whose open collections are kept.</param>
    /// <param name="options">The plan (intervals).</param>
    /// <param name="timeProvider">The clock (default: the system clock).</param>
    /// <param name="logger">Optional logger.</param>
    public VectorTierMaintenanceService(TieredVectorStore store, IOptions<VectorTiersOptions> options, TimeProvider? timeProvider = null,
        ILogger<VectorTierMaintenanceService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>How many periodic rebalances have run (for diagnostics and tests).</summary>
    public int RebalancesRun => Volatile.Read(ref _rebalances);

    private int _rebalances;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TimeSpan? rebalanceEvery = _options.RebalanceInterval;
        TimeSpan tick = rebalanceEvery is TimeSpan r && r < _options.UsageSaveInterval ? r : _options.UsageSaveInterval;
        DateTimeOffset nextRebalance = rebalanceEvery is TimeSpan first ? _time.GetUtcNow() + first : DateTimeOffset.MaxValue;
        using var timer = new PeriodicTimer(tick, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                DateTimeOffset now = _time.GetUtcNow();
                if (rebalanceEvery is TimeSpan every && now >= nextRebalance)
                {
                    await _store.RebalanceAllAsync(stoppingToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _rebalances);
                    nextRebalance = now + every;
                }
                else
                {
                    await _store.SaveUsageAsync(stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync saves a last time.
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _store.SaveUsageAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.UsageSaveFailed("*", nameof(OperationCanceledException));
        }
    }
}
