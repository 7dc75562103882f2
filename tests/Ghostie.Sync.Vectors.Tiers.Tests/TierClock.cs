using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

/// <summary>A <see cref="FakeTimeProvider"/> that also counts its pending timers (created, neither fired nor disposed),
/// so a test can wait until only the hanging tier's timeout is left before it moves the clock.</summary>
public sealed class TierClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private int _active;

    public int ActiveTimers => Volatile.Read(ref _active);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var counted = new CountedTimer(this, period);
        counted.Inner = base.CreateTimer(s => counted.Fire(callback, s), state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            counted.Arm();
        }

        return counted;
    }

    private sealed class CountedTimer(TierClock owner, TimeSpan period) : ITimer
    {
        private int _armed;
        private TimeSpan _period = period;

        public ITimer Inner { get; set; } = null!;

        public void Arm()
        {
            if (Interlocked.Exchange(ref _armed, 1) == 0)
            {
                Interlocked.Increment(ref owner._active);
            }
        }

        public void Fire(TimerCallback callback, object? state)
        {
            if (_period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero)
            {
                Disarm();
            }

            callback(state);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                Disarm();
            }
            else
            {
                Arm();
            }

            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            Disarm();
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private void Disarm()
        {
            if (Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Interlocked.Decrement(ref owner._active);
            }
        }
    }
}
