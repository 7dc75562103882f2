namespace Ghostie.Sync;

/// <summary>
/// The names of Ghostie.Sync's traces and metrics (System.Diagnostics <c>ActivitySource</c> and <c>Meter</c>), for
/// hooking them to OpenTelemetry or any other listener: <c>.AddSource(GhostieSyncTelemetry.ActivitySourceName)</c>
/// and <c>.AddMeter(GhostieSyncTelemetry.MeterName)</c>. See docs/observability.md for every instrument and tag.
/// </summary>
/// <remarks>
/// Every package of Ghostie.Sync reports under the one name <c>"Ghostie.Sync"</c>: the packages are layers of one
/// SDK that a host enables as a whole, and the instrument names (<c>ghostie.sync.*</c>, <c>ghostie.handoff.*</c>,
/// <c>ghostie.backend.*</c>) already say which layer measured. Tag values are operation names, outcomes, error codes
/// and backend types: never a secret, a key, a passphrase, a token, an object or memory name, or a memory's content.
/// </remarks>
public static class GhostieSyncTelemetry
{
    /// <summary>The name of the ActivitySource of every package: <c>"Ghostie.Sync"</c>.</summary>
    public const string ActivitySourceName = "Ghostie.Sync";

    /// <summary>The name of the Meter of every package: <c>"Ghostie.Sync"</c>.</summary>
    public const string MeterName = "Ghostie.Sync";

    /// <summary>Activity (span) names.</summary>
    public static class Activities
    {
        /// <summary>A push (<c>MemorySyncManager.PushAsync</c>).</summary>
        public const string Push = "ghostie.sync.push";

        /// <summary>A pull (<c>MemorySyncManager.PullAsync</c>).</summary>
        public const string Pull = "ghostie.sync.pull";

        /// <summary>A sync, pull then push (<c>MemorySyncManager.SyncAsync</c>).</summary>
        public const string Sync = "ghostie.sync.sync";

        /// <summary>A handoff package built and stored (<c>HandoffService.CreateAsync</c>).</summary>
        public const string HandoffCreate = "ghostie.handoff.create";

        /// <summary>A handoff package fetched and rebuilt (<c>HandoffService.BeginResumeAsync</c>, and so <c>ResumeAsync</c>).</summary>
        public const string HandoffResume = "ghostie.handoff.resume";

        /// <summary>One operation of a remote backend, all its attempts included.</summary>
        public const string BackendRequest = "ghostie.backend.request";
    }

    /// <summary>Instrument names.</summary>
    public static class Instruments
    {
        /// <summary>Counter of push, pull and sync runs (<c>{run}</c>); tags operation, outcome, error.type.</summary>
        public const string SyncRuns = "ghostie.sync.runs";

        /// <summary>Histogram of push, pull and sync durations in seconds; tags operation, outcome, error.type.</summary>
        public const string SyncDuration = "ghostie.sync.duration";

        /// <summary>Counter of bytes a sync manager sent to and received from storage (<c>By</c>); tag network.io.direction.</summary>
        public const string SyncBytes = "ghostie.sync.bytes";

        /// <summary>Counter of objects a sync manager wrote to and read from storage (<c>{object}</c>); tag network.io.direction.</summary>
        public const string SyncObjects = "ghostie.sync.objects";

        /// <summary>Counter of new conflicts detected by a run (<c>{conflict}</c>); tag operation.</summary>
        public const string SyncConflicts = "ghostie.sync.conflicts";

        /// <summary>Histogram of handoff create and resume durations in seconds; tags operation, outcome, error.type.</summary>
        public const string HandoffDuration = "ghostie.handoff.duration";

        /// <summary>Counter of attempts sent to a remote backend (<c>{request}</c>); tags backend type, operation, outcome.</summary>
        public const string BackendRequests = "ghostie.backend.requests";

        /// <summary>Counter of retried attempts of a remote backend (<c>{retry}</c>); tags backend type, operation, retry kind.</summary>
        public const string BackendRetries = "ghostie.backend.retries";
    }

    /// <summary>Tag (attribute) names.</summary>
    public static class Tags
    {
        /// <summary><c>push</c>, <c>pull</c> or <c>sync</c>.</summary>
        public const string SyncOperation = "ghostie.sync.operation";

        /// <summary>The outcome of a push, pull, sync, handoff create or resume: <c>success</c> or <c>failure</c>.</summary>
        public const string Outcome = "ghostie.outcome";

        /// <summary>On failure: the <see cref="GhostieErrorCode"/> name, else the exception's type name (OpenTelemetry's <c>error.type</c>).</summary>
        public const string ErrorType = "error.type";

        /// <summary><c>transmit</c> (to storage) or <c>receive</c> (from storage), as OpenTelemetry's <c>network.io.direction</c>.</summary>
        public const string Direction = "network.io.direction";

        /// <summary><c>create</c> or <c>resume</c>.</summary>
        public const string HandoffOperation = "ghostie.handoff.operation";

        /// <summary>The remote backend: <c>s3</c>, <c>azure</c>, <c>github</c>, <c>postgresql</c> (the first word of its operation label, lower case).</summary>
        public const string BackendType = "ghostie.backend.type";

        /// <summary>The backend operation's verb, lower case: <c>put</c>, <c>get</c>, <c>list</c>, <c>delete</c>, <c>head</c>, ...</summary>
        public const string BackendOperation = "ghostie.backend.operation";

        /// <summary>The outcome of a backend attempt: <c>success</c>, <c>transient</c>, <c>throttled</c>, <c>permanent</c> or <c>timeout</c>.</summary>
        public const string BackendOutcome = "ghostie.backend.outcome";

        /// <summary>Why an attempt was retried: <c>transient</c>, <c>throttled</c> or <c>timeout</c>.</summary>
        public const string RetryKind = "ghostie.backend.retry.kind";
    }
}
