using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using T = Ghostie.Sync.GhostieSyncTelemetry;

namespace Ghostie.Sync.Shared;

/// <summary>
/// The remote backends' request activity and instruments, recorded by <see cref="BackendRetry"/> (names in
/// <see cref="GhostieSyncTelemetry"/>, docs/observability.md). Tags come from the operation label's first two words
/// only ("S3 PUT p/ab/cd" is backend <c>s3</c>, operation <c>put</c>): the rest of a label names objects and
/// containers, which are no tag values.
/// </summary>
internal static class BackendTelemetry
{
    private static readonly string? Version = typeof(BackendTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    private static readonly ActivitySource Source = new(T.ActivitySourceName, Version);

    private static readonly Meter Meter = new(T.MeterName, Version);

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>(T.Instruments.BackendRequests, "{request}", "Attempts sent to a remote backend, by outcome.");

    private static readonly Counter<long> Retries = Meter.CreateCounter<long>(T.Instruments.BackendRetries, "{retry}", "Attempts of a remote backend that failed and were tried again.");

    /// <summary>Starts the activity of one backend operation (all its attempts).</summary>
    /// <param name="operation">The secret-free operation label given to <see cref="BackendRetry"/>.</param>
    public static Request Start(string operation)
    {
        (string type, string verb) = Parse(operation);
        Activity? activity = Source.StartActivity(T.Activities.BackendRequest, ActivityKind.Client);
        if (activity is not null)
        {
            activity.DisplayName = type + " " + verb;
            activity.SetTag(T.Tags.BackendType, type);
            activity.SetTag(T.Tags.BackendOperation, verb);
        }

        return new Request(type, verb, activity);
    }

    /// <summary>The backend type and verb of a label: its first two words, lower case, letters, digits and '-' only.</summary>
    internal static (string Type, string Verb) Parse(string? operation)
    {
        string[] words = (operation ?? "").Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        return (Word(words, 0), Word(words, 1));

        static string Word(string[] words, int index)
        {
            if (index >= words.Length || words[index].Length > 32 || !words[index].All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return "other";
            }

            return words[index].ToLowerInvariant();
        }
    }

    /// <summary>One backend operation in progress.</summary>
    internal sealed class Request(string type, string verb, Activity? activity) : IDisposable
    {
        private int _attempts;

        /// <summary>Records an attempt and its outcome: <c>success</c>, <c>transient</c>, <c>throttled</c>, <c>permanent</c> or <c>timeout</c>.</summary>
        public void Attempted(string outcome)
        {
            _attempts++;
            Requests.Add(1, new TagList { { T.Tags.BackendType, type }, { T.Tags.BackendOperation, verb }, { T.Tags.BackendOutcome, outcome } });
            if (outcome == "success" && activity is not null)
            {
                activity.SetTag("ghostie.backend.attempts", _attempts);
                activity.SetStatus(ActivityStatusCode.Ok);
            }
        }

        /// <summary>Records that the failed attempt is tried again, and why (<c>transient</c>, <c>throttled</c> or <c>timeout</c>).</summary>
        public void Retrying(string kind, TimeSpan delay)
        {
            Retries.Add(1, new TagList { { T.Tags.BackendType, type }, { T.Tags.BackendOperation, verb }, { T.Tags.RetryKind, kind } });
            activity?.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection
            {
                [T.Tags.RetryKind] = kind,
                ["ghostie.backend.retry.delay_ms"] = (long)delay.TotalMilliseconds,
            }));
        }

        /// <summary>Marks the operation failed: <c>error.type</c> is the error code of a Ghostie error, else the exception's type name.</summary>
        public void Failed(Exception error)
        {
            if (activity is null)
            {
                return;
            }

            string errorType = error switch
            {
                GhostieSyncException ghostie => ghostie.Code.ToString(),
                OperationCanceledException => "Cancelled",
                _ => error.GetType().Name,
            };
            activity.SetTag("ghostie.backend.attempts", _attempts);
            activity.SetTag(T.Tags.ErrorType, errorType);
            activity.SetStatus(ActivityStatusCode.Error, errorType);
        }

        public void Dispose() => activity?.Dispose();
    }
}
