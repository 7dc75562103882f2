using Ghostie.Sync.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync;

/// <summary>
/// Keeps one Ghostie home in sync while a long-running host runs (an <c>IHostedService</c>, <c>ghostie sync watch</c>,
/// <c>ghostie mcp</c>): every <see cref="BackgroundSyncOptions.Interval"/> one cheap listing notices other devices'
/// changes (<see cref="MemorySyncManager.CheckAsync"/>) and pulls only when there are some; local changes are pushed
/// after a debounce; failures are retried with capped, jittered exponential backoff; the host's hints defer large
/// transfers. Errors are logged and kept in <see cref="Status"/>, never thrown out of <see cref="RunAsync"/>.
/// See docs/background-sync.md.
/// </summary>
public sealed class BackgroundSync : IDisposable
{
    private static readonly TimeSpan MinimumRetry = TimeSpan.FromSeconds(1);

    private readonly Func<CancellationToken, Task<MemorySyncManager>> _open;
    private readonly bool _ownsManager;
    private readonly BackgroundSyncOptions _options;
    private readonly IBackgroundSyncHints? _hints;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _run = new(1, 1);
    private readonly Lock _lock = new();
    private MemorySyncManager? _manager;
    private MemoriesWatcher? _watcher;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset _nextCheck;
    private DateTimeOffset? _pushDue;
    private DateTimeOffset? _firstChange;
    private DateTimeOffset _backoffUntil;
    private long _changes;
    private int _running;
    private BackgroundSyncStatus _status = new();

    /// <summary>A scheduler over an open manager, which the caller keeps and disposes.</summary>
    /// <param name="manager">The home's manager.</param>
    /// <param name="options">Interval, debounce, backoff and limits; defaults when null.</param>
    /// <param name="hints">The host's conditions (metered network, battery saver), or null for none.</param>
    /// <param name="logger">Where events go; never receives secrets or memory content.</param>
    /// <exception cref="ArgumentException">The options are not usable (the message names the option).</exception>
    public BackgroundSync(MemorySyncManager manager, BackgroundSyncOptions? options = null, IBackgroundSyncHints? hints = null, ILogger<BackgroundSync>? logger = null)
        : this(_ => Task.FromResult(manager ?? throw new ArgumentNullException(nameof(manager))), ownsManager: false, options, hints, logger)
    {
        ArgumentNullException.ThrowIfNull(manager);
    }

    /// <summary>A scheduler that opens its manager when it first needs it (retried with backoff while opening fails)
    /// and disposes it with itself.</summary>
    /// <param name="openManager">Opens the home's manager (for example <see cref="GhostieSyncClient.OpenAsync"/>).</param>
    /// <param name="options">Interval, debounce, backoff and limits; defaults when null.</param>
    /// <param name="hints">The host's conditions (metered network, battery saver), or null for none.</param>
    /// <param name="logger">Where events go; never receives secrets or memory content.</param>
    /// <exception cref="ArgumentException">The options are not usable (the message names the option).</exception>
    public BackgroundSync(Func<CancellationToken, Task<MemorySyncManager>> openManager, BackgroundSyncOptions? options = null, IBackgroundSyncHints? hints = null,
        ILogger<BackgroundSync>? logger = null)
        : this(openManager, ownsManager: true, options, hints, logger)
    {
    }

