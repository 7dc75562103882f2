using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>Under dependency injection, handoff reads the host's TimeProvider (a clock set in the options wins).</summary>
public sealed class HandoffHostTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task AddHandoff_WithATimeProviderInTheContainer_UsesIt_UnlessTheOptionsSetOne()
    {
        var registered = new FixedTime(new DateTimeOffset(2031, 5, 6, 0, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection().AddSingleton<TimeProvider>(registered);
        services.AddGhostieSync().AddHandoff();
        await using (ServiceProvider provider = services.BuildServiceProvider())
        {
            Assert.Same(registered, provider.GetRequiredService<IOptions<HandoffOptions>>().Value.TimeProvider);
        }

        var chosen = new FixedTime(DateTimeOffset.UnixEpoch);
        var explicitly = new ServiceCollection().AddSingleton<TimeProvider>(registered);
        explicitly.AddGhostieSync().AddHandoff(o => o.TimeProvider = chosen);
        await using (ServiceProvider provider = explicitly.BuildServiceProvider())
        {
            Assert.Same(chosen, provider.GetRequiredService<IOptions<HandoffOptions>>().Value.TimeProvider);
        }
    }
}
