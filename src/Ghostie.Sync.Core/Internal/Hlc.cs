namespace Ghostie.Sync.Internal;

/// <summary>
/// A hybrid logical clock stamp: wall-clock milliseconds plus a counter, never going backwards on one device and
/// always ahead of every stamp the device has seen. Orders concurrent versions the same way on every device.
/// </summary>
internal readonly record struct Hlc(long WallMs, int Counter) : IComparable<Hlc>
{
    public int CompareTo(Hlc other)
    {
        int c = WallMs.CompareTo(other.WallMs);
        return c != 0 ? c : Counter.CompareTo(other.Counter);
    }

    /// <summary>A stamp for a local event at <paramref name="nowMs"/>, after <paramref name="last"/>.</summary>
    public static Hlc Tick(Hlc last, long nowMs) =>
        nowMs > last.WallMs ? new Hlc(nowMs, 0) : new Hlc(last.WallMs, last.Counter + 1);

    /// <summary>The clock after receiving <paramref name="remote"/>.</summary>
    public static Hlc Observe(Hlc last, Hlc remote) => remote.CompareTo(last) > 0 ? remote : last;

    public DateTimeOffset ToDateTimeOffset() => DateTimeOffset.FromUnixTimeMilliseconds(WallMs);
}
