using System.Runtime.CompilerServices;
using Ghostie.Sync.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>
/// <see cref="BackgroundSync"/> on a fake clock: the loop is driven by advancing the clock and waiting until the loop
/// is waiting again (its timer set), so no test depends on real time.
/// </summary>
public sealed class BackgroundSyncTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RunAsync_ChecksAtStartThenEveryInterval_AndAnIdleCheckIsOneListingWithNoWrite()
    {
        await using var h = await Harness.CreateAsync();
        await h.StartAsync();
        Assert.Equal(Start + TimeSpan.FromMinutes(5), h.Sync.Status.NextRun);
        Assert.Equal(BackgroundSyncState.Waiting, h.Sync.Status.State);
        DateTime stateWritten = File.GetLastWriteTimeUtc(h.A.Home.StatePath);
        h.Storage.Reset();

        await h.AdvanceAsync(TimeSpan.FromMinutes(5));

        Assert.Equal((1, 0, 0, 0), (h.Storage.Lists, h.Storage.Gets, h.Storage.Puts, h.Storage.Deletes));
        Assert.Equal(Start + TimeSpan.FromMinutes(10), h.Sync.Status.NextRun);
        Assert.Equal(Start + TimeSpan.FromMinutes(5), h.Sync.Status.LastCheck);
        Assert.Equal(stateWritten, File.GetLastWriteTimeUtc(h.A.Home.StatePath));
    }

    [Fact]
    public async Task RunAsync_AnotherDevicePushed_PullsAtTheNextInterval_NotBefore()
    {
        await using var h = await Harness.CreateAsync();
        await h.StartAsync();
        MemoryRecord fromB = h.B.Add("written on b");
        await h.B.SyncAsync();

        Assert.Null(h.A.Manager.Memories.Get(fromB.Id));
        await h.AdvanceAsync(TimeSpan.FromMinutes(5));

        Assert.Equal("written on b", h.A.Manager.Memories.Get(fromB.Id)?.Content);
        Assert.Equal(1, h.Sync.Status.LastResult?.Downloaded);
        Assert.Equal(Start + TimeSpan.FromMinutes(5), h.Sync.Status.LastSync);
    }

    [Fact]
    public async Task NotifyLocalChange_PushesOnceTheChangesStopForTheDebounceDelay()
    {
        await using var h = await Harness.CreateAsync();
        await h.StartAsync();
        MemoryRecord first = h.A.Add("first");
        await h.NotifyAsync();
        Assert.Equal(Start + TimeSpan.FromSeconds(5), h.Sync.Status.NextRun);

        h.Storage.Reset();
        await h.AdvanceAsync(TimeSpan.FromSeconds(3), expectRun: false); // nothing due yet: no wake-up, nothing done
        Assert.Equal(0, h.Storage.Requests);
        MemoryRecord second = h.A.Add("second");
        await h.NotifyAsync(); // restarts the quiet period
        Assert.Equal(Start + TimeSpan.FromSeconds(8), h.Sync.Status.NextRun);

        await h.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(2, h.Sync.Status.LastResult?.Uploaded);
        Assert.Equal(2, h.Storage.Lists); // the push's own listings (its own heads and packs), no listing of every head
        Assert.Equal(Start + TimeSpan.FromMinutes(5), h.Sync.Status.NextRun); // the interval is unchanged
        await h.B.SyncAsync();
        Assert.NotNull(h.B.Manager.Memories.Get(first.Id));
        Assert.NotNull(h.B.Manager.Memories.Get(second.Id));
    }

    [Fact]
    public async Task NotifyLocalChange_ChangesThatKeepComing_PushAtMostMaxDebounceAfterTheFirst()
    {
        await using var h = await Harness.CreateAsync();
        await h.StartAsync();
        h.A.Add("first");
        await h.NotifyAsync();
        for (int i = 0; i < 14; i++)
        {
            await h.AdvanceAsync(TimeSpan.FromSeconds(4), expectRun: false);
            h.A.Add("more " + i);
            await h.NotifyAsync();
        }

        // 56 s after the first change; the next due time is capped at 60 s, not 56 + 5.
        Assert.Equal(Start + TimeSpan.FromMinutes(1), h.Sync.Status.NextRun);
        Assert.Null(h.Sync.Status.LastSync);
        await h.AdvanceAsync(TimeSpan.FromSeconds(4));
        Assert.Equal(15, h.Sync.Status.LastResult?.Uploaded);
    }

    [Fact]
    public async Task Failures_BackOffExponentiallyWithFullJitter_Capped_ThenResetOnSuccess()
    {
        await using var h = await Harness.CreateAsync(o => (o.InitialBackoff, o.MaxBackoff) = (TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)));
        double jitter = 1.0;
        h.Sync.Jitter = () => jitter;
        h.Storage.Failing = true;
        await h.StartAsync(); // the check at start fails

        var delays = new List<TimeSpan> { h.Sync.Status.NextRun!.Value - h.Time.GetUtcNow() };
        for (int i = 0; i < 4; i++)
        {
            await h.AdvanceAsync(delays[^1]);
            delays.Add(h.Sync.Status.NextRun!.Value - h.Time.GetUtcNow());
        }

        Assert.Equal([10, 20, 40, 60, 60], delays.Select(d => d.TotalSeconds));
        Assert.Equal(5, h.Sync.Status.ConsecutiveFailures);
        Assert.Equal(GhostieErrorCode.BackendUnavailable, h.Sync.Status.LastError?.Code);

        jitter = 0.25; // full jitter: a quarter of the (capped) ceiling
        await h.AdvanceAsync(delays[^1]);
        Assert.Equal(15, (h.Sync.Status.NextRun!.Value - h.Time.GetUtcNow()).TotalSeconds);
        jitter = 0; // never a busy loop: at least one second
        await h.AdvanceAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(1, (h.Sync.Status.NextRun!.Value - h.Time.GetUtcNow()).TotalSeconds);

        h.Storage.Failing = false;
        await h.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(0, h.Sync.Status.ConsecutiveFailures);
        Assert.Equal(TimeSpan.FromMinutes(5), h.Sync.Status.NextRun!.Value - h.Time.GetUtcNow());
        Assert.NotNull(h.Sync.Status.LastError); // kept, for the host to show what happened last

        h.Storage.Failing = true;
        jitter = 1.0;
        await h.AdvanceAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(10, (h.Sync.Status.NextRun!.Value - h.Time.GetUtcNow()).TotalSeconds); // back to the first step
    }

    [Fact]
    public async Task Failures_AreLoggedWithoutAnotherExceptionsMessage_AndNeverThrownOutOfRunAsync()
    {
        var logs = new ListLogger();
        await using var h = await Harness.CreateAsync(open: _ => throw new HttpRequestException("GET https://x/?sig=SECRET-TOKEN failed"), logger: logs);
        await h.StartAsync();

        Assert.False(h.Run!.IsCompleted);
        Assert.Equal(1, h.Sync.Status.ConsecutiveFailures);
        Assert.Equal(GhostieErrorCode.Unknown, h.Sync.Status.LastError?.Code);
        string line = Assert.Single(logs.Lines, l => l.Id == 2104).Text;
        Assert.Contains("HttpRequestException", line, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-TOKEN", string.Join("\n", logs.Lines.Select(l => l.Text)), StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-TOKEN", h.Sync.Status.LastError!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HomeBusy_IsRetriedAfterTheBusyDelay_WithoutCountingAFailure()
    {
        await using var h = await Harness.CreateAsync();
        await h.StartAsync();
        MemoryRecord added = h.A.Add("pushed once the other process lets go");
        LocalLock held = LocalLock.Acquire(h.A.Home); // another process syncing this home
        await h.NotifyAsync();
        await h.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(0, h.Sync.Status.ConsecutiveFailures);
        Assert.Null(h.Sync.Status.LastError);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(2), h.Sync.Status.NextRun);

        held.Dispose();
        await h.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(1, h.Sync.Status.LastResult?.Uploaded);
        await h.B.SyncAsync();
        Assert.NotNull(h.B.Manager.Memories.Get(added.Id));
    }

    [Fact]
    public async Task MeteredHint_DefersALargeDownload_ButASmallPushStillGoes_AndTheDownloadFollowsWhenItClears()
    {
        var hints = new SwitchableHints { IsMetered = true };
        await using var h = await Harness.CreateAsync(o => o.LargeTransferBytes = 4096, hints: hints);
        await h.StartAsync();
        for (int i = 0; i < 40; i++)
        {
            h.B.Add($"large memory {i} {Guid.NewGuid()} {Guid.NewGuid()} {Guid.NewGuid()}");
        }

        await h.B.SyncAsync();
        MemoryRecord small = h.A.Add("small");
        await h.AdvanceAsync(TimeSpan.FromMinutes(5));

        BackgroundSyncDeferral deferred = Assert.IsType<BackgroundSyncDeferral>(h.Sync.Status.Deferred);
        Assert.Equal("metered network", deferred.Reason);
        Assert.True(deferred.DownloadBytes > 4096);
        Assert.Null(deferred.UploadBytes);
        Assert.DoesNotContain(h.A.Manager.Memories.Scan(), f => f.Record?.DeviceId == "b");
        Assert.Equal(1, h.Sync.Status.LastResult?.Uploaded); // the small push went
        await h.B.SyncAsync();
        Assert.NotNull(h.B.Manager.Memories.Get(small.Id));

        hints.IsMetered = false;
        await h.AdvanceAsync(TimeSpan.FromMinutes(5));
        Assert.Null(h.Sync.Status.Deferred);
        Assert.Equal(40, h.A.Manager.Memories.Scan().Count(f => f.Record?.DeviceId == "b"));
    }

    [Fact]
    public async Task BatterySaverHint_DefersALargePush_ButASmallOneGoes()
    {
        var hints = new SwitchableHints { IsBatterySaver = true };
        await using var h = await Harness.CreateAsync(o => o.LargeTransferBytes = 2000, hints: hints);
        await h.StartAsync();
        h.A.Add(new string('z', 3000));
        await h.NotifyAsync();
        await h.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("battery saver", h.Sync.Status.Deferred?.Reason);
        Assert.True(h.Sync.Status.Deferred?.UploadBytes > 2000);
        Assert.Equal(1, (await h.A.Manager.GetStatusAsync()).PendingPush);

        hints.IsBatterySaver = false;
        await h.AdvanceAsync(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(5));
        Assert.Equal(0, (await h.A.Manager.GetStatusAsync()).PendingPush);
        Assert.Null(h.Sync.Status.Deferred);
    }

    [Fact]
    public async Task SyncNowAsync_RunsAtOnce_IgnoringTheHints_AndRestartsTheInterval()
    {
        await using var h = await Harness.CreateAsync(o => o.LargeTransferBytes = 0, hints: new FixedBackgroundSyncHints(true, true));
        await h.StartAsync();
        MemoryRecord fromB = h.B.Add("from b");
        await h.B.SyncAsync();
        h.Time.Advance(TimeSpan.FromMinutes(2)); // less than the interval: the loop stays asleep

        Task waiting = h.NextWaitAsync();
        SyncResult result = await h.Sync.SyncNowAsync();
        await waiting;

        Assert.Equal(1, result.Downloaded);
        Assert.NotNull(h.A.Manager.Memories.Get(fromB.Id));
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromMinutes(5), h.Sync.Status.NextRun);
    }

    [Fact]
    public async Task Cancellation_StopsRunAsyncPromptly_WhileWaiting_AndTheStatusSaysStopped()
    {
        await using var h = await Harness.CreateAsync();
        await h.StartAsync();

        await h.Stop.CancelAsync();
        await h.Run!.WaitAsync(TimeSpan.FromSeconds(30)); // a hang guard, not a timing assertion

        Assert.True(h.Run.IsCompletedSuccessfully);
        Assert.Equal(BackgroundSyncState.Stopped, h.Sync.Status.State);
        Assert.Null(h.Sync.Status.NextRun);
    }

    [Fact]
    public async Task Watcher_ANewMemoryFile_SchedulesTheDebouncedPush()
    {
        await using var h = await Harness.CreateAsync(o => o.WatchMemoriesFolder = true);
        await h.StartAsync();
        Task<DateTimeOffset> waiting = h.NextWaitAsync();

        MemoryRecord added = h.A.Add("written by a host that does not call NotifyLocalChange");

        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(5), await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        await h.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, h.Sync.Status.LastResult?.Uploaded);
        await h.B.SyncAsync();
        Assert.NotNull(h.B.Manager.Memories.Get(added.Id));
    }

    [Fact]
    public void Options_ThatCannotWork_AreRefusedNamingTheOption()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() =>
            new BackgroundSync(_ => throw new InvalidOperationException(), new BackgroundSyncOptions { MaxBackoff = TimeSpan.FromSeconds(1) }));
        Assert.Contains("MaxBackoff", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddBackgroundSync_RegistersAHostedService_ThatValidatesAtStart_AndStopsCleanlyWhileFailing()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.Combine(Path.GetTempPath(), "ghostie-bg-" + Guid.NewGuid().ToString("N")[..8]))
            .AddBackgroundSync(o => o.Interval = TimeSpan.FromMinutes(1))
            .AddBackgroundSync(o => o.WatchMemoriesFolder = false); // twice: one service, both configurations
        await using ServiceProvider provider = services.BuildServiceProvider();

        IHostedService hosted = Assert.Single(provider.GetServices<IHostedService>());
        Assert.Same(provider.GetRequiredService<BackgroundSync>(), provider.GetRequiredService<BackgroundSync>());
        BackgroundSyncOptions options = provider.GetRequiredService<IOptions<BackgroundSyncOptions>>().Value;
        Assert.Equal((TimeSpan.FromMinutes(1), false), (options.Interval, options.WatchMemoriesFolder));

        // No backend registered: opening fails (NotConfigured), which is logged and retried, never thrown.
        var failed = new TaskCompletionSource<BackgroundSyncStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        BackgroundSync sync = provider.GetRequiredService<BackgroundSync>();
        sync.StatusChanged += (_, s) =>
        {
            if (s.ConsecutiveFailures > 0)
            {
                failed.TrySetResult(s);
            }
        };
        await hosted.StartAsync(CancellationToken.None);
        BackgroundSyncStatus status = await failed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(GhostieErrorCode.NotConfigured, status.LastError?.Code);
        await hosted.StopAsync(CancellationToken.None);
        Assert.Equal(BackgroundSyncState.Stopped, sync.Status.State);

        var bad = new ServiceCollection();
        bad.AddGhostieSync().AddBackgroundSync(o => o.Interval = TimeSpan.Zero);
        await using ServiceProvider badProvider = bad.BuildServiceProvider();
        Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IOptions<BackgroundSyncOptions>>().Value);
    }

    /// <summary>Two devices over a counting backend; device a runs the scheduler on a fake clock.</summary>
    private sealed class Harness : IAsyncDisposable
    {
        private Harness(Cluster cluster, SwitchableBackend storage, FakeTimeProvider time) => (Cluster, Storage, Time) = (cluster, storage, time);

        public Cluster Cluster { get; }
        public SwitchableBackend Storage { get; }
        public FakeTimeProvider Time { get; }
        public Device A { get; private set; } = null!;
        public Device B { get; private set; } = null!;
        public BackgroundSync Sync { get; private set; } = null!;
        public CancellationTokenSource Stop { get; } = new();
        public Task? Run { get; private set; }

        private TaskCompletionSource<DateTimeOffset> _waiting = NewWait();

        public static async Task<Harness> CreateAsync(Action<BackgroundSyncOptions>? configure = null, IBackgroundSyncHints? hints = null,
            Func<CancellationToken, Task<MemorySyncManager>>? open = null, ILogger<BackgroundSync>? logger = null)
        {
            var storage = new SwitchableBackend(new InMemoryStorageBackend());
            var h = new Harness(new Cluster(storage), storage, new FakeTimeProvider(Start));
            h.A = await h.Cluster.AddDeviceAsync("a");
            h.B = await h.Cluster.AddDeviceAsync("b");
            var options = new BackgroundSyncOptions { TimeProvider = h.Time, WatchMemoriesFolder = false };
            configure?.Invoke(options);
            h.Sync = open is null ? new BackgroundSync(h.A.Manager, options, hints, logger) : new BackgroundSync(open, options, hints, logger);
            h.Sync.Waiting = due => h._waiting.TrySetResult(due);
            return h;
        }

        private static TaskCompletionSource<DateTimeOffset> NewWait() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>A task that completes when the loop next sets its timer (with the time it waits for).</summary>
        public Task<DateTimeOffset> NextWaitAsync()
        {
            _waiting = NewWait();
            return _waiting.Task;
        }

        /// <summary>Starts the loop and waits until it waits (the check at start done).</summary>
        public async Task StartAsync()
        {
            Task<DateTimeOffset> waiting = NextWaitAsync();
            Run = Task.Run(() => Sync.RunAsync(Stop.Token));
            await Guard(waiting);
        }

        /// <summary>Moves the clock; when something falls due (<paramref name="expectRun"/>), waits until the loop waits again.</summary>
        public async Task AdvanceAsync(TimeSpan by, bool expectRun = true)
        {
            Task<DateTimeOffset> waiting = NextWaitAsync();
            Time.Advance(by);
            if (expectRun)
            {
                await Guard(waiting);
            }
        }

        /// <summary>Notifies a local change and waits until the loop has taken it (set its timer for the push).</summary>
        public async Task NotifyAsync()
        {
            Task<DateTimeOffset> waiting = NextWaitAsync();
            Sync.NotifyLocalChange();
            await Guard(waiting);
        }

        // A hang guard only: every assertion is about the fake clock, never about how long something took.
        private Task Guard(Task task) => task.WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(t =>
        {
            if (t.IsFaulted || Run is { IsFaulted: true })
            {
                throw new InvalidOperationException("The loop never waited again: " + (Run?.Exception ?? t.Exception));
            }
        }, TaskScheduler.Default);

        public async ValueTask DisposeAsync()
        {
            await Stop.CancelAsync();
            if (Run is not null)
            {
                await Run.WaitAsync(TimeSpan.FromSeconds(60));
            }

            Sync.Dispose();
            Cluster.Dispose();
            Stop.Dispose();
        }
    }

    private sealed class SwitchableHints : IBackgroundSyncHints
    {
        public bool IsMetered { get; set; }
        public bool IsBatterySaver { get; set; }
    }

    /// <summary>Counts requests, and fails every one while <see cref="Failing"/>.</summary>
    private sealed class SwitchableBackend(IStorageBackend inner) : IStorageBackend
    {
        private readonly InstrumentedBackend _counted = new(inner);

        public volatile bool Failing;
        public int Lists => _counted.Lists;
        public int Gets => _counted.Gets;
        public int Puts => _counted.Puts;
        public int Deletes => _counted.Deletes;
        public int Requests => _counted.Requests;
        public string DisplayName => "switchable";

        public void Reset() => _counted.Reset();

        private void Check()
        {
            if (Failing)
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, "The storage is unreachable (injected).", isTransient: true);
            }
        }

        public Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
        {
            Check();
            return _counted.PutAsync(name, content, cancellationToken);
        }

        public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
        {
            Check();
            return _counted.GetAsync(name, cancellationToken);
        }

        public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Check();
            await foreach (string name in _counted.ListAsync(prefix, cancellationToken))
            {
                yield return name;
            }
        }

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
        {
            Check();
            return _counted.DeleteAsync(name, cancellationToken);
        }
    }

    private sealed class ListLogger : ILogger<BackgroundSync>
    {
        private readonly List<(int Id, string Text)> _lines = [];

        public IReadOnlyList<(int Id, string Text)> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add((eventId.Id, formatter(state, exception) + (exception is null ? "" : " " + exception)));
            }
        }
    }
}
