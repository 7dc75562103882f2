using System.Net;

namespace Ghostie.Sync.Backends.Dropbox.Internal;

/// <summary>An upload body streamed from a seekable source (never held whole in memory), content-hashed as it is sent, so
/// the hash can be compared with the stored file's.</summary>
internal sealed class HashingContent(Stream source, long length) : HttpContent
{
    /// <summary>The content hash of what was sent, once all of it was.</summary>
    public string? Hash { get; private set; }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var hasher = new ContentHasher();
        byte[] buffer = new byte[81920];
        long left = length;
        while (left > 0)
        {
            int read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("The content ended before its length; it changed while it was uploaded.");
            }

            hasher.Append(buffer.AsSpan(0, read));
            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            left -= read;
        }

        Hash = hasher.Finish();
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length1)
    {
        length1 = length;
        return true;
    }
}
