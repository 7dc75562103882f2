using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Handoff.Internal;

/// <summary>Under dependency injection, the clock of <see cref="HandoffOptions"/> is the <see cref="TimeProvider"/>
/// registered in the container, if any; registered before any <c>configure</c> delegate and applied only over the
/// default <see cref="TimeProvider.System"/>, so a clock set in the options wins.</summary>
internal sealed class HostTimeProvider(IServiceProvider services) : IConfigureOptions<HandoffOptions>
{
    public void Configure(HandoffOptions options)
    {
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System) && services.GetService<TimeProvider>() is { } registered)
        {
            options.TimeProvider = registered;
        }
    }
}
