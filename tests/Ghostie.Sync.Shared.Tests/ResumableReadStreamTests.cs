namespace Ghostie.Sync.Shared.Tests;

public sealed class ResumableReadStreamTests
{
    private static readonly byte[] Data = [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 7))];

    /// <summary>Serves <see cref="Data"/> from an offset and breaks (IOException) after <c>breakAfter</c> bytes.</summary>
    private sealed class Piece(long offset, long breakAfter, Exception? failure = null) : Stream
    {
        private long _served;

        public bool Disposed { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _served; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long o, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int o, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int o, int count)
        {
            if (_served >= breakAfter)
            {
                throw failure ?? new IOException("connection reset (test)");
            }

            int n = (int)Math.Min(Math.Min(count, breakAfter - _served), Data.Length - offset - _served);
            Array.Copy(Data, offset + _served, buffer, o, n);
            _served += n;
            return n;
        }

        // Ignores the token, like a socket read that fails because the connection broke.
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            byte[] bytes = new byte[buffer.Length];
            int n = Read(bytes, 0, bytes.Length);
            bytes.AsSpan(0, n).CopyTo(buffer.Span);
            return ValueTask.FromResult(n);
        }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    private sealed class Owner : IDisposable
    {
        public int Disposals { get; private set; }

        public void Dispose() => Disposals++;
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream, bool sync = false)
    {
        var copy = new MemoryStream();
        byte[] buffer = new byte[64];
        int read;
        while ((read = sync ? stream.Read(buffer, 0, buffer.Length) : await stream.ReadAsync(buffer)) > 0)
        {
            copy.Write(buffer, 0, read);
        }

        return copy.ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Breaks_AreResumedFromTheOffsetReached_AndTheBytesJoinExactly(bool sync)
    {
        var offsets = new List<long>();
        var owners = new List<Owner>();
        var first = new Owner();
        await using var stream = new ResumableReadStream(new Piece(0, 300), first, Data.Length, (offset, _) =>
        {
            offsets.Add(offset);
            var owner = new Owner();
            owners.Add(owner);
            return Task.FromResult<(Stream, IDisposable?)>((new Piece(offset, 250), owner));
        }, maxResumes: 5);

        Assert.Equal(Data, await ReadAllAsync(stream, sync));

        Assert.Equal([300L, 550L, 800L], offsets);
        Assert.Equal(3, stream.Resumes);
        Assert.Equal(1, first.Disposals); // released when the first break was resumed
        Assert.Equal([1, 1, 0], owners.Select(o => o.Disposals));
        await stream.DisposeAsync();
        Assert.Equal(1, owners[^1].Disposals);
    }

    [Fact]
    public async Task MoreBreaksThanAllowed_SurfaceTheLastBreak()
    {
        int reopened = 0;
        await using var stream = new ResumableReadStream(new Piece(0, 100), null, Data.Length, (offset, _) =>
        {
            reopened++;
            return Task.FromResult<(Stream, IDisposable?)>((new Piece(offset, 100), null));
        }, maxResumes: 2);

        await Assert.ThrowsAsync<IOException>(() => ReadAllAsync(stream));
        Assert.Equal(2, reopened);
        Assert.Equal(2, stream.Resumes);
    }

    [Fact]
    public async Task WithoutReopen_ABreakIsReportedAsItHappened()
    {
        await using var stream = new ResumableReadStream(new Piece(0, 100), null, Data.Length, reopen: null, maxResumes: 5);

        var error = await Assert.ThrowsAsync<IOException>(() => ReadAllAsync(stream));
        Assert.Contains("connection reset (test)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABreakAfterTheLastByte_EndsTheStream_WithoutAnotherRequest()
    {
        int reopened = 0;
        await using var stream = new ResumableReadStream(new Piece(0, Data.Length), null, Data.Length, (offset, _) =>
        {
            reopened++;
            return Task.FromResult<(Stream, IDisposable?)>((new Piece(offset, Data.Length), null));
        }, maxResumes: 5);

        Assert.Equal(Data, await ReadAllAsync(stream));
        Assert.Equal(0, reopened);
    }

    [Fact]
    public async Task ABreakAfterCancellation_IsNotResumed()
    {
        using var cts = new CancellationTokenSource();
        int reopened = 0;
        await using var stream = new ResumableReadStream(new Piece(0, 100), null, Data.Length, (offset, _) =>
        {
            reopened++;
            return Task.FromResult<(Stream, IDisposable?)>((new Piece(offset, Data.Length), null));
        }, maxResumes: 5);
        byte[] buffer = new byte[200];
        await stream.ReadExactlyAsync(buffer.AsMemory(0, 100));

        await cts.CancelAsync();
        await Assert.ThrowsAsync<IOException>(async () => await stream.ReadExactlyAsync(buffer.AsMemory(0, 1), cts.Token));
        Assert.Equal(0, reopened);
        await stream.ReadExactlyAsync(buffer.AsMemory(0, 1)); // not cancelled: resumed
        Assert.Equal(1, reopened);
        Assert.Equal(Data[100], buffer[0]);
    }

    [Fact]
    public async Task AFailedReopen_PropagatesItsError()
    {
        await using var stream = new ResumableReadStream(new Piece(0, 100), null, Data.Length,
            (_, _) => throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, "replaced meanwhile (test)", isTransient: true), maxResumes: 5);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => ReadAllAsync(stream));
        Assert.Contains("replaced meanwhile", error.Message, StringComparison.Ordinal);
    }
}
