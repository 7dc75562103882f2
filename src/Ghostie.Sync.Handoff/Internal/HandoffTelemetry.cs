using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using T = Ghostie.Sync.GhostieSyncTelemetry;

namespace Ghostie.Sync.Handoff.Internal;

/// <summary>Handoff's activities and duration histogram (names in <see cref="GhostieSyncTelemetry"/>, docs/observability.md).
/// No package id, title, device name or conversation text is a tag value.</summary>
internal static class HandoffTelemetry
{
    private static readonly string? Version = typeof(HandoffTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    private static readonly ActivitySource Source = new(T.ActivitySourceName, Version);

    private static readonly Meter Meter = new(T.MeterName, Version);

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(T.Instruments.HandoffDuration, "s", "How long a handoff create or resume took.");

    /// <summary>Runs a handoff create or resume inside its activity and records its duration.</summary>
    /// <param name="operation"><c>create</c> or <c>resume</c>.</param>
    /// <param name="run">The work.</param>
    /// <param name="describe">Adds the result's secret-free numbers to the activity.</param>
    public static async Task<TResult> RunAsync<TResult>(string operation, Func<Task<TResult>> run, Action<Activity, TResult>? describe = null)
    {
        using Activity? activity = Source.StartActivity(operation == "create" ? T.Activities.HandoffCreate : T.Activities.HandoffResume);
        activity?.SetTag(T.Tags.HandoffOperation, operation);
        long started = Stopwatch.GetTimestamp();
        var tags = new TagList { { T.Tags.HandoffOperation, operation } };
        try
        {
            TResult result = await run().ConfigureAwait(false);
            tags.Add(T.Tags.Outcome, "success");
            if (activity is not null)
            {
                describe?.Invoke(activity, result);
                activity.SetStatus(ActivityStatusCode.Ok);
            }

            return result;
        }
        catch (Exception ex)
        {
            string error = ex switch
            {
                GhostieSyncException ghostie => ghostie.Code.ToString(),
                OperationCanceledException => "Cancelled",
                _ => ex.GetType().Name,
            };
            tags.Add(T.Tags.Outcome, "failure");
            tags.Add(T.Tags.ErrorType, error);
            activity?.SetTag(T.Tags.ErrorType, error);
            activity?.SetStatus(ActivityStatusCode.Error, error);
            throw;
        }
        finally
        {
            Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        }
    }
}
