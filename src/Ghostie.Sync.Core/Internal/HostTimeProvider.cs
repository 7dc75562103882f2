using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Internal;

/// <summary>
/// Under dependency injection, the clock of <see cref="GhostieSyncOptions"/> and <see cref="BackgroundSyncOptions"/>
/// is the <see cref="TimeProvider"/> registered in the container, if any (HybridCache does the same). Registered once,
/// before any <c>configure</c> delegate, and applied only where the option still holds the default
/// <see cref="TimeProvider.System"/>: a clock set in the options wins.
/// </summary>
internal sealed class HostTimeProvider(IServiceProvider services) : IConfigureNamedOptions<GhostieSyncOptions>, IConfigureOptions<BackgroundSyncOptions>
{
    // Named repositories (AddGhostieSync(name, ...)) take the container's clock too.
    public void Configure(string? name, GhostieSyncOptions options) => Configure(options);

    public void Configure(GhostieSyncOptions options)
    {
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System) && services.GetService<TimeProvider>() is { } registered)
        {
            options.TimeProvider = registered;
        }
    }

    public void Configure(BackgroundSyncOptions options)
    {
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System) && services.GetService<TimeProvider>() is { } registered)
        {
            options.TimeProvider = registered;
        }
    }
}
