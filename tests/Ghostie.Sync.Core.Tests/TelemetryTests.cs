using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>Push, pull and sync report on the "Ghostie.Sync" ActivitySource and Meter, with the documented names and tags
/// (docs/observability.md), and never a memory's content in a tag.</summary>
public class TelemetryTests
{
    private const string Content = "telemetry-must-never-carry-this-content";

    [Fact]
    public async Task PushAsync_RecordsARunItsDurationBytesAndObjectsUp_AndAPushActivity()
    {
        using var cluster = new Cluster();
        var recording = new RecordingBackend(cluster.Storage);
        Device a = await cluster.AddDeviceAsync("alpha", recording);
        a.Add(Content + " one");
        a.Add(Content + " two");
        recording.Clear();
        using var capture = new TelemetryCapture();

        SyncResult result = await a.Manager.PushAsync();

        Assert.Equal(2, result.Uploaded);
        RecordedMeasurement run = Assert.Single(capture.Of("ghostie.sync.runs"));
        Assert.Equal(1, run.Value);
        Assert.Equal("push", run.Tag("ghostie.sync.operation"));
        Assert.Equal("success", run.Tag("ghostie.outcome"));
        Assert.Null(run.Tag("error.type"));
        RecordedMeasurement duration = Assert.Single(capture.Of("ghostie.sync.duration"));
        Assert.Equal("s", duration.Unit);
        Assert.Equal("push", duration.Tag("ghostie.sync.operation"));
        Assert.InRange(duration.Value, 0, 60);

        long stored = await recording.StoredBytesAsync(recording.Written);
        Assert.True(stored > 0);
        Assert.Equal(stored, capture.Of("ghostie.sync.bytes").Where(m => m.Tag("network.io.direction") == "transmit").Sum(m => m.Value));
        Assert.Equal(recording.Written.Count, capture.Of("ghostie.sync.objects").Where(m => m.Tag("network.io.direction") == "transmit").Sum(m => m.Value));
        Assert.Equal(recording.Read.Count(n => n.Found), capture.Of("ghostie.sync.objects").Where(m => m.Tag("network.io.direction") == "receive").Sum(m => m.Value));
        Assert.Empty(capture.Of("ghostie.sync.conflicts"));

        Activity push = Assert.Single(capture.Named("ghostie.sync.push"));
        Assert.Equal(ActivityStatusCode.Ok, push.Status);
        Assert.Equal("push", push.GetTagItem("ghostie.sync.operation"));
        Assert.Equal(2, push.GetTagItem("ghostie.sync.uploaded"));
        Assert.Equal(result.ObjectsWritten, push.GetTagItem("ghostie.sync.objects_written"));
        AssertNoContentIn(capture);
    }

    [Fact]
    public async Task PullAsync_RecordsAPullRunAndTheBytesDown_AndSyncAsyncCountsTheConflictsItFound()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("alpha");
        var recording = new RecordingBackend(cluster.Storage);
        Device b = await cluster.AddDeviceAsync("beta", recording);
        MemoryRecord shared = a.Add(Content);
        await a.SyncAsync();
        recording.Clear();

        using (var capture = new TelemetryCapture())
        {
            SyncResult pulled = await b.Manager.PullAsync();

            Assert.Equal(1, pulled.Downloaded);
            RecordedMeasurement run = Assert.Single(capture.Of("ghostie.sync.runs"));
            Assert.Equal("pull", run.Tag("ghostie.sync.operation"));
            Assert.Equal("pull", Assert.Single(capture.Of("ghostie.sync.duration")).Tag("ghostie.sync.operation"));
            long read = await recording.StoredBytesAsync(recording.Read.Where(r => r.Found).Select(r => r.Name).ToList());
            Assert.True(read > 0);
            Assert.Equal(read, capture.Of("ghostie.sync.bytes").Where(m => m.Tag("network.io.direction") == "receive").Sum(m => m.Value));
            Activity pull = Assert.Single(capture.Named("ghostie.sync.pull"));
            Assert.Equal(1, pull.GetTagItem("ghostie.sync.downloaded"));
            AssertNoContentIn(capture);
        }

