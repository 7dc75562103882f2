using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using T = Ghostie.Sync.GhostieSyncTelemetry;

namespace Ghostie.Sync.Internal;

/// <summary>
/// The sync manager's activities and instruments (names in <see cref="GhostieSyncTelemetry"/>, docs/observability.md).
/// The source and meter are process-wide, as the BCL's own are: a listener enables them by name, and when nobody
/// listens, starting an activity returns null and recording a measurement costs a branch.
/// </summary>
internal static class SyncTelemetry
{
    private static readonly string? Version = typeof(SyncTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    internal static readonly ActivitySource Source = new(T.ActivitySourceName, Version);

    private static readonly Meter Meter = new(T.MeterName, Version);

    private static readonly Counter<long> Runs = Meter.CreateCounter<long>(T.Instruments.SyncRuns, "{run}", "Push, pull and sync runs of a sync manager.");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(T.Instruments.SyncDuration, "s", "How long a push, pull or sync took.");

    internal static readonly Counter<long> Bytes = Meter.CreateCounter<long>(T.Instruments.SyncBytes, "By", "Bytes a sync manager sent to storage (transmit) and received from it (receive).");

    internal static readonly Counter<long> Objects = Meter.CreateCounter<long>(T.Instruments.SyncObjects, "{object}", "Objects a sync manager wrote to storage (transmit) and read from it (receive).");

    private static readonly Counter<long> Conflicts = Meter.CreateCounter<long>(T.Instruments.SyncConflicts, "{conflict}", "New conflicts detected by push, pull and sync runs.");

    internal static readonly KeyValuePair<string, object?> Transmit = new(T.Tags.Direction, "transmit");
    internal static readonly KeyValuePair<string, object?> Receive = new(T.Tags.Direction, "receive");

    /// <summary>Runs one push, pull or sync inside its activity, and records the run, its duration and its conflicts.</summary>
    /// <param name="operation"><c>push</c>, <c>pull</c> or <c>sync</c>.</param>
    /// <param name="run">The run.</param>
    public static async Task<SyncResult> RunAsync(string operation, Func<Task<SyncResult>> run)
    {
        string name = operation switch { "push" => T.Activities.Push, "pull" => T.Activities.Pull, _ => T.Activities.Sync };
        using Activity? activity = Source.StartActivity(name, ActivityKind.Internal);
        activity?.SetTag(T.Tags.SyncOperation, operation);
        long started = Stopwatch.GetTimestamp();
        var tags = new TagList { { T.Tags.SyncOperation, operation } };
        try
        {
            SyncResult result = await run().ConfigureAwait(false);
            tags.Add(T.Tags.Outcome, "success");
            if (result.NewConflicts > 0)
            {
                Conflicts.Add(result.NewConflicts, new KeyValuePair<string, object?>(T.Tags.SyncOperation, operation));
            }

            if (activity is not null)
            {
                activity.SetTag("ghostie.sync.uploaded", result.Uploaded);
                activity.SetTag("ghostie.sync.downloaded", result.Downloaded);
                activity.SetTag("ghostie.sync.new_conflicts", result.NewConflicts);
                activity.SetTag("ghostie.sync.objects_read", result.ObjectsRead);
                activity.SetTag("ghostie.sync.objects_written", result.ObjectsWritten);
                activity.SetTag("ghostie.sync.problems", result.Problems.Count);
                activity.SetStatus(ActivityStatusCode.Ok);
            }

            return result;
        }
        catch (Exception ex)
        {
            string error = ErrorType(ex);
            tags.Add(T.Tags.Outcome, "failure");
            tags.Add(T.Tags.ErrorType, error);
            if (activity is not null)
            {
                activity.SetTag(T.Tags.ErrorType, error);
                activity.SetStatus(ActivityStatusCode.Error, error); // the code only: messages name files and objects
            }

            throw;
        }
        finally
        {
            Runs.Add(1, tags);
            Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        }
    }

    /// <summary>OpenTelemetry's <c>error.type</c>: the error code of a Ghostie error, else the exception's type name.</summary>
    internal static string ErrorType(Exception ex) => ex switch
    {
        GhostieSyncException ghostie => ghostie.Code.ToString(),
        OperationCanceledException => "Cancelled",
        _ => ex.GetType().Name,
    };

    /// <summary>Wraps a manager's backend so that the objects and bytes it moves are counted; the backend's
    /// optional capability (<see cref="IConditionalStorageBackend"/>) stays visible through the wrapper.</summary>
    public static IStorageBackend Observe(IStorageBackend backend) => backend switch
    {
        ObservedBackend => backend,
        IConditionalStorageBackend conditional => new ObservedConditionalBackend(conditional),
        _ => new ObservedBackend(backend),
    };

    private class ObservedBackend(IStorageBackend inner) : IStorageBackend
    {
        public string DisplayName => inner.DisplayName;

        public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
        {
            (Stream sent, Func<long> bytes) = Measure(content);
            await inner.PutAsync(name, sent, cancellationToken).ConfigureAwait(false);
            Written(bytes());
        }

        public async Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
        {
            Stream? stream = await inner.GetAsync(name, cancellationToken).ConfigureAwait(false);
            if (stream is null)
            {
                return null;
            }

            Objects.Add(1, Receive);
            return new CountingReadStream(stream);
        }

        public IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);

        /// <summary>The stream to hand to the backend and how to learn what it sent: the remaining length of a
        /// seekable stream, else a count of what the backend read.</summary>
        protected static (Stream Stream, Func<long> Bytes) Measure(Stream content)
        {
            if (content.CanSeek)
            {
                long remaining = content.Length - content.Position;
                return (content, () => remaining);
            }

            var counting = new CountingReadStream(content, recordOnDispose: false, leaveOpen: true);
            return (counting, () => counting.BytesRead);
        }

        protected static void Written(long bytes)
        {
            Objects.Add(1, Transmit);
            Bytes.Add(bytes, Transmit);
        }
    }

