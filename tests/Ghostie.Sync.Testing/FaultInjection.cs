using System.Collections.Concurrent;
using System.Net;

namespace Ghostie.Sync.Testing;

/// <summary>A failure a <see cref="FaultInjectingHandler"/> produces instead of (or before) the real request.</summary>
public abstract record Fault
{
    /// <summary>Answers with <paramref name="status"/> without reaching the server, with optional headers.</summary>
    /// <param name="status">The status code.</param>
    /// <param name="headers">Headers to add (for example Retry-After).</param>
    public static Fault Status(HttpStatusCode status, params (string Name, string Value)[] headers) => new StatusFault(status, headers);

    /// <summary>Throws as if the connection were reset by the peer.</summary>
    public static Fault Reset { get; } = new ResetFault();

    /// <summary>Never answers: waits until the request is cancelled (the attempt timeout).</summary>
    public static Fault Hang { get; } = new HangFault();
}

/// <summary>An HTTP status answer.</summary>
/// <param name="Code">The status.</param>
/// <param name="Headers">Extra headers.</param>
public sealed record StatusFault(HttpStatusCode Code, (string Name, string Value)[] Headers) : Fault;

/// <summary>A reset connection.</summary>
public sealed record ResetFault : Fault;

/// <summary>A request that never completes.</summary>
public sealed record HangFault : Fault;

/// <summary>
/// A message handler placed between a backend and the real server: it fails the next requests as scripted
/// (status codes, reset connections, hangs) and passes the rest through, counting everything. Backends under
/// test must let tests insert it (an HttpMessageHandler option, or the SDK's HTTP client factory).
/// </summary>
public sealed class FaultInjectingHandler : DelegatingHandler
{
    private readonly ConcurrentQueue<Fault> _next = new();
    private Fault? _always;
    private int _requests;
    private int _faulted;

    /// <summary>Creates the handler over a fresh <see cref="SocketsHttpHandler"/>.</summary>
    public FaultInjectingHandler()
        : base(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
    {
    }

    /// <summary>Creates the handler over <paramref name="inner"/>.</summary>
    /// <param name="inner">The handler that reaches the server.</param>
    public FaultInjectingHandler(HttpMessageHandler inner)
        : base(inner)
    {
    }

    /// <summary>Requests seen (faulted or passed through).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Requests answered with a fault.</summary>
    public int Faulted => Volatile.Read(ref _faulted);

    /// <summary>The method and path of every request seen, in order (no query string, no headers).</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Fails the next <paramref name="count"/> requests with <paramref name="fault"/>.</summary>
    /// <param name="count">How many requests.</param>
    /// <param name="fault">The failure.</param>
    public FaultInjectingHandler FailNext(int count, Fault fault)
    {
        for (int i = 0; i < count; i++)
        {
            _next.Enqueue(fault);
        }

        return this;
    }

    /// <summary>Fails every request with <paramref name="fault"/> until <see cref="Heal"/>.</summary>
    /// <param name="fault">The failure.</param>
    public FaultInjectingHandler FailAlways(Fault fault)
    {
        _always = fault;
        return this;
    }

    /// <summary>Stops failing requests.</summary>
    public void Heal()
    {
        _always = null;
        _next.Clear();
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        Log.Enqueue($"{request.Method} {request.RequestUri?.AbsolutePath}");
        Fault? fault = _next.TryDequeue(out Fault? queued) ? queued : _always;
        if (fault is null)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _faulted);
        switch (fault)
        {
            case StatusFault status:
                var response = new HttpResponseMessage(status.Code) { RequestMessage = request, Content = new StringContent("") };
                foreach ((string name, string value) in status.Headers)
                {
                    response.Headers.TryAddWithoutValidation(name, value);
                }

                return response;
            case ResetFault:
                throw new HttpRequestException(HttpRequestError.ConnectionError, "An error occurred while sending the request.",
                    new IOException("Connection reset by peer"));
            default:
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException("unreachable");
        }
    }
}

/// <summary>
/// A clock whose timers fire at once but remember how long they were asked to wait, so retry tests run in
/// milliseconds and still check the backoff and Retry-After waits exactly.
/// </summary>
public sealed class RecordingTimeProvider : TimeProvider
{
    /// <summary>Every finite wait requested, in order.</summary>
    public ConcurrentQueue<TimeSpan> Waits { get; } = new();

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            Waits.Enqueue(dueTime);
            ThreadPool.QueueUserWorkItem(_ => callback(state));
        }

        return new NoopTimer();
    }

    private sealed class NoopTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