    private BackgroundSync(Func<CancellationToken, Task<MemorySyncManager>> open, bool ownsManager, BackgroundSyncOptions? options, IBackgroundSyncHints? hints, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(open);
        _options = options ?? new BackgroundSyncOptions();
        if (_options.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        _open = open;
        _ownsManager = ownsManager;
        _hints = hints;
        _time = _options.TimeProvider;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Raised (on the scheduler's thread, outside its locks) each time <see cref="Status"/> changes. A handler
    /// that throws is logged and ignored.</summary>
    public event EventHandler<BackgroundSyncStatus>? StatusChanged;

    /// <summary>What the scheduler is doing, when it runs next, and how its last runs went.</summary>
    public BackgroundSyncStatus Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    /// <summary>Test hook: called each time the loop starts waiting (its timer is set), with the time it waits for.</summary>
    internal Action<DateTimeOffset>? Waiting { get; set; }

    /// <summary>Test hook: the jitter source, a number in [0, 1). Default <see cref="Random.Shared"/>.</summary>
    internal Func<double> Jitter { get; set; } = Random.Shared.NextDouble;

    /// <summary>
    /// Says that memories changed on this device (a host that writes memory files calls it after each write): a push
    /// follows once no further change came for <see cref="BackgroundSyncOptions.DebounceDelay"/>, at most
    /// <see cref="BackgroundSyncOptions.MaxDebounceDelay"/> after the first. Cheap and thread-safe; does nothing else.
    /// </summary>
    public void NotifyLocalChange()
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_lock)
        {
            _changes++;
            _firstChange ??= now;
            DateTimeOffset due = now + _options.DebounceDelay;
            DateTimeOffset latest = _firstChange.Value + _options.MaxDebounceDelay;
            _pushDue = due < latest ? due : latest;
            _wake.TrySetResult();
        }
    }

    /// <summary>
    /// Runs a full sync (pull, then push) now, whatever the hints say (the user asked for it), waiting for a background
    /// run in progress to finish first. Its outcome goes into <see cref="Status"/> as a background run's would: success
    /// resets the backoff and restarts the interval; a failure counts as one.
    /// </summary>
    /// <param name="cancellationToken">Cancels the sync between steps; committed changes stay in the outbox.</param>
    /// <returns>The sync's result.</returns>
    /// <exception cref="GhostieSyncException">The sync failed (including <see cref="GhostieErrorCode.Busy"/> when another process syncs the home).</exception>
    public async Task<SyncResult> SyncNowAsync(CancellationToken cancellationToken = default)
    {
        await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        long changes = Interlocked.Read(ref _changes);
        try
        {
            MemorySyncManager manager = await OpenAsync(cancellationToken).ConfigureAwait(false);
            Update(s => s with { State = BackgroundSyncState.Syncing });
            SyncResult result = await manager.SyncAsync(null, cancellationToken).ConfigureAwait(false);
            Succeeded(full: true, changes, result, deferred: null, checkedAt: null);
            BackgroundSyncLog.Ran(_logger, "sync", result.Uploaded, result.Downloaded, result.Problems.Count);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Failed(ex);
            throw;
        }
        finally
        {
            _run.Release();
            lock (_lock)
            {
                _wake.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Runs the schedule until <paramref name="cancellationToken"/> is cancelled, then returns (it does not throw on
    /// cancellation, nor for any failure of a run: those are logged, kept in <see cref="Status"/> and retried). A run in
    /// progress is cancelled between steps; nothing committed is lost.
    /// </summary>
    /// <param name="cancellationToken">Stops the scheduler.</param>
    /// <exception cref="InvalidOperationException">It is already running.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("This BackgroundSync is already running; call RunAsync once.");
        }

        try
        {
            lock (_lock)
            {
                _nextCheck = _time.GetUtcNow() + (_options.CheckAtStart ? TimeSpan.Zero : _options.Interval);
            }

            BackgroundSyncLog.Started(_logger, _options.Interval);
            while (!cancellationToken.IsCancellationRequested)
            {
                DateTimeOffset now = _time.GetUtcNow();
                DateTimeOffset due;
                bool full;
                Task wake;
                lock (_lock)
                {
                    if (_wake.Task.IsCompleted)
                    {
                        _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }

                    wake = _wake.Task;
                    DateTimeOffset? push = _pushDue is { } p ? (p > _backoffUntil ? p : _backoffUntil) : null;
                    full = push is null || _nextCheck <= push;
                    due = full ? _nextCheck : push!.Value;
                }

                if (due > now)
                {
                    Update(s => s with { State = BackgroundSyncState.Waiting, NextRun = due });
                    await WaitAsync(due - now, wake, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                await CycleAsync(full, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping is the normal end
        }
        finally
        {
            _watcher?.Dispose();
            _watcher = null;
            Update(s => s with { State = BackgroundSyncState.Stopped, NextRun = null });
            BackgroundSyncLog.Stopped(_logger);
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Disposes the watcher, and the manager if this scheduler opened it.</summary>
    public void Dispose()
    {
        _watcher?.Dispose();
        _watcher = null;
        if (_ownsManager)
        {
            _manager?.Dispose();
        }
    }

    private async Task WaitAsync(TimeSpan delay, Task wake, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task timer = Task.Delay(delay, _time, stop.Token);
        Waiting?.Invoke(_time.GetUtcNow() + delay);
        await Task.WhenAny(timer, wake).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false); // frees the timer when woken early
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>One check and whatever transfer it calls for: <paramref name="full"/> looks at the repository too, otherwise
    /// only local changes are pushed (the debounced push).</summary>
    private async Task CycleAsync(bool full, CancellationToken cancellationToken)
    {
        await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        long changes = Interlocked.Read(ref _changes);
        try
        {
            MemorySyncManager manager = await OpenAsync(cancellationToken).ConfigureAwait(false);
            StartWatching(manager);
            string? constrained = Constraint();
            Update(s => s with { State = BackgroundSyncState.Checking });
            SyncCheck check = await manager.CheckAsync(!full ? SyncCheckScope.Local : constrained is null ? SyncCheckScope.Listing : SyncCheckScope.Estimate,
                cancellationToken).ConfigureAwait(false);
            DateTimeOffset checkedAt = _time.GetUtcNow();
            BackgroundSyncLog.Checked(_logger, full, check.RemoteChanged, check.ChangedDevices, check.PendingChanges);

            bool pull = check.RemoteChanged;
            bool push = check.PendingChanges > 0;
            long? deferredDown = null, deferredUp = null;
            if (constrained is not null)
            {
                if (pull && check.DownloadBytes > _options.LargeTransferBytes)
                {
                    (pull, deferredDown) = (false, check.DownloadBytes);
                }

                if (push && check.UploadBytes > _options.LargeTransferBytes)
                {
                    (push, deferredUp) = (false, check.UploadBytes);
                }
            }

            BackgroundSyncDeferral? deferred = null;
            if (deferredDown is not null || deferredUp is not null)
            {
                deferred = new BackgroundSyncDeferral(deferredDown, deferredUp, constrained!);
                BackgroundSyncLog.Deferred(_logger, constrained!, deferredDown ?? 0, deferredUp ?? 0, _options.LargeTransferBytes);
            }

            SyncResult? result = null;
            string? operation = pull ? (deferredUp is null ? "sync" : "pull") : push ? "push" : null;
            if (operation is not null)
            {
                Update(s => s with { State = BackgroundSyncState.Syncing });
                result = operation switch
                {
                    // A sync even with nothing local: its push writes nothing then, unless a device waits for our
                    // acknowledgement or our head must be written again.
                    "sync" => await manager.SyncAsync(null, cancellationToken).ConfigureAwait(false),
                    "pull" => await manager.PullAsync(null, cancellationToken).ConfigureAwait(false),
                    _ => await manager.PushAsync(null, cancellationToken).ConfigureAwait(false),
                };
                BackgroundSyncLog.Ran(_logger, operation, result.Uploaded, result.Downloaded, result.Problems.Count);
            }

            Succeeded(full, changes, result, deferred, checkedAt);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.Busy)
        {
            // Another process (a CLI push, another host) holds the home: nothing was done, so simply try again soon.
            DateTimeOffset retry = _time.GetUtcNow() + _options.BusyRetryDelay;
            lock (_lock)
            {
                if (full)
                {
                    _nextCheck = retry;
                }
                else
                {
                    _pushDue = retry;
                }
            }

            BackgroundSyncLog.Busy(_logger, _options.BusyRetryDelay);
        }
#pragma warning disable CA1031 // a background service reports and retries; an exception thrown out of it would stop the host
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Failed(ex);
        }
        finally
        {
            _run.Release();
        }
    }

    private async Task<MemorySyncManager> OpenAsync(CancellationToken cancellationToken) =>
        _manager ??= await _open(cancellationToken).ConfigureAwait(false);

    private void StartWatching(MemorySyncManager manager)
    {
        if (_watcher is not null || !_options.WatchMemoriesFolder || Volatile.Read(ref _running) == 0)
        {
            return;
        }

        try
        {
            _watcher = new MemoriesWatcher(manager.Home, NotifyLocalChange);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
        {
            // An inotify limit, say: local changes still go at the next interval (the check includes them).
            BackgroundSyncLog.WatchFailed(_logger, manager.Home.MemoriesPath, ex.GetType().Name);
            _watcher = MemoriesWatcher.None;
        }
    }

    /// <summary>"metered network", "battery saver", both, or null when the host reports no constraint.</summary>
    private string? Constraint()
    {
        if (_hints is null)
        {
            return null;
        }

        try
        {
            bool metered = _hints.IsMetered, saver = _hints.IsBatterySaver;
            return metered && saver ? "metered network, battery saver" : metered ? "metered network" : saver ? "battery saver" : null;
        }
#pragma warning disable CA1031 // the host's code: its failure must not stop sync
        catch (Exception ex)
#pragma warning restore CA1031
        {
            BackgroundSyncLog.HintsFailed(_logger, ex.GetType().Name);
            return null;
        }
    }

    private void Succeeded(bool full, long changesBefore, SyncResult? result, BackgroundSyncDeferral? deferred, DateTimeOffset? checkedAt)
    {
        DateTimeOffset now = _time.GetUtcNow();
        Update(s =>
        {
            _backoffUntil = DateTimeOffset.MinValue;
            if (full)
            {
                _nextCheck = now + _options.Interval;
            }

            if (_changes == changesBefore)
            {
                // Every change notified so far was looked at by this run (a push, or a deferral the next check retries).
                (_pushDue, _firstChange) = (null, null);
            }

            return s with
            {
                LastCheck = checkedAt ?? s.LastCheck,
                LastSync = result is not null ? now : s.LastSync,
                LastResult = result ?? s.LastResult,
                ConsecutiveFailures = 0,
                Deferred = checkedAt is not null || result is not null ? deferred : s.Deferred,
            };
        });
    }

    private void Failed(Exception ex)
    {
        DateTimeOffset now = _time.GetUtcNow();
        var error = ex is GhostieSyncException g
            ? new BackgroundSyncError(g.Code, g.Message, g.IsTransient, now)
            : new BackgroundSyncError(GhostieErrorCode.Unknown, $"Unexpected {ex.GetType().Name} (its message is not shown: it may hold anything).", true, now);
        TimeSpan delay = TimeSpan.Zero;
        int failures = 0;
        Update(s =>
        {
            failures = s.ConsecutiveFailures + 1;
            delay = Backoff(failures);
            _backoffUntil = now + delay;
            _nextCheck = _backoffUntil; // the retry is a full check: it pushes local changes too
            return s with { ConsecutiveFailures = failures, LastError = error };
        });
        BackgroundSyncLog.Failed(_logger, error.Code, failures, delay, error.Message);
    }

    /// <summary>Full jitter: random between 0 and min(cap, initial x 2^(failures-1)), never below a small floor.</summary>
    private TimeSpan Backoff(int failures)
    {
        double ceiling = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 62)));
        double floor = Math.Min(MinimumRetry.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Math.Max(floor, ceiling * Math.Clamp(Jitter(), 0, 1)));
    }

    /// <summary>Changes the status under the lock (<paramref name="change"/> may update the schedule too), then tells the listeners.</summary>
    private void Update(Func<BackgroundSyncStatus, BackgroundSyncStatus> change)
    {
        BackgroundSyncStatus status;
        lock (_lock)
        {
            status = _status = change(_status);
        }

        try
        {
            StatusChanged?.Invoke(this, status);
        }
#pragma warning disable CA1031 // the host's handler: its failure must not stop sync
        catch (Exception ex)
#pragma warning restore CA1031
        {
            BackgroundSyncLog.HandlerFailed(_logger, ex.GetType().Name);
        }
    }
}