    private sealed class ObservedConditionalBackend(IConditionalStorageBackend inner) : ObservedBackend(inner), IConditionalStorageBackend
    {
        public async Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default)
        {
            (Stream sent, Func<long> bytes) = Measure(content);
            bool created = await inner.TryCreateAsync(name, sent, cancellationToken).ConfigureAwait(false);
            if (created)
            {
                Written(bytes());
            }

            return created;
        }

        public Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default) => inner.GetVersionAsync(name, cancellationToken);

        public async Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default)
        {
            (Stream sent, Func<long> bytes) = Measure(content);
            bool replaced = await inner.TryReplaceAsync(name, sent, expectedVersion, cancellationToken).ConfigureAwait(false);
            if (replaced)
            {
                Written(bytes());
            }

            return replaced;
        }
    }

    /// <summary>Forwards reads and counts the bytes; records them as received when disposed (once per object, not per read).</summary>
    private sealed class CountingReadStream(Stream inner, bool recordOnDispose = true, bool leaveOpen = false) : Stream
    {
        private int _disposed;

        public long BytesRead { get; private set; }

        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override int ReadByte()
        {
            int value = inner.ReadByte();
            if (value >= 0)
            {
                BytesRead++;
            }

            return value;
        }

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void Flush() => inner.Flush();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Record();
                if (!leaveOpen)
                {
                    inner.Dispose();
                }
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Record();
                if (!leaveOpen)
                {
                    await inner.DisposeAsync().ConfigureAwait(false);
                }
            }

            await base.DisposeAsync().ConfigureAwait(false);
        }

        private void Record()
        {
            if (recordOnDispose && BytesRead > 0)
            {
                Bytes.Add(BytesRead, Receive);
            }
        }

        private int Count(int read)
        {
            BytesRead += read;
            return read;
        }
    }
}
