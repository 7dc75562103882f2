using System.Net.Http.Headers;

namespace Ghostie.Sync.Shared;

// Internal source shared by the remote backends (S3, Azure Blob, GitHub Gist, PostgreSQL): each compiles this file
// (<Compile Include="../Shared/Retry/*.cs" />) instead of the storage contract exposing it. See docs/architecture.md.

/// <summary>What to do about a failed attempt.</summary>
internal enum RetryKind
{
    /// <summary>Do not retry: the failure is permanent (bad credentials, missing container, bad request).</summary>
    Permanent,

    /// <summary>Retry after an exponential, jittered backoff (5xx, timeouts, reset connections).</summary>
    Transient,

    /// <summary>The server asked to slow down; retry after its hint, or a backoff when it gave none.</summary>
    Throttled,
}

/// <summary>The classification of a failed attempt.</summary>
/// <param name="Kind">Retry or not, and how.</param>
/// <param name="RetryAfter">The server's hint, when it gave one.</param>
/// <param name="Reason">A short, secret-free description for the final error ("HTTP 503", "connection reset").</param>
internal readonly record struct RetryVerdict(RetryKind Kind, TimeSpan? RetryAfter, string Reason)
{
    /// <summary>A permanent failure.</summary>
    /// <param name="reason">A short, secret-free description.</param>
    public static RetryVerdict Permanent(string reason) => new(RetryKind.Permanent, null, reason);

    /// <summary>A transient failure.</summary>
    /// <param name="reason">A short, secret-free description.</param>
    public static RetryVerdict Transient(string reason) => new(RetryKind.Transient, null, reason);

    /// <summary>Throttling, with the server's hint if any.</summary>
    /// <param name="retryAfter">The server's hint.</param>
    /// <param name="reason">A short, secret-free description.</param>
    public static RetryVerdict Throttled(TimeSpan? retryAfter, string reason) => new(RetryKind.Throttled, retryAfter, reason);

    /// <summary>Classifies an HTTP status the usual way: 408, 500, 502, 503, 504 transient; 429 throttled (503 with a
    /// Retry-After too); everything else permanent. Retry-After is read as seconds or as an HTTP date.</summary>
    /// <param name="response">The response of the failed attempt.</param>
    /// <param name="timeProvider">The clock an HTTP-date hint is measured against.</param>
    public static RetryVerdict FromHttpResponse(HttpResponseMessage response, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        int status = (int)response.StatusCode;
        string reason = $"HTTP {status} {response.ReasonPhrase}".TrimEnd();
        return FromStatus(status, reason, ReadRetryAfter(response.Headers.RetryAfter, timeProvider ?? TimeProvider.System));
    }

    /// <summary>Classifies an exception thrown by <see cref="HttpClient"/>: connection failures, resets and I/O
    /// errors are transient; anything else permanent. (Timeouts are recognised by <see cref="BackendRetry"/>.)</summary>
    /// <param name="exception">The exception.</param>
    public static RetryVerdict FromHttpException(Exception exception) => exception switch
    {
        // An exception that carries a status (EnsureSuccessStatusCode) is classified by it: a 401 is not a network error.
        HttpRequestException { StatusCode: { } status } => FromStatus((int)status, $"HTTP {(int)status}", null),
        HttpRequestException e => Transient(e.HttpRequestError == HttpRequestError.Unknown ? "network error" : $"network error ({e.HttpRequestError})"),
        IOException => Transient("connection reset"),
        _ => Permanent(exception.GetType().Name),
    };

    private static RetryVerdict FromStatus(int status, string reason, TimeSpan? hint) => status switch
    {
        429 => Throttled(hint, reason),
        503 when hint is not null => Throttled(hint, reason),
        408 or 500 or 502 or 503 or 504 => Transient(reason),
        _ => Permanent(reason),
    };

    /// <summary>Reads a Retry-After header (delta seconds or HTTP date) as a delay.</summary>
    /// <param name="header">The header, if present.</param>
    /// <param name="timeProvider">The clock a date is measured against.</param>
    public static TimeSpan? ReadRetryAfter(RetryConditionHeaderValue? header, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (header?.Delta is TimeSpan delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is DateTimeOffset date)
        {
            TimeSpan wait = date - timeProvider.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }
}

/// <summary>
/// Runs one backend operation with retries. Each attempt gets its own timeout; the caller's cancellation ends
/// everything at once. When attempts run out, or a throttling hint exceeds the ceiling, the result is a transient
/// <see cref="GhostieSyncException"/> with <see cref="GhostieErrorCode.BackendUnavailable"/> naming the operation
/// and the last reason (never a URL, key or token).
/// </summary>
internal static class BackendRetry
{
    private static readonly object SharedRandomLock = new();
    private static readonly Random SharedRandom = new();

    /// <summary>Runs <paramref name="attempt"/> until it succeeds, fails permanently, or attempts run out.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="operation">A secret-free name for errors, for example "S3 PUT p/ab/cd".</param>
    /// <param name="attempt">One attempt; receives a token that combines the caller's and the attempt timeout.</param>
    /// <param name="classify">Decides, for an exception thrown by an attempt, whether to retry. Exceptions that are
    /// already <see cref="GhostieSyncException"/> and permanent verdicts are rethrown unchanged.</param>
    /// <param name="options">Attempts, delays, clock.</param>
    /// <param name="cancellationToken">Cancels the operation (an <see cref="OperationCanceledException"/>, never retried).</param>
    public static async Task<T> ExecuteAsync<T>(
        string operation,
        Func<CancellationToken, Task<T>> attempt,
        Func<Exception, RetryVerdict> classify,
        BackendRetryOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(classify);
        ArgumentNullException.ThrowIfNull(options);
        using BackendTelemetry.Request request = BackendTelemetry.Start(operation);
        try
        {
            return await RetryAsync(operation, attempt, classify, options, request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            request.Failed(e);
            throw;
        }
    }

    private static async Task<T> RetryAsync<T>(string operation, Func<CancellationToken, Task<T>> attempt, Func<Exception, RetryVerdict> classify,
        BackendRetryOptions options, BackendTelemetry.Request request, CancellationToken cancellationToken)
    {
        Random random = options.JitterSeed is int seed ? new Random(seed) : SharedRandom;
        for (int number = 1; ; number++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RetryVerdict verdict;
            Exception failure;
            using (var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                if (options.AttemptTimeout != Timeout.InfiniteTimeSpan)
                {
                    attemptCts.CancelAfter(options.AttemptTimeout);
                }

                try
                {
                    T result = await attempt(attemptCts.Token).ConfigureAwait(false);
                    request.Attempted("success");
                    return result;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (OperationCanceledException e) when (attemptCts.IsCancellationRequested)
                {
                    failure = e;
                    verdict = RetryVerdict.Transient($"no answer within {options.AttemptTimeout.TotalSeconds:0.#} s");
                }
                catch (GhostieSyncException)
                {
                    request.Attempted("permanent"); // the backend's own error, never retried
                    throw;
                }
                catch (Exception e)
                {
                    // A cancelled request may surface as an I/O or HTTP error instead of a cancellation: the caller's
                    // cancellation wins, and is never reported as an outage.
                    cancellationToken.ThrowIfCancellationRequested();
                    failure = e;
                    verdict = classify(e);
                }
            }

            string outcome = failure is OperationCanceledException ? "timeout" : verdict.Kind.ToString().ToLowerInvariant();
            request.Attempted(outcome);
            if (verdict.Kind == RetryKind.Permanent)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }

            if (number >= options.MaxAttempts)
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"{operation} failed after {number} attempt(s): {verdict.Reason}. The storage service is unreachable or overloaded; try again later.",
                    isTransient: true, failure);
            }

            TimeSpan delay = Backoff(number, options, random);
            if (verdict.Kind == RetryKind.Throttled && verdict.RetryAfter is TimeSpan hint)
            {
                if (hint > options.MaxThrottleDelay)
                {
                    throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                        $"{operation} was throttled ({verdict.Reason}); the service asks to wait {hint.TotalSeconds:0} s, longer than the allowed {options.MaxThrottleDelay.TotalSeconds:0} s. Try again later.",
                        isTransient: true, failure);
                }

                delay = hint;
            }

            request.Retrying(outcome, delay);
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs an attempt without a result. See <see cref="ExecuteAsync{T}"/>.</summary>
    /// <param name="operation">A secret-free name for errors.</param>
    /// <param name="attempt">One attempt.</param>
    /// <param name="classify">Decides whether to retry.</param>
    /// <param name="options">Attempts, delays, clock.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public static Task ExecuteAsync(string operation, Func<CancellationToken, Task> attempt, Func<Exception, RetryVerdict> classify,
        BackendRetryOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        return ExecuteAsync<bool>(operation, async ct =>
        {
            await attempt(ct).ConfigureAwait(false);
            return true;
        }, classify, options, cancellationToken);
    }

    /// <summary>The full-jitter backoff before attempt <paramref name="failedAttempts"/> + 1: uniform in
    /// [0, min(MaxDelay, BaseDelay * 2^(failedAttempts-1))].</summary>
    /// <param name="failedAttempts">Attempts made so far (1 or more).</param>
    /// <param name="options">The delays.</param>
    /// <param name="random">The jitter source.</param>
    internal static TimeSpan Backoff(int failedAttempts, BackendRetryOptions options, Random random)
    {
        double ceiling = Math.Min(options.MaxDelay.TotalMilliseconds, options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failedAttempts - 1, 30)));
        double factor;
        if (ReferenceEquals(random, SharedRandom))
        {
            lock (SharedRandomLock)
            {
                factor = random.NextDouble();
            }
        }
        else
        {
            factor = random.NextDouble();
        }

        return TimeSpan.FromMilliseconds(ceiling * factor);
    }
}
