using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>A <see cref="FakeTimeProvider"/> on which every wait passes at once: like RecordingTimeProvider the waits are
/// recorded, and the clock moves by each one, so a double sharing this clock sees its rate-limit window reset.</summary>
public sealed class VirtualClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    public ConcurrentQueue<TimeSpan> Waits { get; } = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            Waits.Enqueue(dueTime);
            Advance(dueTime); // fires this timer (and moves the clock for everyone reading it)
        }

        return timer;
    }
}

/// <summary>A <see cref="FakeTimeProvider"/> nobody advances: the clock stands still and its timers never fire, so a
/// wait on it ends only by cancellation. <see cref="WaitStarted"/> completes when the first wait begins.</summary>
public sealed class FrozenClock(DateTimeOffset now) : FakeTimeProvider(now)
{
    private readonly TaskCompletionSource<TimeSpan> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<TimeSpan> WaitStarted => _started.Task;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _started.TrySetResult(dueTime);
        }

        return base.CreateTimer(callback, state, dueTime, period);
    }
}
