using System.Runtime.CompilerServices;

namespace Ghostie.Sync.Tests;

/// <summary>
/// A failure to write the Ghostie home (a full disk, a read-only or foreign-owned home) is a local error, told apart
/// from the repository's failures: it stops the operation with <see cref="GhostieErrorCode.LocalStorageFailure"/>,
/// naming the home and what to do, and loses nothing. Faults are injected (no disk is really filled).
/// </summary>
public class LocalFailureTests
{
    private const int Enospc = 28;

    private static IOException DiskFull(string path) => new($"No space left on device : '{path}'", Enospc);

    [Fact]
    public async Task Pull_LocalDiskFullWritingMemories_ThrowsLocalStorageFailureNamingTheHome_NotABackendProblem()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        for (int i = 0; i < 3; i++)
        {
            a.Add($"memory {i}");
        }

        await a.SyncAsync();
        b.Manager.LocalWriteFault = path => path.StartsWith(b.Home.MemoriesPath, StringComparison.Ordinal) ? DiskFull(path) : null;

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => b.Manager.PullAsync());

        Assert.Equal(GhostieErrorCode.LocalStorageFailure, error.Code);
        Assert.Contains(b.Home.Root, error.Message, StringComparison.Ordinal);
        Assert.Contains("full", error.Message, StringComparison.Ordinal);
        Assert.Contains("free space", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);

        b.Manager.LocalWriteFault = null; // space freed
        SyncResult retry = await b.Manager.PullAsync();
        Assert.True(retry.Success, string.Join("; ", retry.Problems.Select(p => p.Message)));
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }

    [Fact]
    public async Task Sync_StateCannotBeSaved_ThrowsLocalStorageFailure_AndTheLocalChangeIsPushedLater()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("written before the disk filled");
        a.Manager.LocalWriteFault = path => path == a.Home.StatePath ? new UnauthorizedAccessException($"Access to the path '{path}' is denied.") : null;

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => a.Manager.SyncAsync());

        Assert.Equal(GhostieErrorCode.LocalStorageFailure, error.Code);
        Assert.Contains("permission", error.Message, StringComparison.Ordinal);
        Assert.Contains(a.Home.Root, error.Message, StringComparison.Ordinal);

        a.Manager.LocalWriteFault = null;
        Assert.True((await a.SyncAsync()).Success);
        await b.SyncAsync();
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Single(b.Snapshot());
    }

    [Fact]
    public async Task Pull_RepositoryStreamFailsMidRead_IsStillABackendProblem_NotALocalError()
    {
        var shared = new InMemoryStorageBackend();
        using var cluster = new Cluster(shared);
        Device a = await cluster.AddDeviceAsync("a");
        var flaky = new BreakingReadsBackend(shared);
        Device b = await cluster.AddDeviceAsync("b", through: flaky);
        a.Add("one");
        await a.SyncAsync();
        flaky.BreakReads = true;

        SyncResult result = await b.Manager.PullAsync();

        SyncProblem problem = Assert.Single(result.Problems);
        Assert.Equal(GhostieErrorCode.BackendUnavailable, problem.Code);
        flaky.BreakReads = false;
        Assert.True((await b.Manager.PullAsync()).Success);
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }
}

/// <summary>A backend whose object streams fail part-way (a connection reset) while <see cref="BreakReads"/> is set.</summary>
internal sealed class BreakingReadsBackend(IStorageBackend inner) : IStorageBackend
{
    public bool BreakReads { get; set; }

    public string DisplayName => "breaking " + inner.DisplayName;

    public Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default) => inner.PutAsync(name, content, cancellationToken);

    public async Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        Stream? stream = await inner.GetAsync(name, cancellationToken);
        return stream is null || !BreakReads ? stream : new BreakingStream(stream);
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (string name in inner.ListAsync(prefix, cancellationToken))
        {
            yield return name;
        }
    }

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);

    private sealed class BreakingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("Connection reset by peer");
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw new IOException("Connection reset by peer");
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => throw new IOException("Connection reset by peer");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
