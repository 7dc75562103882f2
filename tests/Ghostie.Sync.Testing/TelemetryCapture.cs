using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ghostie.Sync.Testing;

/// <summary>One measurement of an instrument, with its tags.</summary>
public sealed record RecordedMeasurement(string Instrument, string? Unit, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    /// <summary>The tag's value as a string, or null when the measurement has no such tag.</summary>
    public string? Tag(string name) => Tags.TryGetValue(name, out object? value) ? value?.ToString() : null;
}

/// <summary>
/// Captures the activities and measurements of the "Ghostie.Sync" source and meter made by the code this test runs,
/// and only those: the capture starts a root activity, and keeps what belongs to its trace (measurements are
/// recorded while <see cref="Activity.Current"/> is in that trace). Tests running in parallel, whose activities and
/// measurements go through the same process-wide source and meter, are not mixed in.
/// </summary>
/// <remarks>Create it in the test method itself (not in a constructor or helper that returns before the work): the
/// root activity flows with the method's async context.</remarks>
public sealed class TelemetryCapture : IDisposable
{
    private const string RootSourceName = "Ghostie.Sync.TestRoot";
    private static readonly ActivitySource TestSource = new(RootSourceName);
    private readonly string _name;
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private readonly Activity _root;

    /// <summary>Starts capturing.</summary>
    /// <param name="name">The ActivitySource and Meter name to capture (the library's documented "Ghostie.Sync").</param>
    public TelemetryCapture(string name = "Ghostie.Sync")
    {
        _name = name;
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == name || source.Name == RootSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.Source.Name == _name && activity.TraceId == TraceId)
                {
                    Activities.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_activities);
        _root = TestSource.StartActivity("test root") ?? throw new InvalidOperationException("The test root activity was not created.");
        TraceId = _root.TraceId;

        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == _name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.Start();
    }

    /// <summary>The trace every captured activity belongs to.</summary>
    public ActivityTraceId TraceId { get; }

    /// <summary>The stopped activities of the captured source in this test's trace.</summary>
    public ConcurrentQueue<Activity> Activities { get; } = new();

    /// <summary>The measurements of the captured meter made in this test's trace.</summary>
    public ConcurrentQueue<RecordedMeasurement> Measurements { get; } = new();

    /// <summary>The measurements of one instrument.</summary>
    public IReadOnlyList<RecordedMeasurement> Of(string instrument) => Measurements.Where(m => m.Instrument == instrument).ToList();

    /// <summary>The stopped activities with one operation name.</summary>
    public IReadOnlyList<Activity> Named(string operationName) => Activities.Where(a => a.OperationName == operationName).ToList();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Activity.Current?.TraceId != TraceId)
        {
            return;
        }

        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        Measurements.Enqueue(new RecordedMeasurement(instrument.Name, instrument.Unit, value, copy));
    }

    /// <summary>Stops capturing.</summary>
    public void Dispose()
    {
        _meters.Dispose();
        _root.Dispose();
        _activities.Dispose();
    }
}
