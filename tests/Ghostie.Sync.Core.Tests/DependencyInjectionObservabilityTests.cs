using System.Collections.Concurrent;
using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>Under dependency injection, every layer logs to the host's ILoggerFactory and reads the host's TimeProvider.</summary>
public sealed class DependencyInjectionObservabilityTests : IDisposable
{
    private const string Passphrase = "di observability passphrase";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-di-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private ServiceProvider Build(Action<IServiceCollection> more)
    {
        var services = new ServiceCollection();
        more(services);
        services.AddGhostieSync(o => o.Home = Path.Combine(_root, "home"))
            .AddFileSystemBackend(o => o.Path = Path.Combine(_root, "repository"));
        return services.BuildServiceProvider(validateScopes: true);
    }

    private SyncConfiguration Configuration() => new()
    {
        Backend = "folder",
        Settings = { ["path"] = Path.Combine(_root, "repository") },
        DeviceId = "laptop",
        DeviceName = "laptop",
    };

    [Fact]
    public async Task SetupOpenAndPush_UnderDependencyInjection_LogCryptoAndSyncEventsToTheHostsLoggerFactory_WithoutThePassphrase()
    {
        var logs = new CapturingLoggerProvider();
        await using ServiceProvider provider = Build(s => s.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs)));
        GhostieSyncClient client = provider.GetRequiredService<GhostieSyncClient>();

        using (MemorySyncManager setup = await client.SetupAsync(Configuration(), Passphrase))
        {
            setup.Memories.Save(new MemoryRecord { Id = "m1", Category = "note", Content = "a memory", DeviceId = "laptop", Timestamp = DateTimeOffset.UnixEpoch });
            await setup.PushAsync();
        }

        File.Delete(DeviceKeyCache.ForHome(Path.Combine(_root, "home")).FilePath); // no cached key: the open unlocks with the passphrase
        using (MemorySyncManager opened = await client.OpenAsync(Passphrase))
        {
            await opened.PullAsync();
        }

        LogEntry initialized = Assert.Single(logs.Entries, e => e.EventId == 1001); // RepositoryInitialized, crypto layer
        Assert.StartsWith("Ghostie.Sync.Crypto", initialized.Category, StringComparison.Ordinal);
        Assert.Contains(logs.Entries, e => e.EventId == 1002 && e.Category.StartsWith("Ghostie.Sync.Crypto", StringComparison.Ordinal)); // unlocked, crypto layer
        Assert.Contains(logs.Entries, e => e.EventId == 2002 && e.Category == typeof(MemorySyncManager).FullName); // pushed, sync layer
        Assert.All(logs.Entries, e => Assert.DoesNotContain(Passphrase, e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SetupAndPush_UnderDependencyInjection_TakeTheirTimestampsFromTheRegisteredTimeProvider()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero));
        await using ServiceProvider provider = Build(s => s.AddSingleton<TimeProvider>(time));
        GhostieSyncClient client = provider.GetRequiredService<GhostieSyncClient>();

        using MemorySyncManager manager = await client.SetupAsync(Configuration(), Passphrase);
        Assert.Equal(time.GetUtcNow(), new GhostieHome(Path.Combine(_root, "home")).ReadConfiguration().CreatedAt);
        KeyFileInfo keyFile = Assert.Single(await manager.Keys.ListKeyFilesAsync());
        Assert.Equal(time.GetUtcNow(), keyFile.CreatedAt); // the crypto layer's clock too

        time.Advance(TimeSpan.FromHours(3));
        manager.Memories.Save(new MemoryRecord { Id = "m1", Category = "note", Content = "a memory", DeviceId = "laptop", Timestamp = time.GetUtcNow() });
        await manager.PushAsync();
        Assert.Equal(time.GetUtcNow(), (await manager.GetStatusAsync()).LastSync);
    }

    [Fact]
    public async Task AddBackgroundSync_UnderDependencyInjection_SchedulesOnTheRegisteredTimeProvider()
    {
        var time = new FakeTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time);
        services.AddGhostieSync(o => o.Home = Path.Combine(_root, "home")).AddBackgroundSync();
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(time, provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<BackgroundSyncOptions>>().Value.TimeProvider);
        Assert.Same(time, provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<GhostieSyncOptions>>().Value.TimeProvider);
    }

    [Fact]
    public async Task ExplicitTimeProviderInOptions_WinsOverTheContainersOne()
    {
        var container = new FakeTimeProvider(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var chosen = new FakeTimeProvider(new DateTimeOffset(2032, 2, 2, 0, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection().AddSingleton<TimeProvider>(container);
        services.AddGhostieSync(o => (o.Home, o.TimeProvider) = (Path.Combine(_root, "home"), chosen))
            .AddFileSystemBackend(o => o.Path = Path.Combine(_root, "repository"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        using MemorySyncManager manager = await provider.GetRequiredService<GhostieSyncClient>().SetupAsync(Configuration(), Passphrase);

        Assert.Equal(chosen.GetUtcNow(), new GhostieHome(Path.Combine(_root, "home")).ReadConfiguration().CreatedAt);
    }

    private sealed record LogEntry(string Category, int EventId, LogLevel Level, string Message);

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<LogEntry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new LogEntry(category, eventId.Id, logLevel, formatter(state, exception)));
        }
    }
}
