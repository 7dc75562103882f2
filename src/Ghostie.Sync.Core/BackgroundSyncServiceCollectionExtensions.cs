using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync;

/// <summary>Dependency-injection registration of <see cref="BackgroundSync"/> as a hosted service.</summary>
public static class BackgroundSyncServiceCollectionExtensions
{
    /// <summary>Registers background sync with default options (see <see cref="AddBackgroundSync(IGhostieSyncBuilder, Action{BackgroundSyncOptions})"/>).</summary>
    /// <param name="builder">The builder returned by <c>AddGhostieSync</c>.</param>
    public static IGhostieSyncBuilder AddBackgroundSync(this IGhostieSyncBuilder builder) => builder.AddBackgroundSync(_ => { });

    /// <summary>
    /// Registers a singleton <see cref="BackgroundSync"/> over the home of <see cref="GhostieSyncOptions"/> (opened with
    /// <see cref="GhostieSyncClient.OpenAsync"/>, so the key must be cached on the device), and an <see cref="IHostedService"/>
    /// that runs it while the host runs. An <see cref="IBackgroundSyncHints"/> registered in the container is used. The
    /// options are validated at start. Safe to call more than once (the service is registered once; every
    /// <paramref name="configure"/> applies).
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddGhostieSync</c>.</param>
    /// <param name="configure">Configures <see cref="BackgroundSyncOptions"/>.</param>
    public static IGhostieSyncBuilder AddBackgroundSync(this IGhostieSyncBuilder builder, Action<BackgroundSyncOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<BackgroundSyncOptions>, Internal.HostTimeProvider>()); // the container's clock
        builder.Services.AddOptions<BackgroundSyncOptions>()
            .Configure(configure)
            .Validate(o => o.Problem() is null, "BackgroundSyncOptions are not valid: intervals and delays must be positive, MaxDebounceDelay >= DebounceDelay, MaxBackoff >= InitialBackoff, LargeTransferBytes >= 0.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(services =>
        {
            GhostieSyncClient client = services.GetRequiredService<GhostieSyncClient>();
            return new BackgroundSync(cancellationToken => client.OpenAsync(cancellationToken: cancellationToken),
                services.GetRequiredService<IOptions<BackgroundSyncOptions>>().Value,
                services.GetService<IBackgroundSyncHints>(),
                services.GetService<ILogger<BackgroundSync>>());
        });
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BackgroundSyncHostedService>());
        return builder;
    }
}

/// <summary>Runs the registered <see cref="BackgroundSync"/> while the host runs; stopping the host stops it.</summary>
/// <param name="sync">The scheduler.</param>
public sealed class BackgroundSyncHostedService(BackgroundSync sync) : BackgroundService
{
    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => sync.RunAsync(stoppingToken);
}