        a.Edit(shared.Id, Content + " alpha");
        b.Edit(shared.Id, Content + " beta");
        await a.SyncAsync();
        using (var capture = new TelemetryCapture())
        {
            SyncResult synced = await b.SyncAsync();

            Assert.True(synced.NewConflicts > 0);
            RecordedMeasurement conflicts = Assert.Single(capture.Of("ghostie.sync.conflicts"));
            Assert.Equal(synced.NewConflicts, conflicts.Value);
            Assert.Equal("sync", conflicts.Tag("ghostie.sync.operation"));
            Assert.Equal("sync", Assert.Single(capture.Of("ghostie.sync.runs")).Tag("ghostie.sync.operation"));
            Assert.Equal(synced.NewConflicts, Assert.Single(capture.Named("ghostie.sync.sync")).GetTagItem("ghostie.sync.new_conflicts"));
            AssertNoContentIn(capture);
        }
    }

    [Fact]
    public async Task PushAsync_WhenTheBackendFails_RecordsAFailedRunWithTheErrorCode_AndAnErrorActivity()
    {
        using var cluster = new Cluster();
        var failing = new InstrumentedBackend(cluster.Storage);
        Device a = await cluster.AddDeviceAsync("alpha", failing);
        a.Add(Content);
        failing.Reset();
        failing.FailAt = 1;
        using var capture = new TelemetryCapture();

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => a.Manager.PushAsync());

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        RecordedMeasurement run = Assert.Single(capture.Of("ghostie.sync.runs"));
        Assert.Equal("failure", run.Tag("ghostie.outcome"));
        Assert.Equal("BackendUnavailable", run.Tag("error.type"));
        Assert.Equal("failure", Assert.Single(capture.Of("ghostie.sync.duration")).Tag("ghostie.outcome"));
        Activity push = Assert.Single(capture.Named("ghostie.sync.push"));
        Assert.Equal(ActivityStatusCode.Error, push.Status);
        Assert.Equal("BackendUnavailable", push.GetTagItem("error.type"));
        Assert.DoesNotContain("injected", push.StatusDescription ?? "", StringComparison.Ordinal); // the code, not the message
    }

    private static void AssertNoContentIn(TelemetryCapture capture)
    {
        IEnumerable<string?> values = capture.Measurements.SelectMany(m => m.Tags.Values.Select(v => v?.ToString()))
            .Concat(capture.Activities.SelectMany(a => a.TagObjects.Select(t => t.Value?.ToString())))
            .Concat(capture.Activities.Select(a => a.DisplayName + " " + a.StatusDescription));
        Assert.All(values, v => Assert.DoesNotContain("telemetry-must-never", v ?? "", StringComparison.Ordinal));
    }

    /// <summary>Records the names of the objects written and read through it.</summary>
    private sealed class RecordingBackend(IStorageBackend inner) : IStorageBackend
    {
        private readonly ConcurrentQueue<string> _written = new();
        private readonly ConcurrentQueue<(string Name, bool Found)> _read = new();

        public IReadOnlyList<string> Written => _written.ToList();
        public IReadOnlyList<(string Name, bool Found)> Read => _read.ToList();
        public string DisplayName => inner.DisplayName;

        public void Clear()
        {
            _written.Clear();
            _read.Clear();
        }

        /// <summary>The total size of the named objects as stored now.</summary>
        public async Task<long> StoredBytesAsync(IReadOnlyList<string> names)
        {
            long total = 0;
            foreach (string name in names)
            {
                await using Stream? stream = await inner.GetAsync(name);
                Assert.NotNull(stream);
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy);
                total += copy.Length;
            }

            return total;
        }

        public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
        {
            await inner.PutAsync(name, content, cancellationToken);
            _written.Enqueue(name);
        }

        public async Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
        {
            Stream? stream = await inner.GetAsync(name, cancellationToken);
            _read.Enqueue((name, stream is not null));
            return stream;
        }

        public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (string name in inner.ListAsync(prefix, cancellationToken))
            {
                yield return name;
            }
        }

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}
